/**
 * The domain records: what the state store keeps and every floor talks about. Plain data, typed;
 * the store converts them to and from its columns (JSON text exists only inside state/), the API
 * converts them to Docker's JSON (api/dto/).
 */
import { ContainerSpec } from './container-spec';
import { Proto } from './port-spec';

export type ContainerStatus = 'created' | 'running' | 'exited' | 'removing';

export interface Container {
  id: string;
  name: string;
  imageId: string;
  /** the reference the user gave (busybox, busybox:latest, an id) */
  image: string;
  spec: ContainerSpec;
  status: ContainerStatus;
  pid: number;
  exitCode: number;
  error: string;
  /** ISO times */
  created: string;
  startedAt?: string;
  finishedAt?: string;
  /** frozen by `pause` (it stays running) */
  paused?: boolean;
}

export interface Network {
  id: string;
  name: string;
  /** bridge | overlay | host | null */
  driver: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  /** the Linux bridge holding the network's ports (bridge and overlay drivers) */
  bridge?: string;
  internal: boolean;
  /** driver options as Docker names them (com.docker.network.*) */
  options: Record<string, string>;
  labels: Record<string, string>;
  created: string;
}

/** A container's attachment to a network; the record is also the lease of its address. */
export interface Endpoint {
  id: string;
  containerId: string;
  networkId: string;
  /** name inside the sandbox: eth0, eth1, … */
  ifName: string;
  /** host end of the veth pair */
  hostIf: string;
  ip: string;
  mac: string;
  aliases: string[];
}

/** One published port: HOST_IP:HOST_PORT/proto → CONTAINER_IP:CONTAINER_PORT; hostIp "0.0.0.0" = every address. */
export interface PortMapping {
  proto: Proto;
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

/** A published port as recorded: the mapping and the container it belongs to. */
export interface PublishedPort extends PortMapping {
  containerId: string;
}

export interface ImageRecord {
  id: string;
  created: string;
  size: number;
  comment: string;
  /** the image this one is a layer on (commit); absent: a base image */
  parent?: string;
  /** what an image made here (commit) says of itself; absent for imported root filesystems */
  details?: ImageDetails;
}

/**
 * The defaults a container takes from its image, as a commit records them (Docker's image
 * `config`; the field names are those of issue 17's ImageConfig, of which this is a part).
 */
export interface CommitConfig {
  user: string;
  exposedPorts: string[];
  env: string[];
  /** null: not set */
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir: string;
  volumes: string[];
  labels: Record<string, string>;
  stopSignal: string;
}

export interface ImageDetails {
  author: string;
  /** the container it was committed from */
  container: string;
  config: CommitConfig;
  /** that container's own config (Docker's container_config) */
  containerConfig: CommitConfig;
  /** the digest of this image's own layer (the uncompressed tar), for RootFS.Layers */
  diffId: string;
}

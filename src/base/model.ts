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
}

export interface Network {
  id: string;
  name: string;
  /** bridge | overlay | macvlan | ipvlan | host | null */
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
  /** IPAM's auxiliary addresses (name → address, `--aux-address`): excluded from allocation */
  auxAddresses?: Record<string, string>;
  /** IPAM's options as the request gave them (inspect shows them; null when none were given) */
  ipamOptions?: Record<string, string>;
  /** a link the driver made for this network and removes with it (a macvlan's 802.1Q sub-interface or dummy parent) */
  createdLink?: string;
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
}

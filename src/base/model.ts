/**
 * The domain records: what the state store keeps and every floor talks about. Plain data, typed;
 * the store converts them to and from its columns (JSON text exists only inside state/), the API
 * converts them to Docker's JSON (api/dto/).
 */
import { ContainerSpec } from './container-spec';
import { HealthState } from './health';
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
  /** restarts by its restart policy since the last start by a user */
  restartCount?: number;
  /** stopped or killed through the API (Docker's HasBeenManuallyStopped): unless-stopped stays down */
  manuallyStopped?: boolean;
  /** its last run ended with the kernel's OOM killer in its cgroup */
  oomKilled?: boolean;
  /** the health check's state (containers with a health check) */
  health?: HealthState;
  /** the addresses of its last run, by network id (IPv6 ones by lastAddress6Key): the next start asks for them again */
  lastAddresses?: Record<string, string>;
}

/** The key of a network's IPv6 address in `Container.lastAddresses` (the network id is the IPv4 one's). */
export const lastAddress6Key = (networkId: string): string => `${networkId}/6`;

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
  /** IPv6 (EnableIPv6): the network's IPv6 subnet, gateway and range; absent on a network without IPv6 */
  subnet6?: string;
  gateway6?: string;
  ipRange6?: string;
  /** false: no IPv4 (`--ipv4=false`, an IPv6-only network: no subnet, gateway or range); absent: IPv4 on */
  ipv4?: false;
  /** Docker's Attachable: containers may join it with `docker run --network` (a swarm's overlay) */
  attachable?: true;
  /** Docker's Ingress: the swarm's routing-mesh network (one at most) */
  ingress?: true;
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
  /** the IPv4 address; "" on a network without IPv4 */
  ip: string;
  mac: string;
  aliases: string[];
  /** the IPv6 address, on a network with IPv6 */
  ip6?: string;
}

/**
 * One published port: HOST_IP:HOST_PORT/proto → CONTAINER_IP:CONTAINER_PORT, of one family;
 * hostIp "0.0.0.0" = every IPv4 address, "::" = every IPv6 address. On a network whose IPv6
 * gateway mode is `routed` an IPv6 port is opened on the container's own address, not mapped:
 * hostIp and containerIp are then that address and hostPort the container's port.
 */
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
  /** the image it was made from (commit, import onto a base); empty for pulled and loaded images */
  parent?: string;
}

/** An unpacked layer, shared by every image that has it; its id is the digest of its uncompressed tar (diff id). */
export interface LayerRecord {
  diffId: string;
  /** bytes of its files (Docker's layer size) */
  size: number;
  /** bytes of its uncompressed tar (what `save` writes) */
  tarSize: number;
  created: string;
}

/** A blob kept for a layer (as pulled, or as loaded), by which it can be pushed and saved. */
export interface LayerBlobRecord {
  digest: string;
  diffId: string;
  mediaType: string;
  size: number;
}

/** A manifest an image was pulled or pushed by: its RepoDigests entry. */
export interface RepoDigestRecord {
  /** familiar repository name: busybox, localhost:5000/app */
  repo: string;
  digest: string;
  imageId: string;
  mediaType: string;
}

/** A volume of the `local` driver: its data is ROOT/volumes/NAME/_data. */
export interface Volume {
  name: string;
  driver: string;
  /** the driver's options (type, o, device); undefined when none were given */
  options?: Record<string, string>;
  /** undefined when none were given */
  labels?: Record<string, string>;
  /** named by ctrnet for one container (-v /path, an image's VOLUME): removed with it by rm -v */
  anonymous: boolean;
  /** ISO time */
  created: string;
}

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
  /** IPv6 (EnableIPv6): the network's IPv6 subnet, gateway and range; absent on a network without IPv6 */
  subnet6?: string;
  gateway6?: string;
  ipRange6?: string;
  /** false: no IPv4 (`--ipv4=false`, an IPv6-only network: no subnet, gateway or range); absent: IPv4 on */
  ipv4?: false;
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
}

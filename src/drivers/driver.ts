/**
 * The driver interface every network type implements. A driver turns a network record into kernel
 * objects (createNetwork/deleteNetwork) and an endpoint record into an interface inside a sandbox
 * (join/leave). `restore` re-ensures a network and its endpoints after a daemon restart.
 * All operations are idempotent; a failed join leaves nothing behind.
 */
import { PortMapping } from '../firewall/firewall';
import { Subnet } from '../ipam/ipam';

export interface NetworkInfo {
  id: string;
  name: string;
  driver: string;
  subnet?: Subnet;
  gateway?: string;
  ipRange?: Subnet;
  bridge?: string;
  internal: boolean;
  mtu: number;
  /** default-bridge only options of Docker (com.docker.network.bridge.*) parsed to a typed form */
  icc: boolean;
}

export interface EndpointInfo {
  id: string;
  containerId: string;
  ifName: string;
  hostIf: string;
  ip: string;
  mac: string;
}

export interface JoinRequest {
  network: NetworkInfo;
  endpoint: EndpointInfo;
  /** the sandbox: a bind-mounted network namespace path */
  sandbox: string;
  /** the first network of a container holds its default route */
  defaultRoute: boolean;
  ports: PortMapping[];
  /**
   * leave() only: the sandbox is deleted right after, and its links go with it. The driver then
   * leaves the veth to the kernel, which destroys a namespace's links in the background: deleting
   * a veth by hand waits for an RCU grace period (~25 ms), the bulk of a teardown.
   */
  sandboxGoing?: boolean;
}

export interface NetworkDriver {
  readonly name: string;
  /** Checks a network's settings before anything is applied. */
  validate(net: NetworkInfo): Promise<void>;
  createNetwork(net: NetworkInfo): Promise<void>;
  deleteNetwork(net: NetworkInfo): Promise<void>;
  join(req: JoinRequest): Promise<void>;
  leave(req: JoinRequest): Promise<void>;
  /** After a restart: re-ensures the network and repairs what is missing of its endpoints. */
  restore(net: NetworkInfo, endpoints: JoinRequest[]): Promise<void>;
}

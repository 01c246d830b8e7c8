/**
 * The driver interface every network type implements. A driver turns a network record into kernel
 * objects (createNetwork/deleteNetwork) and an endpoint record into an interface inside a sandbox
 * (join/leave). `restore` re-ensures a network and its endpoints after a daemon restart.
 * All operations are idempotent; a failed join leaves nothing behind.
 */
import { PortMapping } from '../firewall/firewall';
import { Subnet } from '../ipam/ipam';
import { Kernel, KernelError } from '../kernel/kernel';

/** Deletes a link; one that is already gone is not an error (deletes are idempotent). */
export async function removeLink(kernel: Kernel, name: string): Promise<void> {
  await kernel
    .batch()
    .linkDel(name)
    .commit()
    .catch((e) => {
      if (!(e instanceof KernelError && e.errno === 'ENOENT')) throw e;
    });
}

/** How long a dying namespace has to take its veth with it before the veth is removed by hand. */
const LEFT_TO_KERNEL_MS = 2000;

/**
 * After leave() with sandboxGoing: the kernel normally destroys the veth with its namespace within
 * milliseconds. If something still holds the namespace (a process that outlived its container,
 * an outside nsenter), the veth would stay on the bridge: remove it later, off the hot path. Host
 * interface names come from random endpoint ids, so this can never hit a newer endpoint's veth.
 */
export function removeLater(kernel: Kernel, hostIf: string): void {
  setTimeout(() => {
    removeLink(kernel, hostIf).catch(() => {
      // anything but "gone with its namespace" is found by the next reconcile
    });
  }, LEFT_TO_KERNEL_MS).unref();
}

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

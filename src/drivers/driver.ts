/**
 * The driver interface every network type implements, host and null included. What differs
 * between network types is the driver's answer, never an `if` in core/:
 *   - validation of a create request and the settled network (subnet, gateway, kernel names);
 *   - where networks and address leases are kept: the local store only (bridge), or cluster-wide
 *     first (overlay: etcd, so two hosts never take the same name, VNI or address);
 *   - the kernel objects of a network (createNetwork/deleteNetwork) and of an endpoint inside a
 *     sandbox (join/leave), and their repair after a restart (restore);
 *   - the way out of a network: itself (a bridge with masquerade), another network (an overlay's
 *     gateway bridge), or none (internal networks, host, null);
 *   - what other hosts have on the network (for DNS and the topology).
 * All operations are idempotent; a failed create or join leaves nothing behind.
 *
 * This is more than STYLE.md's six methods (validate, create, delete, join, leave, restore): the
 * address scope, the way out and the remote endpoints are the three questions core/ used to
 * answer by testing `driver === 'overlay'`; they are here so that it no longer does.
 */
import { Endpoint, Network, PortMapping } from '../base/model';
import { OPT_MTU } from '../base/network-options';
import { EndpointPort } from '../firewall/firewall';
import { Batch, Kernel, KernelError } from '../kernel/kernel';
import { Subnet } from '../ipam/ipam';
import { linkLocalOf } from '../ipam/ipam6';
import { Taken6 } from '../ipam/pools6';
import { Peer } from '../state/cluster-store';
import { EndpointDraft, Picked } from '../state/repos';

/** What a user asks for in `network create`, with the id core chose for it. */
export interface NetworkRequest {
  id: string;
  name: string;
  driver: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  /** IPAM's auxiliary addresses (name → address): never given to a container */
  auxAddresses?: Record<string, string>;
  /** IPAM's options as given (kept for inspect) */
  ipamOptions?: Record<string, string>;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  /** EnableIPv6 (`--ipv6`); an IPv6 subnet given implies it */
  ipv6?: boolean;
  /** the IPv6 subnet, gateway and range asked for (absent: from the pools) */
  subnet6?: string;
  gateway6?: string;
  ipRange6?: string;
  /** EnableIPv4: false for an IPv6-only network (`--ipv4=false`); absent: true */
  ipv4?: boolean;
  /** Docker's Attachable and Ingress flags (kept and shown by inspect) */
  attachable?: boolean;
  ingress?: boolean;
  /** Docker's Scope asked for (local, swarm, global): it must be the driver's */
  scope?: string;
}

/** An IPv6 subnet that a new network must not overlap, and what holds it (a route of the host: its device). */
export type TakenSubnet6 = Taken6 & { dev?: string };

/** A subnet that a new network must not overlap, and what holds it (for the error message). */
export interface TakenSubnet {
  what: string;
  subnet: Subnet;
  /** a route of the host: its device (a macvlan network may share its parent's subnet) */
  dev?: string;
}

export interface JoinRequest {
  network: Network;
  endpoint: Endpoint;
  /** the container's name: other hosts' resolvers learn it with the endpoint (overlay) */
  containerName: string;
  /** the sandbox: a bind-mounted network namespace path */
  sandbox: string;
  /** this endpoint holds the container's default route */
  defaultRoute: boolean;
  /** this endpoint holds the IPv6 default route (absent: as defaultRoute) */
  defaultRoute6?: boolean;
  /** the sandbox has IPv6 on: an interface of a network without IPv6 turns it off before it comes up */
  sandboxIpv6?: boolean;
  /** published ports DNATed to this endpoint */
  ports: PortMapping[];
  /** extra link-local addresses for the interface (--link-local-ip: IPv4 169.254/16 or IPv6 fe80::/64) */
  linkLocal?: string[];
  /**
   * leave() only: the sandbox is deleted right after, and its links go with it. The driver then
   * leaves the veth to the kernel, which destroys a namespace's links in the background: deleting
   * a veth by hand waits for an RCU grace period (~25 ms), the bulk of a teardown.
   */
  sandboxGoing?: boolean;
  /**
   * The runtime moves the container's end into its sandbox itself (Docker's remote driver API:
   * the plugin answers the name, dockerd moves it, renames it and sets its address and routes).
   * The driver then makes both ends in the host's namespace (the container's end under
   * `endpoint.ifName`, with the endpoint's MAC) and configures nothing inside.
   */
  runtimeMoves?: boolean;
}

/** How containers on a network reach other networks and the outside. */
export type WayOut =
  /**
   * through this network's own gateway: it holds the default route and the published ports
   * (`publishes: false`: it cannot publish ports, a macvlan's containers being on the parent's network)
   */
  | { kind: 'self'; publishes?: false }
  /** through a second interface on a local network made on demand (an overlay's gateway bridge) */
  | { kind: 'via'; network: Omit<NetworkRequest, 'id'> }
  /** none: internal networks, host and null */
  | { kind: 'none' };

/** An endpoint of the network on another host (overlay), as this host knows it. */
export type RemoteEndpoint = Omit<Peer, 'networkId'>;

/** Kernel objects of a network beyond bridges and veths, read back for `explain`. */
export interface VxlanFacts {
  device: string;
  vni: number;
  fdb: { mac: string; dst: string }[];
  neighbours: { ip: string; mac: string }[];
}

/** A network and its endpoints on this host, for restore(). */
export interface RestoreSet {
  network: Network;
  endpoints: JoinRequest[];
}

export interface NetworkDriver {
  readonly name: string;
  /** Docker's Scope: local, or swarm for a network shared by the hosts of a cluster */
  readonly scope: 'local' | 'swarm';
  /** false for host and null: a container on them has no endpoint of its own */
  readonly endpoints: boolean;
  /** for a driver without endpoints: the network mode its containers are in (host: the daemon's namespace; none: only lo) */
  readonly mode?: 'host' | 'none';
  /** whether its containers get the embedded resolver (127.0.0.11 in the sandbox) and its names (user-defined networks, not the default bridge) */
  servesDns(net: Network): boolean;

  /**
   * Creates a network: checks the request (options, subnet, gateway, names) against the subnets
   * already `taken`, settles what was left out (a subnet from the pools), records it (a cluster
   * first, then the local store) and builds what it needs in the kernel. All or nothing.
   */
  createNetwork(req: NetworkRequest, taken: TakenSubnet[], taken6?: TakenSubnet6[]): Promise<Network>;
  /**
   * Removes a network that has no local endpoints: kernel objects and records. A cluster-scoped
   * driver refuses (NETWORK_IN_USE) while another host has endpoints on it.
   */
  deleteNetwork(net: Network): Promise<void>;
  /** Leases the endpoint's addresses (IPv4, IPv6) in the driver's scope and records the endpoint: all or nothing. */
  lease(net: Network, draft: EndpointDraft, pick: (used: Set<string>) => Picked): Promise<Endpoint>;
  /** Frees the endpoint's record and address (in every scope it was leased in). */
  release(net: Network, ep: Endpoint): Promise<void>;
  /** Builds the endpoint's interface in the sandbox (and announces it, cluster-scoped). */
  join(req: JoinRequest): Promise<void>;
  leave(req: JoinRequest): Promise<void>;
  /**
   * After a restart: re-ensures every network of this driver and repairs its endpoints; removes
   * kernel objects of this driver that none of them explains (stale veths, devices of removed networks).
   */
  restore(sets: RestoreSet[]): Promise<void>;
  wayOut(net: Network): WayOut;
  /** endpoints of the network on other hosts (empty for local drivers) */
  remotes(net: Network): RemoteEndpoint[];
  /** extra kernel facts for `explain` (the overlay's VXLAN device), read from the kernel */
  describe(net: Network): Promise<VxlanFacts | undefined>;
}

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

/** The MTU a network's interfaces get: its option, or the driver's default. */
export function mtuOf(net: Network, fallback: number): number {
  return net.options[OPT_MTU] ? Number(net.options[OPT_MTU]) : fallback;
}

/**
 * What the anti-spoofing sets hold for an endpoint: its MAC, IPv4 address, and its IPv6 ones
 * (the global, the link-local the kernel makes from its MAC, and any --link-local-ip).
 */
export function endpointPort(ep: Endpoint, linkLocal: readonly string[] = []): EndpointPort {
  if (!ep.ip6) return { port: ep.hostIf, ip: ep.ip, mac: ep.mac };
  return { port: ep.hostIf, ip: ep.ip, mac: ep.mac, ip6: [ep.ip6, linkLocalOf(ep.mac), ...linkLocal.filter((a) => a.includes(':'))] };
}

/** An IPv4 or IPv6 link-local address with its prefix (169.254.0.0/16, fe80::/64). */
const linkLocalCidr = (ip: string): string => `${ip}/${ip.includes(':') ? 64 : 16}`;
const prefixOf = (cidr: string | undefined): number => Number(cidr?.split('/')[1]);

/**
 * The endpoint's interface inside the sandbox, once it is there: lo and the interface up, its
 * IPv4 and IPv6 addresses (each with its network's prefix) and extra link-local ones, and the
 * routes the driver adds in the same batch. An interface without IPv6 in a sandbox that has IPv6
 * (the container's other networks do) gets IPv6 off first: it stays as quiet as in a sandbox
 * without IPv6.
 */
export async function addressInside(kernel: Kernel, req: JoinRequest, routes: (b: Batch) => void = () => {}): Promise<void> {
  const { network: net, endpoint: ep } = req;
  const inside = kernel.at(req.sandbox);
  if (req.sandboxIpv6 && !ep.ip6) await inside.sysctlSet(`net.ipv6.conf.${ep.ifName}.disable_ipv6`, '1');
  const b = inside.batch().linkSetUp('lo');
  if (ep.ip) b.addrReplace(ep.ifName, `${ep.ip}/${prefixOf(net.subnet)}`);
  if (ep.ip6) b.addrReplace(ep.ifName, `${ep.ip6}/${prefixOf(net.subnet6)}`);
  for (const ll of req.linkLocal ?? []) if (ll.includes(':') ? !!ep.ip6 : true) b.addrReplace(ep.ifName, linkLocalCidr(ll));
  b.linkSetUp(ep.ifName);
  routes(b);
  await b.commit();
}

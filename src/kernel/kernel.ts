/**
 * The kernel port: everything ctrnet asks of the Linux network stack (namespaces, links, addresses,
 * routes, sysctls), and the two mounts of a container's root filesystem. Drivers and the engine
 * use this interface only; the adapter is chosen in daemon/main.ts (NativeKernel, IpKernel; and
 * FakeKernel for unit tests). A Kernel is bound to one network namespace: the daemon's own, or a
 * sandbox's through `at(path)`. Writes are grouped in a Batch so that one operation is one
 * conversation with the kernel, whatever the adapter. Addresses, routes and neighbours take
 * IPv4 or IPv6 by the address's form; their reads take a family, 4 unless told.
 */

/** An address family, as `ip -4` / `ip -6` name it. */
export type Family = 4 | 6;

export interface LinkInfo {
  name: string;
  index: number;
  mtu: number;
  mac: string;
  up: boolean;
  kind?: string;
  master?: string;
}

/** A link's counters, as `ip -s link` shows them (the kernel's 64-bit statistics). */
export interface LinkStats {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

export interface AddrInfo {
  dev: string;
  address: string;
  prefixLen: number;
}

export interface RouteInfo {
  /** "default", a CIDR, or an address alone for a host route (as `ip route` prints them) */
  dst: string;
  dev?: string;
  gateway?: string;
}

/**
 * The errnos callers may test. EACCES: IPv6 is off on the device. EOPNOTSUPP: the kind of link
 * cannot do it (isolating a port that is in no bridge, deleting lo), or the kernel has no such kind
 * of link at all (ipvlan, vlan, dummy on a kernel built without them). ENETUNREACH / EHOSTUNREACH:
 * a route's gateway (IPv4 / IPv6) is not on a connected network. ENETDOWN: a route's device is down.
 */
export type KernelErrno = 'EEXIST' | 'ENOENT' | 'EBUSY' | 'EPERM' | 'EINVAL' | 'EADDRINUSE' | 'EACCES' | 'EOPNOTSUPP' | 'ENETUNREACH' | 'ENETDOWN' | 'EHOSTUNREACH' | 'UNKNOWN';

/** Kernel failures carry the errno the kernel reported, so callers never parse text. */
export class KernelError extends Error {
  constructor(
    message: string,
    readonly errno: KernelErrno,
    opts?: { cause?: unknown },
  ) {
    super(message, opts);
    this.name = 'KernelError';
  }
}

/** Docker's macvlan modes (`-o macvlan_mode=`), as the kernel names them */
export type MacvlanMode = 'bridge' | 'private' | 'vepa' | 'passthru';
/** Docker's ipvlan modes (`-o ipvlan_mode=`) and flags (`-o ipvlan_flag=`) */
export type IpvlanMode = 'l2' | 'l3' | 'l3s';
export type IpvlanFlag = 'bridge' | 'private' | 'vepa';

/** A link stacked on a parent (lower) device of this namespace, made in `netns` (a sandbox) when given. */
export interface SlaveOptions {
  mtu?: number;
  mac?: string;
  /** create the link directly inside this namespace (a bind-mounted netns path); its parent stays here */
  netns?: string;
}

export interface VethOptions {
  mtu: number;
  /** create the peer directly inside this namespace (a bind-mounted netns path) */
  peerNetns?: string;
  peerMac?: string;
  /** one rx/tx queue per end instead of one per CPU: cheaper to create (endpoint-floor.md) */
  singleQueue?: boolean;
}

/** Writes applied together, in order, stopping at the first failure. */
export interface Batch {
  /** Equivalent to: `ip link add NAME [address MAC] [mtu N] type bridge` */
  linkAddBridge(name: string, opts?: { mtu?: number; mac?: string }): this;
  /** Equivalent to: `ip link add NAME mtu M type veth peer name PEER [address MAC] [netns PATH]` */
  linkAddVeth(name: string, peer: string, opts: VethOptions): this;
  /**
   * Equivalent to: `ip link add NAME mtu M type vxlan id VNI local ADDR dstport PORT nolearning proxy`:
   * no learning and no flooding (peers are programmed), ARP answered from the neighbour table.
   */
  linkAddVxlan(name: string, opts: { vni: number; local: string; port: number; mtu: number }): this;
  /**
   * Equivalent to: `ip link add link PARENT name NAME [address MAC] [mtu N] [netns PATH] type macvlan mode MODE`.
   * A kernel without macvlan fails with EOPNOTSUPP; a second passthru child, or mixing passthru
   * with other modes on one parent, with EINVAL.
   */
  linkAddMacvlan(name: string, parent: string, mode: MacvlanMode, opts?: SlaveOptions): this;
  /**
   * Equivalent to: `ip link add link PARENT name NAME [mtu N] [netns PATH] type ipvlan mode MODE FLAG`
   * (EOPNOTSUPP on a kernel without ipvlan).
   */
  linkAddIpvlan(name: string, parent: string, mode: IpvlanMode, flag: IpvlanFlag, opts?: Omit<SlaveOptions, 'mac'>): this;
  /** Equivalent to: `ip link add link PARENT name NAME type vlan id VID` (an 802.1Q sub-interface; EOPNOTSUPP without 8021q) */
  linkAddVlan(name: string, parent: string, vid: number): this;
  /** Equivalent to: `ip link add NAME type dummy` (EOPNOTSUPP on a kernel without dummy links) */
  linkAddDummy(name: string): this;
  /** Equivalent to: `ip link set NAME master MASTER` */
  linkSetMaster(name: string, master: string): this;
  /** Equivalent to: `ip link set NAME type bridge_slave isolated on`: isolated ports reach only non-isolated ones (the bridge) */
  linkSetIsolated(name: string): this;
  /** Equivalent to: `ip link set NAME up` */
  linkSetUp(name: string): this;
  /** Equivalent to: `ip link del NAME` */
  linkDel(name: string): this;
  /** Equivalent to: `ip neigh replace IP lladdr MAC dev DEV nud permanent` */
  neighReplace(dev: string, ip: string, mac: string): this;
  /** Equivalent to: `ip neigh del IP dev DEV` (a missing entry fails the batch: check first) */
  neighDel(dev: string, ip: string): this;
  /** Equivalent to: `bridge fdb replace MAC dev DEV dst REMOTE self permanent` */
  fdbReplace(dev: string, mac: string, dst: string): this;
  /** Equivalent to: `bridge fdb del MAC dev DEV self` */
  fdbDel(dev: string, mac: string): this;
  /**
   * Equivalent to: `ip addr replace CIDR dev DEV`, and `nodad` for IPv6: ctrnet's addresses are
   * unique by its IPAM, and duplicate address detection would hold one unusable for a second.
   */
  addrReplace(dev: string, cidr: string): this;
  /** Equivalent to: `ip route replace DST [via GW] [dev DEV]` */
  routeReplace(dst: string, opts: { via?: string; dev?: string }): this;
  /** True when nothing was queued. */
  readonly empty: boolean;
  commit(): Promise<void>;
}

export interface Kernel {
  /** The namespace this kernel is bound to: undefined for the daemon's own. */
  readonly netns?: string;
  /** The same kernel, bound to the network namespace bind-mounted at `path`. */
  at(path: string): Kernel;
  batch(): Batch;
  /** Equivalent to: `ip -d link show` */
  linkList(): Promise<LinkInfo[]>;
  /**
   * Equivalent to: `ip -s link show` (every link's counters, e.g. a container's eth0 for `docker stats`)
   * @example const eth0 = (await kernel.at(netns).linkStats()).find((l) => l.name === 'eth0')
   */
  linkStats(): Promise<LinkStats[]>;
  /** Equivalent to: `bridge fdb show dev DEV` (entries with a remote destination) */
  fdbList(dev: string): Promise<{ mac: string; dst: string }[]>;
  /** Equivalent to: `ip -4|-6 neigh show dev DEV` (entries with a link-layer address) */
  neighList(dev: string, family?: Family): Promise<{ ip: string; mac: string }[]>;
  /** Equivalent to: `ip -4|-6 addr show` */
  addrList(family?: Family): Promise<AddrInfo[]>;
  /** Equivalent to: `ip -4|-6 route show` (table main) */
  routeList(family?: Family): Promise<RouteInfo[]>;
  /** Equivalent to: `sysctl -w KEY=VALUE` in this namespace (KEY like net.ipv4.ip_forward) */
  sysctlSet(key: string, value: string): Promise<void>;
  /**
   * Creates a network namespace bind-mounted at `path`, with IPv6 off (for a container without an
   * IPv6 network: a quiet interface sends nothing the bridge would flood to every container; a
   * host without IPv6 has nothing to turn off), or with `ipv6` on but quiet: no router
   * advertisements accepted (so no router solicitations sent) and no duplicate address detection.
   * Equivalent to: `unshare --net=PATH sysctl -w net.ipv6.conf.{all,default}.disable_ipv6=1`, or
   * with ipv6 `… net.ipv6.conf.{all,default}.accept_ra=0 ….accept_dad=0 default.router_solicitations=0`
   */
  netnsAdd(path: string, opts?: { ipv6?: boolean }): Promise<void>;
  /** Unmounts and deletes the namespace file at `path`; accepts "already gone". */
  netnsDel(path: string): Promise<void>;
  /** Equivalent to: `mount -t overlay overlay -o lowerdir=L,upperdir=U,workdir=W TARGET` (a container's root) */
  mountOverlay(lower: string, upper: string, work: string, target: string): Promise<void>;
  /** Equivalent to: `umount TARGET` */
  unmount(target: string): Promise<void>;
  /**
   * Mounts a filesystem, as a `local` volume with options asks (a tmpfs, a bind of a host
   * directory). `options` as mount(8) takes them: flags (bind, ro, nosuid, …) and data (size=10m).
   * Equivalent to: `mount -t TYPE -o OPTIONS SOURCE TARGET`
   * @example await kernel.mount('tmpfs', '/var/lib/ctrnet/volumes/v/_data', { type: 'tmpfs', options: 'size=10m' })
   */
  mount(source: string, target: string, opts: { type: string; options: string }): Promise<void>;
  /** Network namespace files (bind mounts) present in `dir`. */
  netnsList(dir: string): Promise<string[]>;
  /**
   * A UDP socket of this kernel's namespace bound to ADDRESS:PORT (0: any port; IPv4 or IPv6 by the address's form), for the daemon's
   * event loop (dgram's `bind({ fd })` adopts it): the embedded resolver listens inside sandboxes
   * this way. The caller owns the descriptor. EADDRINUSE when the address is taken, ENOENT when the
   * namespace is gone. Equivalent to: `nsenter --net=NS` then socket(2) and bind(2).
   */
  udpSocket(address: string, port: number): Promise<number>;
  /**
   * A TCP socket of this kernel's namespace, for the daemon's event loop (`net` adopts it):
   * `listen`: bound to ADDRESS:PORT and listening (the resolver's TCP side); `connect`: a
   * non-blocking connection to ADDRESS:PORT under way (its outcome shows on the first read or
   * write). IPv4 or IPv6 by the address's form. Equivalent to: `nsenter --net=NS` then socket(2)
   * and bind(2) + listen(2), or connect(2).
   */
  tcpSocket(address: string, port: number, mode: 'listen' | 'connect'): Promise<number>;
  /**
   * True when no socket of this (the daemon's) namespace holds the port: it is bound for an
   * instant. Equivalent to: `ss -lnH '( sport = :PORT )'` finding nothing.
   */
  portFree(proto: 'tcp' | 'udp', hostIp: string, port: number): Promise<boolean>;
}

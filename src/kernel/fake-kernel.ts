/**
 * FakeKernel: the Kernel port in memory, for unit tests of logic (drivers, the engine's undo
 * paths) without root. It models namespaces (netns files), links (veth pairs across namespaces,
 * bridges and their ports, vxlan; up, isolated, MTU, MAC), IPv4 and IPv6 addresses, routes of
 * table main, neighbours and FDB entries, sysctls, overlay mounts and held host ports
 * (_fake-net.ts). It fails the way the kernel does, with the same errnos: test/e2e/kernel.test.ts
 * runs the same operations against it and both real adapters and requires the same results.
 * It can also be told to fail a chosen call (`failNext`), and it records every call (`calls`).
 *
 * Limitations:
 * - No IPv6 autoconfiguration: turning IPv6 on adds no link-local address (as with
 *   addr_gen_mode=1), and no DAD (addresses are never tentative).
 * - A namespace is destroyed at netnsDel (the kernel waits for its last user); peers of its
 *   veths go at once (the kernel removes them in the background).
 * - Link carrier, routes of other tables, and multicast are not modelled; a sysctl key other
 *   than net.ipv4/ipv6.conf.<link>.* is accepted whatever it is.
 * - Paths (netns files, mount points) are not checked against a filesystem: any directory exists.
 * - udpSocket returns a made-up descriptor (the bind is modelled, no socket exists) and sockets
 *   are never closed; a namespace with a socket is deleted all the same (the kernel would wait).
 * - Stacked links (macvlan, ipvlan, vlan) follow their parent's removal; their traffic, and
 *   macvlan's rules between modes beyond passthru's, are not modelled.
 *
 * @example
 * const k = new FakeKernel();
 * await k.batch().linkAddBridge('br0').linkSetUp('br0').commit();
 * k.failNext('linkSetUp', 'EPERM');
 * await k.batch().linkAddBridge('br1').linkSetUp('br1').commit(); // rejects; br1 exists, down
 */
import { AddrInfo, Batch, Family, IpvlanFlag, IpvlanMode, Kernel, KernelErrno, KernelError, LinkInfo, LinkStats, MacvlanMode, RouteInfo, SlaveOptions, VethOptions } from './kernel';
import { fail, FakeWorld, Netns } from './_fake-net';

/** A call FakeKernel received: a Kernel method, a Batch op (applied at commit), or `commit`. */
export interface FakeCall {
  op: string;
  /** the namespace the kernel was bound to (undefined: the daemon's own) */
  netns?: string;
  args: readonly unknown[];
}

interface Rule {
  match: (c: FakeCall) => boolean;
  errno: KernelErrno;
  times: number;
}

/** What all kernels from one `new FakeKernel()` share, whatever namespace they are bound to. */
class Shared {
  readonly world = new FakeWorld();
  readonly calls: FakeCall[] = [];
  readonly rules: Rule[] = [];

  /** Records a call and throws when a rule says it fails. */
  enter(c: FakeCall): void {
    this.calls.push(c);
    const r = this.rules.find((x) => x.times > 0 && x.match(c));
    if (!r) return;
    r.times--;
    throw new KernelError(`${c.op}: ${r.errno} (injected by FakeKernel.failNext)`, r.errno);
  }
}

type Op = { op: string; args: unknown[]; apply: (ns: Netns) => void };

class FakeBatch implements Batch {
  private ops: Op[] = [];
  constructor(private readonly kernel: FakeKernel) {}

  get empty(): boolean {
    return this.ops.length === 0;
  }
  private push(op: string, args: unknown[], apply: (ns: Netns) => void): this {
    this.ops.push({ op, args, apply });
    return this;
  }
  linkAddBridge(name: string, opts: { mtu?: number; mac?: string } = {}): this {
    return this.push('linkAddBridge', [name, opts], (ns) => ns.addBridge(name, opts));
  }
  linkAddVeth(name: string, peer: string, opts: VethOptions): this {
    return this.push('linkAddVeth', [name, peer, opts], (ns) => ns.addVeth(name, peer, opts));
  }
  linkAddVxlan(name: string, opts: { vni: number; local: string; port: number; mtu: number }): this {
    return this.push('linkAddVxlan', [name, opts], (ns) => ns.addVxlan(name, opts));
  }
  linkAddMacvlan(name: string, parent: string, mode: MacvlanMode, opts: SlaveOptions = {}): this {
    return this.push('linkAddMacvlan', [name, parent, mode, opts], (ns) => ns.addMacvlan(name, parent, mode, opts));
  }
  linkAddIpvlan(name: string, parent: string, mode: IpvlanMode, flag: IpvlanFlag, opts: Omit<SlaveOptions, 'mac'> = {}): this {
    return this.push('linkAddIpvlan', [name, parent, mode, flag, opts], (ns) => ns.addIpvlan(name, parent, mode, opts));
  }
  linkAddVlan(name: string, parent: string, vid: number): this {
    return this.push('linkAddVlan', [name, parent, vid], (ns) => ns.addVlan(name, parent, vid));
  }
  linkAddDummy(name: string): this {
    return this.push('linkAddDummy', [name], (ns) => ns.addDummy(name));
  }
  linkSetMaster(name: string, master: string): this {
    return this.push('linkSetMaster', [name, master], (ns) => ns.setMaster(name, master));
  }
  linkSetIsolated(name: string): this {
    return this.push('linkSetIsolated', [name], (ns) => ns.setIsolated(name));
  }
  linkSetUp(name: string): this {
    return this.push('linkSetUp', [name], (ns) => ns.setUp(name));
  }
  linkDel(name: string): this {
    return this.push('linkDel', [name], (ns) => ns.del(name));
  }
  neighReplace(dev: string, ip: string, mac: string): this {
    return this.push('neighReplace', [dev, ip, mac], (ns) => ns.neighReplace(dev, ip, mac));
  }
  neighDel(dev: string, ip: string): this {
    return this.push('neighDel', [dev, ip], (ns) => ns.neighDel(dev, ip));
  }
  fdbReplace(dev: string, mac: string, dst: string): this {
    return this.push('fdbReplace', [dev, mac, dst], (ns) => ns.fdbReplace(dev, mac, dst));
  }
  fdbDel(dev: string, mac: string): this {
    return this.push('fdbDel', [dev, mac], (ns) => ns.fdbDel(dev, mac));
  }
  addrReplace(dev: string, cidr: string): this {
    return this.push('addrReplace', [dev, cidr], (ns) => ns.addrReplace(dev, cidr));
  }
  routeReplace(dst: string, opts: { via?: string; dev?: string }): this {
    return this.push('routeReplace', [dst, opts], (ns) => ns.routeReplace(dst, opts));
  }

  /** Applies the ops in order; the first failure stops the batch, what came before stays. */
  async commit(): Promise<void> {
    const ops = this.ops;
    this.ops = [];
    if (ops.length === 0) return;
    this.kernel.call('commit', [ops.length]);
    const ns = this.kernel.space();
    for (const o of ops) {
      try {
        this.kernel.call(o.op, o.args);
        o.apply(ns);
      } catch (e) {
        const k = e as KernelError;
        throw new KernelError(`${k.message} (in: ${o.op} ${o.args.map((a) => (typeof a === 'object' ? JSON.stringify(a) : String(a))).join(' ')})`, k.errno, { cause: e });
      }
    }
  }
}

export class FakeKernel implements Kernel {
  private readonly s: Shared;

  /**
   * A new, empty machine: the daemon's namespace with `lo` up. `missingKinds`: kinds of link its
   * kernel lacks (their creation fails with EOPNOTSUPP, as on a kernel built without them).
   */
  constructor(opts?: { missingKinds?: string[] });
  /** @internal a kernel of an existing machine, bound to `netns` */
  constructor(netns: string | undefined, shared: Shared);
  constructor(
    netnsOrOpts?: string | { missingKinds?: string[] },
    shared?: Shared,
  ) {
    this.netns = typeof netnsOrOpts === 'string' ? netnsOrOpts : undefined;
    this.s = shared ?? new Shared();
    if (typeof netnsOrOpts === 'object') for (const k of netnsOrOpts.missingKinds ?? []) this.s.world.missingKinds.add(k);
  }

  readonly netns?: string;

  /** Every call so far, of this kernel and all bound to other namespaces of its machine. */
  get calls(): readonly FakeCall[] {
    return this.s.calls;
  }

  /**
   * Makes the next call(s) matching `what` (an op or method name, or a predicate) fail with
   * `errno`, as if the kernel had refused; Batch ops are matched when their batch commits.
   * @example kernel.failNext((c) => c.op === 'linkAddVeth' && c.netns === undefined, 'EEXIST')
   */
  failNext(what: string | ((call: FakeCall) => boolean), errno: KernelErrno = 'EPERM', times = 1): void {
    this.s.rules.push({ match: typeof what === 'string' ? (c) => c.op === what : what, errno, times });
  }

  /** A sysctl's value in this kernel's namespace, as last written (undefined: never written). */
  sysctl(key: string): string | undefined {
    return this.space().sysctls.get(key);
  }

  /** The overlay mounts, in the order they were made. */
  mounts(): readonly { lower: string; upper: string; work: string; target: string }[] {
    return this.s.world.mounts;
  }

  /** The other filesystems mounted (tmpfs and bind volumes), in the order they were made. */
  filesystems(): readonly { source: string; target: string; type: string; options: string }[] {
    return this.s.world.filesystems;
  }

  /** Makes a host port taken, as by another program's socket (`portFree` then says false). */
  holdPort(proto: 'tcp' | 'udp', ip: string, port: number): void {
    this.s.world.ports.push({ proto, ip, port });
  }

  /** @internal records a call (and fails it when a rule says so) */
  call(op: string, args: unknown[]): void {
    this.s.enter({ op, netns: this.netns, args });
  }
  /** @internal this kernel's namespace; ENOENT when it does not exist (any more) */
  space(): Netns {
    return this.s.world.ns(this.netns);
  }

  at(path: string): Kernel {
    return new FakeKernel(path, this.s);
  }
  batch(): Batch {
    return new FakeBatch(this);
  }

  async linkList(): Promise<LinkInfo[]> {
    this.call('linkList', []);
    return this.space().linkList();
  }
  /** The model carries no traffic: every link's counters are zero, as a quiet new link's are. */
  async linkStats(): Promise<LinkStats[]> {
    this.call('linkStats', []);
    return this.space().linkList().map((l) => ({ name: l.name, rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0 }));
  }
  async fdbList(dev: string): Promise<{ mac: string; dst: string }[]> {
    this.call('fdbList', [dev]);
    return this.space().fdbList(dev);
  }
  async neighList(dev: string, family: Family = 4): Promise<{ ip: string; mac: string }[]> {
    this.call('neighList', [dev, family]);
    return this.space().neighList(dev, family);
  }
  async addrList(family: Family = 4): Promise<AddrInfo[]> {
    this.call('addrList', [family]);
    return this.space().addrList(family);
  }
  async routeList(family: Family = 4): Promise<RouteInfo[]> {
    this.call('routeList', [family]);
    return this.space().routeList(family);
  }
  async sysctlSet(key: string, value: string): Promise<void> {
    this.call('sysctlSet', [key, value]);
    this.space().sysctlSet(key, value);
  }

  async netnsAdd(path: string, opts: { ipv6?: boolean } = {}): Promise<void> {
    this.call('netnsAdd', opts.ipv6 ? [path, 'ipv6'] : [path]);
    const w = this.s.world;
    if (w.namespaces.has(path)) fail('EEXIST', `${path}: File exists`);
    const ns = new Netns(w, path);
    // as both real adapters make them: IPv6 off, unless asked for
    if (!opts.ipv6) ns.sysctlSet('net.ipv6.conf.all.disable_ipv6', '1');
    w.namespaces.set(path, ns);
  }
  async netnsDel(path: string): Promise<void> {
    this.call('netnsDel', [path]);
    const w = this.s.world;
    const ns = w.namespaces.get(path);
    if (!ns) return; // already gone
    w.namespaces.delete(path);
    ns.destroy();
  }
  async netnsList(dir: string): Promise<string[]> {
    this.call('netnsList', [dir]);
    return [...this.s.world.namespaces.keys()].filter((p) => p.slice(0, p.lastIndexOf('/')) === dir);
  }

  async mountOverlay(lower: string, upper: string, work: string, target: string): Promise<void> {
    this.call('mountOverlay', [lower, upper, work, target]);
    const m = this.s.world.mounts;
    // overlayfs refuses an upper or work directory another overlay mount uses
    if (m.some((x) => x.upper === upper || x.work === work)) fail('EBUSY', `mount overlay on ${target}: Device or resource busy`);
    m.push({ lower, upper, work, target });
  }
  async unmount(target: string): Promise<void> {
    this.call('unmount', [target]);
    const m = this.s.world.mounts;
    const i = m.map((x) => x.target).lastIndexOf(target);
    const fs = this.s.world.filesystems;
    const j = fs.map((x) => x.target).lastIndexOf(target);
    if (i < 0 && j < 0) fail('EINVAL', `umount ${target}: Invalid argument`);
    if (i >= 0) m.splice(i, 1);
    else fs.splice(j, 1);
  }
  async mount(source: string, target: string, opts: { type: string; options: string }): Promise<void> {
    this.call('mount', [source, target, opts]);
    // what mount(2) refuses without looking at the disk: a filesystem type it does not know
    if (!['tmpfs', 'none', 'ext4', 'xfs', 'btrfs', 'nfs', 'overlay'].includes(opts.type || 'none')) fail('ENOENT', `mount ${source} on ${target}: No such device`);
    this.s.world.filesystems.push({ source, target, type: opts.type, options: opts.options });
  }

  /** A fake descriptor (never a real socket): the bind is modelled, for the logic that asks for it. */
  async udpSocket(address: string, port: number): Promise<number> {
    this.call('udpSocket', [address, port]);
    return this.space().udpBind(address, port);
  }

  /** A made-up descriptor, like udpSocket's; a listener takes its address and port like a UDP bind (in a TCP space). */
  async tcpSocket(address: string, port: number, mode: 'listen' | 'connect'): Promise<number> {
    this.call('tcpSocket', [address, port, mode]);
    return mode === 'listen' ? this.space().tcpListen(address, port) : this.s.world.fd();
  }

  /** The UDP sockets bound in this kernel's namespace ("address:port"). */
  udpBound(): string[] {
    return [...this.space().udp].sort();
  }

  async portFree(proto: 'tcp' | 'udp', hostIp: string, port: number): Promise<boolean> {
    this.call('portFree', [proto, hostIp, port]);
    const any = (ip: string) => ip === '0.0.0.0' || ip === '::';
    return !this.s.world.ports.some((p) => p.proto === proto && p.port === port && (p.ip === hostIp || any(p.ip) || any(hostIp)));
  }
}

/**
 * FakeKernel's model of the network: namespaces with their links, addresses, routes, neighbours,
 * FDB entries and sysctls, and what the kernel does on its own when they change (connected
 * routes when a link goes up, a bridge's MTU and MAC following its ports, a veth's peer going
 * with it, IPv6 state going when IPv6 is turned off). Every failure is the kernel's (its errno,
 * a message like iproute2's): test/e2e/kernel.test.ts holds this model to the real kernel.
 */
import { AddrInfo, Family, IpvlanMode, KernelErrno, KernelError, LinkInfo, MacvlanMode, RouteInfo, SlaveOptions, VethOptions } from './kernel';
import { bitsOf, compareRoutes, contains, formatIp, Ip, mask, parseIp, scope6 } from './_fake-addr';

export const fail = (errno: KernelErrno, message: string): never => {
  throw new KernelError(message, errno);
};

interface Addr {
  ip: Ip;
  len: number;
  /** IPv4: a second address in a subnet the link already has (no route of its own) */
  secondary: boolean;
}

export interface FakeLink {
  name: string;
  index: number;
  mtu: number;
  mac: string;
  up: boolean;
  kind?: 'bridge' | 'veth' | 'vxlan' | 'macvlan' | 'ipvlan' | 'vlan' | 'dummy';
  master?: string;
  /** a stacked link's parent (macvlan, ipvlan, vlan): deleting the parent deletes it, wherever it is */
  lower?: { ns: Netns; name: string };
  macvlanMode?: MacvlanMode;
  vid?: number;
  isolated: boolean;
  loopback: boolean;
  /** a bridge whose MAC was given keeps it; otherwise it takes its ports' lowest */
  macSet: boolean;
  peer?: { ns: Netns; name: string };
  vxlan?: { vni: number; local: Ip; port: number };
  addrs4: Addr[];
  addrs6: Addr[];
  fdb: { mac: string; dst?: Ip }[];
}

interface Route {
  family: 4 | 6;
  dst: bigint;
  len: number;
  metric: number;
  dev?: string;
  gateway?: Ip;
}

const ZERO_MAC = '00:00:00:00:00:00';
const NAME = /^[^\s/:]{1,15}$/;

function ipOf(s: string): Ip {
  return parseIp(s) ?? fail('EINVAL', `Error: any valid address is expected rather than "${s}".`);
}
function macOf(s: string): string {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(s)) fail('EINVAL', `"${s}" is invalid lladdr.`);
  return s.toLowerCase();
}
function cidrOf(s: string, hostOk: boolean): { ip: Ip; len: number } {
  const [a, l, extra] = s.split('/');
  const ip = ipOf(a);
  if (l === undefined && hostOk) return { ip, len: bitsOf(ip.family) };
  if (extra !== undefined || l === undefined || !/^\d+$/.test(l) || Number(l) > bitsOf(ip.family)) fail('EINVAL', `Error: invalid prefix "${s}".`);
  return { ip, len: Number(l) };
}
function checkMtu(mtu: number): void {
  if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) fail('EINVAL', 'Error: MTU must be between 68 and 65535.');
}

/** Namespaces by path, and what lives outside them (mounts, ports, the MAC generator). */
export class FakeWorld {
  readonly root: Netns;
  readonly namespaces = new Map<string, Netns>();
  readonly mounts: { lower: string; upper: string; work: string; target: string }[] = [];
  /** other filesystems mounted (volumes with options) */
  readonly filesystems: { source: string; target: string; type: string; options: string }[] = [];
  readonly ports: { proto: 'tcp' | 'udp'; ip: string; port: number }[] = [];
  /** kinds of link this kernel was built without (as this machine lacks ipvlan, vlan and dummy) */
  readonly missingKinds = new Set<string>();
  private nextFd = 1000;
  private seed = 0x2545f491;

  constructor() {
    this.root = new Netns(this);
    this.root.setUp('lo'); // the daemon's namespace is a running host's
  }

  /** The namespace at `path` (undefined: the root); ENOENT when there is none. */
  ns(path?: string): Netns {
    if (path === undefined) return this.root;
    return this.namespaces.get(path) ?? fail('ENOENT', `network namespace ${path}: No such file or directory`);
  }

  /** A descriptor number for a fake socket (never a real one). */
  fd(): number {
    return this.nextFd++;
  }

  /** Every namespace, the root first. */
  all(): Netns[] {
    return [this.root, ...this.namespaces.values()];
  }

  /** A random unicast, locally administered MAC, as the kernel gives links (seeded: runs repeat). */
  randomMac(): string {
    const b: number[] = [];
    for (let i = 0; i < 6; i++) {
      this.seed ^= this.seed << 13;
      this.seed ^= this.seed >>> 17;
      this.seed ^= this.seed << 5;
      b.push((this.seed >>> 8) & 255);
    }
    b[0] = (b[0] & 0xfe) | 0x02;
    return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
  }
}

export class Netns {
  readonly links: FakeLink[] = [];
  readonly routes: Route[] = [];
  readonly neigh: { dev: string; ip: Ip; mac: string }[] = [];
  readonly sysctls = new Map<string, string>();
  /** bound UDP sockets, "address:port" */
  readonly udp = new Set<string>();
  readonly tcp = new Set<string>();
  private nextIndex = 1;

  constructor(
    readonly world: FakeWorld,
    readonly path?: string,
  ) {
    this.newLink('lo', { mtu: 65536, mac: ZERO_MAC, loopback: true });
  }

  link(name: string): FakeLink | undefined {
    return this.links.find((l) => l.name === name);
  }
  need(name: string): FakeLink {
    return this.link(name) ?? fail('ENOENT', `Cannot find device "${name}"`);
  }
  private v6on(l: FakeLink): boolean {
    return this.sysctls.get(`net.ipv6.conf.${l.name}.disable_ipv6`) !== '1';
  }

  private newLink(name: string, o: { mtu: number; mac?: string; kind?: FakeLink['kind']; loopback?: boolean }): FakeLink {
    const l: FakeLink = { name, index: this.nextIndex++, mtu: o.mtu, mac: o.mac ?? this.world.randomMac(), up: false, kind: o.kind, isolated: false, loopback: !!o.loopback, macSet: !!o.mac, addrs4: [], addrs6: [], fdb: [] };
    this.links.push(l);
    this.sysctls.set(`net.ipv6.conf.${name}.disable_ipv6`, this.sysctls.get('net.ipv6.conf.default.disable_ipv6') ?? '0');
    return l;
  }
  private fresh(name: string): void {
    if (!NAME.test(name) || name === '.' || name === '..') fail('EINVAL', `Error: argument "${name}" is wrong: "name" not a valid ifname`);
    if (this.link(name)) fail('EEXIST', 'RTNETLINK answers: File exists');
  }

  // ---------------------------------------------------------------- links

  addBridge(name: string, o: { mtu?: number; mac?: string }): void {
    this.fresh(name);
    if (o.mtu) checkMtu(o.mtu);
    const mac = o.mac === undefined ? undefined : macOf(o.mac);
    this.newLink(name, { mtu: o.mtu || 1500, mac, kind: 'bridge' });
  }

  addVeth(name: string, peer: string, o: VethOptions): void {
    const other = o.peerNetns === undefined ? this : this.world.ns(o.peerNetns);
    this.fresh(name);
    other.fresh(peer);
    if (other === this && name === peer) fail('EEXIST', 'RTNETLINK answers: File exists');
    checkMtu(o.mtu);
    const peerMac = o.peerMac === undefined ? undefined : macOf(o.peerMac);
    // The kernel registers the peer first: in one namespace it has the lower index.
    const p = other.newLink(peer, { mtu: o.mtu, mac: peerMac, kind: 'veth' });
    const l = this.newLink(name, { mtu: o.mtu, kind: 'veth' });
    l.peer = { ns: other, name: peer };
    p.peer = { ns: this, name };
  }

  addVxlan(name: string, o: { vni: number; local: string; port: number; mtu: number }): void {
    this.fresh(name);
    if (!Number.isInteger(o.vni) || o.vni < 0 || o.vni >= 1 << 24 || !Number.isInteger(o.port) || o.port < 1 || o.port > 65535) fail('EINVAL', 'Error: invalid VNI or port.');
    const local = ipOf(o.local);
    checkMtu(o.mtu);
    if (this.links.some((l) => l.vxlan && l.vxlan.vni === o.vni && l.vxlan.port === o.port)) fail('EEXIST', 'Error: A VXLAN device with the specified VNI already exists.');
    this.newLink(name, { mtu: o.mtu, kind: 'vxlan' }).vxlan = { vni: o.vni, local, port: o.port };
  }

  /** The kernel's rtnl_link lookup: a kind it was not built with is "Unknown device type". */
  private kind(kind: string): void {
    if (this.world.missingKinds.has(kind)) fail('EOPNOTSUPP', 'Error: Unknown device type.');
  }

  /** A link stacked on `parent` of this namespace, made in `o.netns` (or here). */
  private stacked(kind: 'macvlan' | 'ipvlan' | 'vlan', name: string, parentName: string, o: SlaveOptions): FakeLink {
    this.kind(kind);
    const parent = this.need(parentName);
    const dest = o.netns === undefined ? this : this.world.ns(o.netns);
    dest.fresh(name);
    if (parent.loopback) fail('EINVAL', 'RTNETLINK answers: Invalid argument');
    const mtu = o.mtu || parent.mtu;
    if (mtu > parent.mtu) fail('EINVAL', 'RTNETLINK answers: Invalid argument');
    checkMtu(mtu);
    const mac = o.mac === undefined ? undefined : macOf(o.mac);
    const l = dest.newLink(name, { mtu, mac, kind });
    l.lower = { ns: this, name: parentName };
    return l;
  }

  /** The stacked links of a parent, in every namespace. */
  private children(parent: FakeLink, kind: string): FakeLink[] {
    return this.world.all().flatMap((ns) => ns.links.filter((l) => l.kind === kind && l.lower?.ns === this && l.lower.name === parent.name));
  }

  addMacvlan(name: string, parentName: string, mode: MacvlanMode, o: SlaveOptions): void {
    this.kind('macvlan');
    const parent = this.need(parentName);
    const siblings = this.children(parent, 'macvlan');
    // passthru takes the whole parent: no second child, and no mixing with other modes
    if ((mode === 'passthru' && siblings.length) || siblings.some((x) => x.macvlanMode === 'passthru')) fail('EINVAL', 'RTNETLINK answers: Invalid argument');
    const l = this.stacked('macvlan', name, parentName, o);
    l.macvlanMode = mode;
    if (mode === 'passthru') {
      l.mac = parent.mac;
      l.macSet = true;
    }
  }

  addIpvlan(name: string, parentName: string, _mode: IpvlanMode, o: Omit<SlaveOptions, 'mac'>): void {
    this.kind('ipvlan');
    const parent = this.need(parentName);
    const l = this.stacked('ipvlan', name, parentName, o);
    // ipvlan children share their parent's MAC
    l.mac = parent.mac;
  }

  addVlan(name: string, parentName: string, vid: number): void {
    this.kind('vlan');
    if (!Number.isInteger(vid) || vid < 1 || vid > 4094) fail('EINVAL', 'Error: invalid VLAN id.');
    const parent = this.need(parentName);
    if (this.children(parent, 'vlan').some((x) => x.vid === vid)) fail('EEXIST', 'RTNETLINK answers: File exists');
    this.stacked('vlan', name, parentName, {}).vid = vid;
  }

  addDummy(name: string): void {
    this.kind('dummy');
    this.fresh(name);
    this.newLink(name, { mtu: 1500, kind: 'dummy' });
  }

  /**
   * A UDP socket bound here; a second bind of an address and port fails. Which addresses the
   * kernel accepts (a loopback one while lo is down, say) is not modelled: any is.
   */
  udpBind(address: string, port: number, set: Set<string> = this.udp): number {
    ipOf(address);
    let p = port;
    if (p === 0) for (p = 32768; set.has(`${address}:${p}`); p++);
    const any = address.includes(':') ? '::' : '0.0.0.0';
    if (set.has(`${address}:${p}`) || (port !== 0 && set.has(`${any}:${p}`))) fail('EADDRINUSE', `bind ${address}:${p}: Address already in use`);
    set.add(`${address}:${p}`);
    return this.world.fd();
  }

  /** A TCP listener, bound like a UDP socket (in its own space). */
  tcpListen(address: string, port: number): number {
    return this.udpBind(address, port, this.tcp);
  }

  setMaster(name: string, master: string): void {
    const m = this.need(master);
    const l = this.need(name);
    if (m.kind !== 'bridge') fail('EOPNOTSUPP', 'RTNETLINK answers: Operation not supported');
    if (l.loopback) fail('EINVAL', 'RTNETLINK answers: Invalid argument');
    if (l.kind === 'bridge') fail('UNKNOWN', 'Error: Can not enslave a bridge to a bridge.');
    if (l.master === master) return;
    const old = l.master;
    l.master = master;
    l.isolated = false;
    if (old) this.followPorts(this.need(old));
    this.followPorts(m);
  }

  /** A bridge's MTU is its ports' lowest (1500 without ports), its MAC their lowest unless given. */
  private followPorts(br: FakeLink): void {
    const ports = this.links.filter((l) => l.master === br.name);
    br.mtu = ports.length ? Math.min(...ports.map((p) => p.mtu)) : 1500;
    if (!br.macSet) br.mac = ports.length ? ports.map((p) => p.mac).sort()[0] : ZERO_MAC;
  }

  setIsolated(name: string): void {
    const l = this.need(name);
    if (!l.master) fail('EOPNOTSUPP', 'RTNETLINK answers: Operation not supported');
    l.isolated = true;
  }

  setUp(name: string): void {
    const l = this.need(name);
    if (l.up) return;
    l.up = true;
    if (l.loopback) this.loopbackAddrs(l);
    for (const a of l.addrs4) this.connected(l, a);
    for (const a of l.addrs6) this.connected(l, a);
  }

  /** What the kernel gives lo when it comes up: 127.0.0.1/8, and ::1 with IPv6 (routes: table local). */
  private loopbackAddrs(l: FakeLink): void {
    if (!l.addrs4.length) l.addrs4.push({ ip: parseIp('127.0.0.1')!, len: 8, secondary: false });
    if (this.v6on(l) && !l.addrs6.some((a) => a.ip.n === 1n)) l.addrs6.push({ ip: parseIp('::1')!, len: 128, secondary: false });
  }

  del(name: string): void {
    const l = this.need(name);
    if (l.loopback) fail('EOPNOTSUPP', 'RTNETLINK answers: Operation not supported');
    this.remove(l);
  }

  /** Removes a link and all that hangs on it; a veth's peer goes too, wherever it is. */
  remove(l: FakeLink): void {
    const i = this.links.indexOf(l);
    if (i < 0) return;
    this.links.splice(i, 1);
    for (let j = this.routes.length - 1; j >= 0; j--) if (this.routes[j].dev === l.name) this.routes.splice(j, 1);
    for (let j = this.neigh.length - 1; j >= 0; j--) if (this.neigh[j].dev === l.name) this.neigh.splice(j, 1);
    for (const k of [...this.sysctls.keys()]) if (k.startsWith(`net.ipv4.conf.${l.name}.`) || k.startsWith(`net.ipv6.conf.${l.name}.`)) this.sysctls.delete(k);
    if (l.kind === 'bridge') {
      for (const p of this.links.filter((x) => x.master === l.name)) {
        p.master = undefined;
        p.isolated = false;
      }
    }
    const br = l.master ? this.link(l.master) : undefined;
    if (br) this.followPorts(br);
    // a parent takes its stacked links (macvlan, ipvlan, vlan) with it, in every namespace
    for (const ns of this.world.all()) for (const c of ns.links.filter((x) => x.lower?.ns === this && x.lower.name === l.name)) ns.remove(c);
    const peer = l.peer;
    l.peer = undefined;
    const p = peer?.ns.link(peer.name);
    if (p) {
      p.peer = undefined;
      peer!.ns.remove(p);
    }
  }

  /** Deletes every link (a namespace being destroyed): peers elsewhere go too. */
  destroy(): void {
    for (const l of [...this.links].reverse()) this.remove(l);
  }

  // ---------------------------------------------------------------- addresses and routes

  addrReplace(dev: string, cidr: string): void {
    const { ip, len } = cidrOf(cidr, false);
    const l = this.need(dev);
    if (ip.family === 6) {
      if (!this.v6on(l)) fail('EACCES', 'Error: ipv6: IPv6 is disabled on this device.');
      if (l.addrs6.some((a) => a.ip.n === ip.n)) return; // the kernel keeps it as it is
      // sorted by scope, the newest first within one
      const at = l.addrs6.findIndex((a) => scope6(ip) >= scope6(a.ip));
      const a = { ip, len, secondary: false };
      l.addrs6.splice(at < 0 ? l.addrs6.length : at, 0, a);
      if (l.up) this.connected(l, a);
      return;
    }
    if (l.addrs4.some((a) => a.ip.n === ip.n && a.len === len)) return;
    const secondary = l.addrs4.some((a) => a.len === len && contains(a.ip, len, ip));
    const a = { ip, len, secondary };
    // primaries in order of arrival, then the secondaries
    const primaries = l.addrs4.filter((x) => !x.secondary).length;
    l.addrs4.splice(secondary ? l.addrs4.length : primaries, 0, a);
    if (l.up) this.connected(l, a);
  }

  /** The route the kernel adds for an address of a link that is up. */
  private connected(l: FakeLink, a: Addr): void {
    const f = a.ip.family;
    if (l.loopback) return; // lo's routes are in table local
    const dst = a.ip.n & mask(f, a.len);
    if (f === 4 && (a.secondary || a.len === 32 || dst >> 24n === 0n)) return;
    if (f === 6 && !this.v6on(l)) return;
    const metric = f === 4 ? 0 : 256;
    if (this.routes.some((r) => r.family === f && r.dst === dst && r.len === a.len && r.metric === metric && r.dev === l.name && !r.gateway)) return;
    this.routes.push({ family: f, dst, len: a.len, metric, dev: l.name });
  }

  routeReplace(dstText: string, o: { via?: string; dev?: string }): void {
    const gw = o.via === undefined ? undefined : ipOf(o.via);
    const d = dstText === 'default' ? undefined : cidrOf(dstText, true);
    const family = d?.ip.family ?? gw?.family ?? 4;
    if (gw && gw.family !== family) fail('EINVAL', 'Error: Gateway is not of the address family of the destination.');
    if (family === 4 && d && (d.ip.n & ~mask(4, d.len)) !== 0n) fail('EINVAL', 'Error: Invalid prefix for given prefix length.');
    let dev = o.dev === undefined ? undefined : this.need(o.dev);
    if (!dev && !gw) fail('ENOENT', 'RTNETLINK answers: No such device');
    if (gw) dev = family === 4 ? this.gateway4(gw, dev) : this.gateway6(gw, dev);
    if (family === 6 && !this.v6on(dev!)) fail('EACCES', 'Error: IPv6 is disabled on nexthop device.');
    if (!dev!.up) fail('ENETDOWN', family === 4 ? 'Error: Device for nexthop is not up.' : 'Error: Nexthop device is not up.');
    const len = d?.len ?? 0;
    const route: Route = { family, dst: d ? d.ip.n & mask(family, len) : 0n, len, metric: family === 4 ? 0 : 1024, dev: dev!.name, gateway: gw };
    const same = this.routes.findIndex((r) => r.family === family && r.dst === route.dst && r.len === len && r.metric === route.metric);
    if (same >= 0) this.routes[same] = route;
    else this.routes.push(route);
  }

  /** An IPv4 gateway must be on a connected network (of `dev`, if given): its route's device. */
  private gateway4(gw: Ip, dev?: FakeLink): FakeLink {
    const local = this.links.find((l) => (!dev || l === dev) && l.addrs4.some((a) => a.ip.n === gw.n));
    const onLink = this.routes
      .filter((r) => r.family === 4 && !r.gateway && (!dev || r.dev === dev.name) && contains({ family: 4, n: r.dst }, r.len, gw))
      .sort((a, b) => b.len - a.len)[0];
    const found = local ?? (onLink ? this.link(onLink.dev!) : undefined);
    return found ?? fail('ENETUNREACH', 'Error: Nexthop has invalid gateway.');
  }

  /** An IPv6 gateway: link-local with a device, or reached by a route without a gateway. */
  private gateway6(gw: Ip, dev?: FakeLink): FakeLink {
    if (scope6(gw) === 2) return dev ?? fail('EINVAL', 'Error: Egress device not specified.');
    if (this.links.some((l) => l.addrs6.some((a) => a.ip.n === gw.n))) fail('EINVAL', 'Error: Gateway can not be a local address.');
    const best = this.routes.filter((r) => r.family === 6 && (!dev || r.dev === dev.name) && contains({ family: 6, n: r.dst }, r.len, gw)).sort((a, b) => b.len - a.len)[0];
    if (!best || best.gateway) fail('EHOSTUNREACH', 'RTNETLINK answers: No route to host');
    return this.need(best.dev!);
  }

  // ---------------------------------------------------------------- neighbours and FDB

  neighReplace(dev: string, ipText: string, macText: string): void {
    const ip = ipOf(ipText);
    const mac = macOf(macText);
    const l = this.need(dev);
    if (ip.family === 6 && !this.v6on(l)) fail('EINVAL', 'Error: IPv6 is disabled on this device.');
    const e = this.neigh.find((n) => n.dev === dev && n.ip.family === ip.family && n.ip.n === ip.n);
    if (e) e.mac = mac;
    else this.neigh.push({ dev, ip, mac });
  }

  neighDel(dev: string, ipText: string): void {
    const ip = ipOf(ipText);
    this.need(dev);
    const i = this.neigh.findIndex((n) => n.dev === dev && n.ip.family === ip.family && n.ip.n === ip.n);
    if (i < 0) fail('ENOENT', 'RTNETLINK answers: No such file or directory');
    this.neigh.splice(i, 1);
  }

  /** On a vxlan the entry names a remote; on other links it is a local entry (listed by no read). */
  fdbReplace(dev: string, macText: string, dstText: string): void {
    const mac = macOf(macText);
    const dst = ipOf(dstText);
    const l = this.need(dev);
    const e = l.fdb.find((f) => f.mac === mac);
    const keep = l.kind === 'vxlan' ? dst : undefined;
    if (e) e.dst = keep;
    else l.fdb.push({ mac, dst: keep });
  }

  fdbDel(dev: string, macText: string): void {
    const mac = macOf(macText);
    const l = this.need(dev);
    const i = l.fdb.findIndex((f) => f.mac === mac);
    if (i < 0) fail('ENOENT', 'RTNETLINK answers: No such file or directory');
    l.fdb.splice(i, 1);
  }

  // ---------------------------------------------------------------- sysctls

  sysctlSet(key: string, value: string): void {
    const m = /^net\.ipv([46])\.conf\.([^.]+)\.(.+)$/.exec(key);
    const path = `/proc/sys/${key.replace(/\./g, '/')}`;
    if (!key || key.includes('..') || key.startsWith('/')) fail('EINVAL', `bad sysctl key ${key}`);
    if (m && m[2] !== 'all' && m[2] !== 'default' && !this.link(m[2])) fail('ENOENT', `${path}: No such file or directory`);
    if (!m || m[1] !== '6' || m[3] !== 'disable_ipv6') {
      this.sysctls.set(key, value);
      return;
    }
    const off = Number(value) !== 0 ? '1' : '0';
    // "all" also sets the default for new links, and every link now
    if (m[2] === 'default' || m[2] === 'all') this.sysctls.set('net.ipv6.conf.default.disable_ipv6', off);
    if (m[2] === 'all') this.sysctls.set(key, off);
    for (const l of m[2] === 'all' ? this.links : m[2] === 'default' ? [] : [this.link(m[2])!]) {
      this.sysctls.set(`net.ipv6.conf.${l.name}.disable_ipv6`, off);
      if (off === '0' && l.loopback && l.up) this.loopbackAddrs(l);
      if (off === '1') {
        // The kernel drops a link's IPv6 state when IPv6 goes off on it.
        l.addrs6 = [];
        for (let j = this.routes.length - 1; j >= 0; j--) if (this.routes[j].family === 6 && this.routes[j].dev === l.name) this.routes.splice(j, 1);
        for (let j = this.neigh.length - 1; j >= 0; j--) if (this.neigh[j].ip.family === 6 && this.neigh[j].dev === l.name) this.neigh.splice(j, 1);
      }
    }
  }

  // ---------------------------------------------------------------- reads, as the adapters report them

  linkList(): LinkInfo[] {
    return this.links.map((l) => ({ name: l.name, index: l.index, mtu: l.mtu, mac: l.mac, up: l.up, kind: l.kind, master: l.master }));
  }

  addrList(family: Family): AddrInfo[] {
    return this.links.flatMap((l) => (family === 4 ? l.addrs4 : l.addrs6).map((a) => ({ dev: l.name, address: formatIp(a.ip), prefixLen: a.len })));
  }

  routeList(family: Family): RouteInfo[] {
    const text = (r: Route): string => (r.len === 0 ? 'default' : r.len === bitsOf(r.family) ? formatIp({ family: r.family, n: r.dst }) : `${formatIp({ family: r.family, n: r.dst })}/${r.len}`);
    return this.routes
      .filter((r) => r.family === family)
      .sort(compareRoutes)
      .map((r) => ({ dst: text(r), dev: r.dev, gateway: r.gateway && formatIp(r.gateway) }));
  }

  neighList(dev: string, family: Family): { ip: string; mac: string }[] {
    this.need(dev);
    return this.neigh.filter((n) => n.dev === dev && n.ip.family === family).map((n) => ({ ip: formatIp(n.ip), mac: n.mac }));
  }

  fdbList(dev: string): { mac: string; dst: string }[] {
    return this.need(dev).fdb.flatMap((f) => (f.dst ? [{ mac: f.mac, dst: formatIp(f.dst) }] : []));
  }
}

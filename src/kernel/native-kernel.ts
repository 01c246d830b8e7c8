/**
 * The fast Kernel adapter: writes and reads go to ctrnet-kernel, one pipe round trip per Batch or
 * read (rtnetlink in the target namespace; reads are dumps answered as data lines of
 * `key=value` fields, see native/kernel/dump.c). netnsList (a readdir) and portFree (a bind)
 * stay in this process. Same interface and results as IpKernel, which remains the reference
 * adapter and the fallback when the helper was not built.
 */
import { portFree } from './port-probe';
import { KernelHelper } from './helper';
import { IpKernel } from './ip-kernel';
import { AddrInfo, Batch, Family, IpvlanFlag, IpvlanMode, Kernel, LinkInfo, LinkStats, MacvlanMode, RouteInfo, SlaveOptions, VethOptions } from './kernel';
import { tcpSocket, udpSocket } from './netns-socket';

/** One token of an op line: the helper splits on spaces, so a token must hold none. */
function tok(s: string | number): string {
  const t = String(s);
  if (t === '' || /\s/.test(t)) throw new Error(`kernel op argument ${JSON.stringify(t)} is empty or holds white space`);
  return t;
}

/** The fields of one data line: `key=value` tokens (a value may hold "=", never a space). */
function fields(line: string): Record<string, string> {
  const f: Record<string, string> = {};
  for (const t of line.split(' ')) {
    const i = t.indexOf('=');
    if (i > 0) f[t.slice(0, i)] = t.slice(i + 1);
  }
  return f;
}

class NativeBatch implements Batch {
  private ops: string[] = [];
  constructor(private readonly kernel: NativeKernel) {}

  get empty(): boolean {
    return this.ops.length === 0;
  }
  private push(...parts: (string | number)[]): this {
    this.ops.push(parts.map(tok).join(' '));
    return this;
  }
  linkAddBridge(name: string, opts: { mtu?: number; mac?: string } = {}): this {
    return this.push('bridge', name, opts.mtu ?? 0, opts.mac ?? '-');
  }
  linkAddVeth(name: string, peer: string, o: VethOptions): this {
    return this.push('veth', name, peer, o.mtu, o.peerMac ?? '-', o.peerNetns ?? '-', o.singleQueue ? 1 : 0);
  }
  linkAddVxlan(name: string, o: { vni: number; local: string; port: number; mtu: number }): this {
    return this.push('vxlan', name, o.vni, o.local, o.port, o.mtu);
  }
  linkAddMacvlan(name: string, parent: string, mode: MacvlanMode, o: SlaveOptions = {}): this {
    return this.push('macvlan', name, parent, mode, o.mtu ?? 0, o.mac ?? '-', o.netns ?? '-');
  }
  linkAddIpvlan(name: string, parent: string, mode: IpvlanMode, flag: IpvlanFlag, o: Omit<SlaveOptions, 'mac'> = {}): this {
    return this.push('ipvlan', name, parent, mode, flag, o.mtu ?? 0, o.netns ?? '-');
  }
  linkAddVlan(name: string, parent: string, vid: number): this {
    return this.push('vlan', name, parent, vid);
  }
  linkAddDummy(name: string): this {
    return this.push('dummy', name);
  }
  linkSetMaster(name: string, master: string): this {
    return this.push('master', name, master);
  }
  linkSetIsolated(name: string): this {
    return this.push('isolated', name);
  }
  linkSetUp(name: string): this {
    return this.push('up', name);
  }
  linkDel(name: string): this {
    return this.push('del', name);
  }
  neighReplace(dev: string, ip: string, mac: string): this {
    return this.push('neigh', dev, ip, mac);
  }
  neighDel(dev: string, ip: string): this {
    return this.push('neighdel', dev, ip);
  }
  fdbReplace(dev: string, mac: string, dst: string): this {
    return this.push('fdb', dev, mac, dst);
  }
  fdbDel(dev: string, mac: string): this {
    return this.push('fdbdel', dev, mac);
  }
  addrReplace(dev: string, cidr: string): this {
    return this.push('addr', dev, cidr);
  }
  routeReplace(dst: string, o: { via?: string; dev?: string }): this {
    return this.push('route', dst, o.via ?? '-', o.dev ?? '-');
  }
  async commit(): Promise<void> {
    const ops = this.ops;
    this.ops = [];
    if (ops.length === 0) return;
    await this.kernel.helper.request(`batch ${tok(this.kernel.netns ?? '-')} ${ops.length}`, ops.join('\n') + '\n');
  }
}

export class NativeKernel implements Kernel {
  private readonly files: IpKernel;

  constructor(
    readonly helper: KernelHelper,
    readonly netns?: string,
  ) {
    this.files = new IpKernel(netns);
  }

  private async rows(verb: string, ...args: (string | number)[]): Promise<Record<string, string>[]> {
    const lines = await this.helper.query([verb, this.netns ?? '-', ...args].map(tok).join(' '));
    return lines.map(fields);
  }

  at(path: string): Kernel {
    return new NativeKernel(this.helper, path);
  }
  batch(): Batch {
    return new NativeBatch(this);
  }
  // Objects built with the same keys, in the same order, as IpKernel's: the results are identical.
  async linkList(): Promise<LinkInfo[]> {
    return (await this.rows('links')).map((r) => ({ name: r.name, index: Number(r.index), mtu: Number(r.mtu), mac: r.mac, up: r.up === '1', kind: r.kind, master: r.master }));
  }
  async linkStats(): Promise<LinkStats[]> {
    const num = (v: string | undefined) => Number(v ?? 0);
    return (await this.rows('linkstats')).map((r) => ({
      name: r.name, rxBytes: num(r.rx_bytes), rxPackets: num(r.rx_packets), rxErrors: num(r.rx_errors), rxDropped: num(r.rx_dropped),
      txBytes: num(r.tx_bytes), txPackets: num(r.tx_packets), txErrors: num(r.tx_errors), txDropped: num(r.tx_dropped),
    }));
  }
  async fdbList(dev: string): Promise<{ mac: string; dst: string }[]> {
    return (await this.rows('fdb', dev)).map((r) => ({ mac: r.mac, dst: r.dst }));
  }
  async neighList(dev: string, family: Family = 4): Promise<{ ip: string; mac: string }[]> {
    return (await this.rows('neighs', family, dev)).map((r) => ({ ip: r.ip, mac: r.mac }));
  }
  async addrList(family: Family = 4): Promise<AddrInfo[]> {
    return (await this.rows('addrs', family)).map((r) => ({ dev: r.dev, address: r.addr, prefixLen: Number(r.plen) }));
  }
  async routeList(family: Family = 4): Promise<RouteInfo[]> {
    return (await this.rows('routes', family)).map((r) => ({ dst: r.dst, dev: r.dev, gateway: r.via }));
  }
  // async: a bad token is a rejection, like every other failure of these calls
  async sysctlSet(key: string, value: string): Promise<void> {
    return this.helper.request(`sysctl ${tok(this.netns ?? '-')} ${tok(key)} ${tok(value)}`);
  }
  async netnsAdd(path: string, opts: { ipv6?: boolean } = {}): Promise<void> {
    return this.helper.request(`${opts.ipv6 ? 'netns-add6' : 'netns-add'} ${tok(path)}`);
  }
  async netnsDel(path: string): Promise<void> {
    return this.helper.request(`netns-del ${tok(path)}`);
  }
  async mountOverlay(lower: string, upper: string, work: string, target: string): Promise<void> {
    return this.helper.request(`mount-overlay ${tok(lower)} ${tok(upper)} ${tok(work)} ${tok(target)}`);
  }
  async unmount(target: string): Promise<void> {
    return this.helper.request(`umount ${tok(target)}`);
  }
  async mount(source: string, target: string, opts: { type: string; options: string }): Promise<void> {
    return this.helper.request(`mount ${tok(source)} ${tok(target)} ${tok(opts.type || 'none')} ${tok(opts.options || '-')}`);
  }
  netnsList(dir: string): Promise<string[]> {
    return this.files.netnsList(dir);
  }
  portFree(proto: 'tcp' | 'udp', hostIp: string, port: number): Promise<boolean> {
    return portFree(proto, hostIp, port);
  }
  udpSocket(address: string, port: number): Promise<number> {
    return udpSocket(this.netns, address, port);
  }
  tcpSocket(address: string, port: number, mode: 'listen' | 'connect'): Promise<number> {
    return tcpSocket(this.netns, address, port, mode);
  }
}

/**
 * The first Kernel adapter: iproute2. One `ip -batch -` process per Batch (inside a sandbox through
 * `nsenter --net=PATH`), `ip -j` for reads, /proc/sys for sysctls of the daemon's own namespace.
 *
 * Limitations:
 * - Each batch costs a process spawn (~2-5 ms); a netlink adapter behind the same interface removes it.
 * - The errno of a failure is read from iproute2's message (the kernel's extended-ack text or
 *   strerror's): messages it does not know give 'UNKNOWN'.
 */
import { portFree } from './port-probe';
import { readdir, writeFile, unlink, open } from 'node:fs/promises';
import { CommandFailedError, run } from './exec';
import { AddrInfo, Batch, Family, IpvlanFlag, IpvlanMode, Kernel, KernelError, KernelErrno, LinkInfo, LinkStats, MacvlanMode, RouteInfo, SlaveOptions, VethOptions } from './kernel';
import { tcpSocket, udpSocket } from './netns-socket';

/**
 * The errno of an iproute2 failure. With an extended ack iproute2 prints only the kernel's text
 * ("Error: Nexthop has invalid gateway."), not strerror's: those texts are matched too.
 */
function errnoOf(stderr: string): KernelErrno {
  if (/File exists|VNI already exists/i.test(stderr)) return 'EEXIST';
  if (/Cannot find device|No such (file|device|process)|does not exist|Invalid "netns" value/i.test(stderr)) return 'ENOENT';
  if (/resource busy/i.test(stderr)) return 'EBUSY';
  if (/not permitted/i.test(stderr)) return 'EPERM';
  if (/Address already in use/i.test(stderr)) return 'EADDRINUSE';
  // The kernel says "IPv6 is disabled" with EACCES for addresses and routes, EINVAL for neighbours.
  if (/Permission denied|ipv6: IPv6 is disabled|IPv6 is disabled on nexthop/i.test(stderr)) return 'EACCES';
  if (/Operation not supported|Unknown device type/i.test(stderr)) return 'EOPNOTSUPP';
  if (/Network is unreachable|Nexthop has invalid gateway/i.test(stderr)) return 'ENETUNREACH';
  if (/Network is down|Device for nexthop is not up|Nexthop device is not up/i.test(stderr)) return 'ENETDOWN';
  if (/No route to host/i.test(stderr)) return 'EHOSTUNREACH';
  if (/Invalid argument|IPv6 is disabled on this device|Egress device not specified|Gateway can not be a local address|MTU must be between|mtu (less|greater) than device|Invalid prefix for given prefix length/i.test(stderr)) return 'EINVAL';
  return 'UNKNOWN';
}

class IpBatch implements Batch {
  /** lines in order, each for `ip` or `bridge` (FDB); consecutive lines of one tool run as one batch */
  private lines: ['ip' | 'bridge', string][] = [];
  constructor(private readonly kernel: IpKernel) {}

  get empty(): boolean {
    return this.lines.length === 0;
  }
  linkAddVxlan(name: string, o: { vni: number; local: string; port: number; mtu: number }): this {
    this.lines.push(['ip', `link add ${name} mtu ${o.mtu} type vxlan id ${o.vni} local ${o.local} dstport ${o.port} nolearning proxy`]);
    return this;
  }
  neighReplace(dev: string, ip: string, mac: string): this {
    this.lines.push(['ip', `neigh replace ${ip} lladdr ${mac} dev ${dev} nud permanent`]);
    return this;
  }
  neighDel(dev: string, ip: string): this {
    this.lines.push(['ip', `neigh del ${ip} dev ${dev}`]);
    return this;
  }
  fdbReplace(dev: string, mac: string, dst: string): this {
    this.lines.push(['bridge', `fdb replace ${mac} dev ${dev} dst ${dst} self permanent`]);
    return this;
  }
  fdbDel(dev: string, mac: string): this {
    this.lines.push(['bridge', `fdb del ${mac} dev ${dev} self`]);
    return this;
  }
  linkAddBridge(name: string, opts: { mtu?: number; mac?: string } = {}): this {
    this.lines.push(['ip', `link add ${name}${opts.mac ? ` address ${opts.mac}` : ''}${opts.mtu ? ` mtu ${opts.mtu}` : ''} type bridge`]);
    return this;
  }
  linkAddVeth(name: string, peer: string, o: VethOptions): this {
    const q = o.singleQueue ? ' numtxqueues 1 numrxqueues 1' : '';
    const peerOpts = `${o.peerMac ? ` address ${o.peerMac}` : ''} mtu ${o.mtu}${q}${o.peerNetns ? ` netns ${o.peerNetns}` : ''}`;
    this.lines.push(['ip', `link add ${name} mtu ${o.mtu}${q} type veth peer name ${peer}${peerOpts}`]);
    return this;
  }
  linkAddMacvlan(name: string, parent: string, mode: MacvlanMode, o: SlaveOptions = {}): this {
    this.lines.push(['ip', `link add link ${parent} name ${name}${o.mac ? ` address ${o.mac}` : ''}${o.mtu ? ` mtu ${o.mtu}` : ''}${o.netns ? ` netns ${o.netns}` : ''} type macvlan mode ${mode}`]);
    return this;
  }
  linkAddIpvlan(name: string, parent: string, mode: IpvlanMode, flag: IpvlanFlag, o: Omit<SlaveOptions, 'mac'> = {}): this {
    this.lines.push(['ip', `link add link ${parent} name ${name}${o.mtu ? ` mtu ${o.mtu}` : ''}${o.netns ? ` netns ${o.netns}` : ''} type ipvlan mode ${mode} ${flag}`]);
    return this;
  }
  linkAddVlan(name: string, parent: string, vid: number): this {
    this.lines.push(['ip', `link add link ${parent} name ${name} type vlan id ${vid}`]);
    return this;
  }
  linkAddDummy(name: string): this {
    this.lines.push(['ip', `link add ${name} type dummy`]);
    return this;
  }
  linkSetMaster(name: string, master: string): this {
    this.lines.push(['ip', `link set ${name} master ${master}`]);
    return this;
  }
  linkSetIsolated(name: string): this {
    this.lines.push(['ip', `link set ${name} type bridge_slave isolated on`]);
    return this;
  }
  linkSetUp(name: string): this {
    this.lines.push(['ip', `link set ${name} up`]);
    return this;
  }
  linkDel(name: string): this {
    this.lines.push(['ip', `link del ${name}`]);
    return this;
  }
  addrReplace(dev: string, cidr: string): this {
    this.lines.push(['ip', `addr replace ${cidr} dev ${dev}${cidr.includes(':') ? ' nodad' : ''}`]);
    return this;
  }
  routeReplace(dst: string, o: { via?: string; dev?: string }): this {
    this.lines.push(['ip', `route replace ${dst}${o.via ? ` via ${o.via}` : ''}${o.dev ? ` dev ${o.dev}` : ''}`]);
    return this;
  }
  async commit(): Promise<void> {
    // In order: a run of consecutive lines for one tool is one process.
    const scripts: [string, string[]][] = [];
    for (const [tool, line] of this.lines) {
      const last = scripts[scripts.length - 1];
      if (last && last[0] === tool) last[1].push(line);
      else scripts.push([tool, [line]]);
    }
    this.lines = [];
    for (const [tool, lines] of scripts) {
      const script = lines.join('\n') + '\n';
      try {
        await run(this.kernel.argv([tool, '-batch', '-']), { input: script });
      } catch (e) {
        const stderr = e instanceof CommandFailedError ? e.stderr : String(e);
        throw new KernelError(`${tool}: ${stderr.trim().split('\n')[0]} (in: ${script.trim().replace(/\n/g, '; ')})`, errnoOf(stderr), { cause: e });
      }
    }
  }
}

export class IpKernel implements Kernel {
  constructor(readonly netns?: string) {}

  at(path: string): Kernel {
    return new IpKernel(path);
  }
  batch(): Batch {
    return new IpBatch(this);
  }

  /** argv run inside this kernel's namespace */
  argv(cmd: string[]): string[] {
    return this.netns ? ['nsenter', `--net=${this.netns}`, ...cmd] : cmd;
  }

  private async json<T>(args: string[]): Promise<T[]> {
    try {
      const out = await run(this.argv(['ip', '-j', ...args]));
      return out.trim() ? (JSON.parse(out) as T[]) : [];
    } catch (e) {
      const stderr = e instanceof CommandFailedError ? e.stderr : String(e);
      throw new KernelError(`ip ${args.join(' ')}: ${stderr.trim()}`, errnoOf(stderr), { cause: e });
    }
  }

  async linkList(): Promise<LinkInfo[]> {
    type J = { ifname: string; ifindex: number; mtu: number; address: string; flags: string[]; master?: string; linkinfo?: { info_kind?: string } };
    const rows = await this.json<J>(['-d', 'link', 'show']);
    return rows.map((r) => ({
      name: r.ifname,
      index: r.ifindex,
      mtu: r.mtu,
      mac: r.address,
      up: r.flags.includes('UP'),
      kind: r.linkinfo?.info_kind,
      master: r.master,
    }));
  }

  async linkStats(): Promise<LinkStats[]> {
    type C = { bytes: number; packets: number; errors: number; dropped: number };
    type J = { ifname: string; stats64?: { rx: C; tx: C } };
    const rows = await this.json<J>(['-s', 'link', 'show']);
    return rows.map((r) => {
      const rx = r.stats64?.rx;
      const tx = r.stats64?.tx;
      return {
        name: r.ifname, rxBytes: rx?.bytes ?? 0, rxPackets: rx?.packets ?? 0, rxErrors: rx?.errors ?? 0, rxDropped: rx?.dropped ?? 0,
        txBytes: tx?.bytes ?? 0, txPackets: tx?.packets ?? 0, txErrors: tx?.errors ?? 0, txDropped: tx?.dropped ?? 0,
      };
    });
  }

  async fdbList(dev: string): Promise<{ mac: string; dst: string }[]> {
    try {
      const out = await run(this.argv(['bridge', '-j', 'fdb', 'show', 'dev', dev]));
      const rows = (out.trim() ? JSON.parse(out) : []) as { mac: string; dst?: string }[];
      return rows.filter((r) => r.dst).map((r) => ({ mac: r.mac, dst: r.dst! }));
    } catch (e) {
      const stderr = e instanceof CommandFailedError ? e.stderr : String(e);
      throw new KernelError(`bridge fdb show dev ${dev}: ${stderr.trim()}`, errnoOf(stderr), { cause: e });
    }
  }

  async neighList(dev: string, family: Family = 4): Promise<{ ip: string; mac: string }[]> {
    type J = { dst: string; lladdr?: string };
    const rows = await this.json<J>([`-${family}`, 'neigh', 'show', 'dev', dev]);
    return rows.filter((r) => r.lladdr).map((r) => ({ ip: r.dst, mac: r.lladdr! }));
  }

  async addrList(family: Family = 4): Promise<AddrInfo[]> {
    type J = { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] };
    const rows = await this.json<J>([`-${family}`, 'addr', 'show']);
    const inet = family === 4 ? 'inet' : 'inet6';
    return rows.flatMap((r) => r.addr_info.filter((a) => a.family === inet).map((a) => ({ dev: r.ifname, address: a.local, prefixLen: a.prefixlen })));
  }

  async routeList(family: Family = 4): Promise<RouteInfo[]> {
    type J = { dst: string; dev?: string; gateway?: string };
    const rows = await this.json<J>([`-${family}`, 'route', 'show']);
    return rows.map((r) => ({ dst: r.dst, dev: r.dev, gateway: r.gateway }));
  }

  async sysctlSet(key: string, value: string): Promise<void> {
    try {
      if (this.netns) await run(this.argv(['sysctl', '-q', '-w', `${key}=${value}`]));
      else await writeFile(`/proc/sys/${key.replace(/\./g, '/')}`, value);
    } catch (e) {
      const text = e instanceof CommandFailedError ? e.stderr : (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'No such file' : String(e);
      throw new KernelError(`sysctl ${key}=${value}: ${text.trim()}`, errnoOf(text), { cause: e });
    }
  }

  async netnsAdd(path: string, opts: { ipv6?: boolean } = {}): Promise<void> {
    // The bind-mount target must exist; `wx` makes a stale file from a crash an error, not a reuse.
    const fh = await open(path, 'wx').catch((e: NodeJS.ErrnoException) => {
      throw new KernelError(`${path}: ${e.message}`, e.code === 'EEXIST' || e.code === 'ENOENT' || e.code === 'EACCES' ? e.code : 'UNKNOWN', { cause: e });
    });
    await fh.close();
    try {
      const keys = opts.ipv6
        ? ['all.accept_ra=0', 'default.accept_ra=0', 'all.accept_dad=0', 'default.accept_dad=0', 'default.router_solicitations=0', 'all.disable_ipv6=0', 'default.disable_ipv6=0']
        : ['all.disable_ipv6=1', 'default.disable_ipv6=1'];
      await run(['unshare', `--net=${path}`, 'sysctl', '-e', '-q', '-w', ...keys.map((k) => `net.ipv6.conf.${k}`)]);
    } catch (e) {
      // Best effort: the mount (if unshare got that far) and the file are ours; a namespace left
      // mounted would make the next attempt at this path fail.
      await run(['umount', path]).catch(() => {});
      await unlink(path).catch(() => {});
      throw new KernelError(`creating network namespace ${path}`, 'UNKNOWN', { cause: e });
    }
  }

  async netnsDel(path: string): Promise<void> {
    try {
      await run(['umount', path]);
    } catch (e) {
      // "not mounted" or "no such file" mean the namespace is already gone: deletes are idempotent.
      if (!(e instanceof CommandFailedError) || !/not mounted|no mount point|No such file/i.test(e.stderr)) throw e;
    }
    await unlink(path).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async mountOverlay(lower: string, upper: string, work: string, target: string): Promise<void> {
    await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work}`, target]);
  }

  async unmount(target: string): Promise<void> {
    await run(['umount', target]);
  }

  async mount(source: string, target: string, opts: { type: string; options: string }): Promise<void> {
    try {
      await run(['mount', '-t', opts.type || 'none', ...(opts.options ? ['-o', opts.options] : []), source, target]);
    } catch (e) {
      const text = e instanceof CommandFailedError ? e.stderr : String(e);
      throw new KernelError(`mount ${source} on ${target}: ${text.trim()}`, /does not exist|No such file|unknown filesystem type/i.test(text) ? 'ENOENT' : /busy/i.test(text) ? 'EBUSY' : /permission/i.test(text) ? 'EPERM' : 'UNKNOWN', { cause: e });
    }
  }

  async netnsList(dir: string): Promise<string[]> {
    const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return [] as string[];
      throw e;
    });
    return names.map((n) => `${dir}/${n}`);
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

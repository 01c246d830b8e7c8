/**
 * The nftables backend. ctrnet owns two tables of the same name, `ip ctrnet` (IPv4) and `ip6
 * ctrnet` (IPv6), with the same chains, maps and user chain (as Docker keeps iptables and
 * ip6tables chains, and its nftables backend `ip` and `ip6` tables), plus `bridge ctrnet` for
 * anti-spoofing; it never touches any other. Two tables rather than one `inet` table: IPv4's
 * rules and golden files stay as they were, an admin's rules in `ip ctrnet user` keep working
 * after an upgrade, and what differs per family (the loopback, masquerade for routed networks,
 * neighbour discovery) is said once per family by the same renderer. The desired state (networks
 * and published ports) is kept in memory; `reapply()` renders ctrnet's chains, maps and sets and
 * replaces each of them in one atomic `nft -f -` transaction; adding or removing published ports
 * only adds or deletes elements of the maps, so the cost of a port does not grow with the number
 * of ports.
 *
 * The user chain (`user`, Docker's DOCKER-USER idea): a regular chain of each table that ctrnet
 * creates when it is missing and never flushes or deletes, so an admin's rules there survive
 * every re-render (network create/rm, restart, `ctrnet system reload`, restoring removed rules).
 * `forward` jumps to it before anything else: every packet ctrnet forwards, published ports
 * included (after DNAT: match `ct original proto-dst` or `ct status dnat`), passes it first. The
 * re-render therefore does not replace a table whole: it adds each of ctrnet's chains and maps
 * (so that each exists), deletes them (base chains first: deleting them drops the jumps and map
 * lookups that would keep the others busy) and adds them again, all in one transaction.
 *
 * Published ports, in each family's table:
 *   pub_any: proto . port → container ip . port   (published on every host address of the family)
 *   pub_ip:  host ip . proto . port → container ip . port
 *   routed (ip6 only): container ip . proto . port, ports opened on routed networks' containers
 * They are looked up for packets to a local address, in prerouting (from other hosts and from
 * containers) and in output (from the host itself, 127.0.0.1 included). Packets from outside to
 * 127.0.0.0/8 or ::1 are never DNATed, so a port published there stays private to the host; IPv6
 * cannot NAT ::1 at all (the kernel keeps it on lo), so the loopback relay (../loopback-relay.ts)
 * serves [::1] for IPv6 ports.
 *
 * NAT66: each IPv6 subnet is masqueraded as IPv4 is (Docker's gateway mode `nat`), unless its
 * network is `routed` (gateway_mode_ipv6=routed): no masquerade, and from other interfaces only
 * established traffic, ICMPv6 and the `routed` ports pass (Docker's rule for routed networks).
 *
 * Isolation: packets routed from one network's bridge to another's are dropped (unless they were
 * DNATed to a published port), and so are packets to another network's gateway address; an
 * internal network forwards nothing to or from other interfaces (IPv6: neighbour discovery with
 * its gateway passes).
 *
 * Anti-spoofing (table `bridge ctrnet`): a frame entering a bridge from a container's port must
 * carry that container's MAC, and its ARP and IPv4 sender address must be the container's; its
 * IPv6 source one of its own (global, link-local), a neighbour advertisement's target one of its
 * own, and no router advertisement or redirect: no ARP or ND spoofing of the gateway or another
 * container, no spoofed source addresses. Ports are set elements, added and removed with the
 * endpoint. The IPv6 rules sit beside the IPv4 ones in the same chain, so that they move together.
 *
 * Limitations: an address added by hand inside a container is dropped as spoofed. The user chain
 * is not consulted for the host's own connections to published ports (they are not forwarded: an
 * `output` hook of the admin's filters those); an admin filters IPv4 in `ip ctrnet user` and IPv6
 * in `ip6 ctrnet user`. A table removed whole (`nft flush ruleset`) is restored with an empty user
 * chain: its rules were the admin's and went with it. Objects of ctrnet whose definition changed (a
 * map's type) are replaced only if the table is deleted once: `add map` refuses an existing map of
 * another type. In NAT mode, as for IPv4, direct routing to a container's IPv6 address is not
 * filtered (Docker 28 filters it).
 */
import { spawn } from 'node:child_process';
import { run } from '../../kernel/exec';
import { NFT_FAMILY, NFT_FAMILY6, NFT_TABLE, NFT_USER_CHAIN } from '../../base/names';
import { ip6ToBig } from '../../ipam/ipam6';
import { EndpointPort, Firewall, FirewallFacts, NetworkFirewall, NetworkFirewallConfig, PortMapping } from '../firewall';
import { LoopbackRelay, relayed } from '../loopback-relay';

/** The only seam to the nft program. */
export interface NftRunner {
  apply(script: string): Promise<void>;
  /** `nft [-j] list table ip ctrnet` (or `ip6 ctrnet`, `bridge ctrnet`) */
  list(json: boolean, family?: 'ip' | 'ip6' | 'bridge'): Promise<string>;
  /** `nft monitor tables`: calls back with each event line; returns the stop function. */
  monitor(onLine: (line: string) => void): () => void;
}

export const nftCommand: NftRunner = {
  async apply(script: string): Promise<void> {
    await run(['nft', '-f', '-'], { input: script });
  },
  async list(json: boolean, family: 'ip' | 'ip6' | 'bridge' = NFT_FAMILY): Promise<string> {
    return run(['nft', ...(json ? ['-j'] : []), 'list', 'table', family, NFT_TABLE]);
  },
  monitor(onLine: (line: string) => void): () => void {
    // --pdeathsig: the monitor dies with the daemon, even when the daemon is SIGKILLed.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', 'nft', 'monitor', 'tables'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        onLine(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    });
    child.on('error', () => {}); // without setpriv or nft the firewall still works, unwatched
    return () => child.kill();
  },
};

const T = `${NFT_FAMILY} ${NFT_TABLE}`;
/** the IPv6 table */
const T6 = `${NFT_FAMILY6} ${NFT_TABLE}`;
/** the anti-spoofing table, in the bridge family */
const B = `bridge ${NFT_TABLE}`;

const q = (s: string) => `"${s}"`;
/** An IPv6 address as the 128-bit integer a raw payload match (`@th,64,128`) compares with. */
const hex128 = (ip: string) => `0x${ip6ToBig(ip).toString(16).padStart(32, '0')}`;
const portElems = (eps: readonly EndpointPort[]) => ({
  ports: eps.map((e) => q(e.port)),
  mac: eps.map((e) => `${q(e.port)} . ${e.mac}`),
  ip: eps.filter((e) => e.ip).map((e) => `${q(e.port)} . ${e.ip}`),
  all: eps.filter((e) => e.ip).map((e) => `${q(e.port)} . ${e.mac} . ${e.ip}`),
  ip6: eps.flatMap((e) => (e.ip6 ?? []).map((a) => `${q(e.port)} . ${a}`)),
  all6: eps.flatMap((e) => (e.ip6 ?? []).map((a) => `${q(e.port)} . ${e.mac} . ${a}`)),
  nd: eps.flatMap((e) => (e.ip6 ?? []).map((a) => `${q(e.port)} . ${hex128(a)}`)),
});
/** set name → its elements */
const elemsOf = (el: ReturnType<typeof portElems>): Record<string, string[]> => ({
  ports: el.ports, port_mac: el.mac, port_ip: el.ip, port_mac_ip: el.all, port_ip6: el.ip6, port_mac_ip6: el.all6, port_nd: el.nd,
});

/**
 * The anti-spoofing table (replaced whole, like the others). IPv6: a port's frames may carry only
 * its own IPv6 source addresses (global and link-local; "::" only for neighbour solicitations and
 * MLD reports, which a starting interface sends before it has an address), no router
 * advertisements or redirects, and neighbour advertisements only for its own addresses (the NA's
 * target, bytes 8-23 of the ICMPv6 message): a container cannot answer neighbour discovery for
 * the gateway or another container. The IPv4 and IPv6 fast paths come first: nearly every frame
 * passes with one lookup.
 */
export function renderBridgeTable(eps: readonly EndpointPort[]): string {
  const el = elemsOf(portElems(eps));
  const set = (name: string, type: string) => `\tset ${name} {\n\t\t${type}${el[name].length ? `\n\t\telements = { ${el[name].join(', ')} }` : ''}\n\t}`;
  return [
    `table ${B}`,
    `delete table ${B}`,
    `table ${B} {`,
    set('ports', 'type ifname'),
    set('port_mac', 'type ifname . ether_addr'),
    set('port_ip', 'type ifname . ipv4_addr'),
    set('port_mac_ip', 'type ifname . ether_addr . ipv4_addr'),
    set('port_ip6', 'type ifname . ipv6_addr'),
    set('port_mac_ip6', 'type ifname . ether_addr . ipv6_addr'),
    set('port_nd', 'typeof iifname . @th,64,128'),
    `\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;`,
    // Nearly every frame is an IPv4 packet from a container with its own MAC and address: one
    // lookup lets it through (this chain runs for every frame crossing the bridge).
    `\t\tether type ip iifname . ether saddr . ip saddr @port_mac_ip accept`,
    // IPv6 the same, but neighbour discovery (ICMPv6) goes on to the checks below.
    `\t\tether type ip6 iifname . ether saddr . ip6 saddr @port_mac_ip6 meta l4proto != ipv6-icmp accept`,
    `\t\tiifname != @ports accept`,
    `\t\tiifname . ether saddr != @port_mac counter drop comment "spoofed MAC"`,
    `\t\tether type arp iifname . arp saddr ip != @port_ip counter drop comment "spoofed ARP sender"`,
    `\t\tether type ip iifname . ip saddr != @port_ip counter drop comment "spoofed source address"`,
    `\t\ticmpv6 type { nd-router-advert, nd-redirect } counter drop comment "router advertisement or redirect from a container"`,
    `\t\ticmpv6 type nd-neighbor-advert iifname . @th,64,128 != @port_nd counter drop comment "spoofed neighbour advertisement"`,
    `\t\tip6 saddr :: icmpv6 type { nd-neighbor-solicit, mld2-listener-report } accept`,
    `\t\tether type ip6 iifname . ip6 saddr != @port_ip6 counter drop comment "spoofed IPv6 source address"`,
    `\t}`,
    `}`,
    '',
  ].join('\n');
}

/** A routed IPv6 port (base/model.ts PortMapping): opened on the container's address, not mapped. */
const isRouted = (p: PortMapping): boolean => p.hostIp === p.containerIp;
const is6 = (p: PortMapping): boolean => p.containerIp.includes(':');
const tableOf = (p: PortMapping): string => (is6(p) ? T6 : T);

function portKey(p: PortMapping): string {
  if (isRouted(p)) return `${p.containerIp} . ${p.proto} . ${p.containerPort}`;
  return p.hostIp === '0.0.0.0' || p.hostIp === '::' ? `${p.proto} . ${p.hostPort}` : `${p.hostIp} . ${p.proto} . ${p.hostPort}`;
}
const mapOf = (p: PortMapping): string => (isRouted(p) ? 'routed' : p.hostIp === '0.0.0.0' || p.hostIp === '::' ? 'pub_any' : 'pub_ip');
const element = (p: PortMapping): string => (isRouted(p) ? portKey(p) : `${portKey(p)} : ${p.containerIp} . ${p.containerPort}`);
const shortNet = (id: string): string => id.slice(0, 12);

/** What differs between the two tables of ctrnet: the family's words and each network's subnet in it. */
interface Family {
  table: string;
  ip: 'ip' | 'ip6';
  addr: 'ipv4_addr' | 'ipv6_addr';
  /** what a packet from the host's own loopback to a published port carries */
  loopback: string;
  subnet(n: NetworkFirewallConfig): string | undefined;
  gateway(n: NetworkFirewallConfig): string | undefined;
  /** no masquerade; only published ports from other interfaces */
  routed(n: NetworkFirewallConfig): boolean;
}

const V4: Family = { table: T, ip: 'ip', addr: 'ipv4_addr', loopback: '127.0.0.0/8', subnet: (n) => n.subnet || undefined, gateway: (n) => n.gateway || undefined, routed: () => false };
const V6: Family = { table: T6, ip: 'ip6', addr: 'ipv6_addr', loopback: '::1', subnet: (n) => n.subnet6, gateway: (n) => n.gateway6, routed: (n) => !!n.routed6 && !n.internal };

/** Renders the IPv4 table from the desired state. Pure: golden-tested. */
export function renderTable(nets: readonly NetworkFirewallConfig[], ports: readonly PortMapping[]): string {
  return renderFamily(V4, nets, ports.filter((p) => !is6(p)));
}

/**
 * Renders the IPv6 table (`ip6 ctrnet`): the same rules for the networks' IPv6 subnets, and routed
 * networks. Ports on ::1 have no element (the loopback relay serves them). Pure: golden-tested.
 */
export function renderTable6(nets: readonly NetworkFirewallConfig[], ports: readonly PortMapping[]): string {
  return renderFamily(V6, nets, ports.filter((p) => is6(p) && p.hostIp !== '::1'));
}

function renderFamily(f: Family, all: readonly NetworkFirewallConfig[], ports: readonly PortMapping[]): string {
  const nets = all.filter((n) => f.subnet(n));
  const maps = mapsOf(f);
  const elems = (map: string): string => {
    const e = ports.filter((p) => mapOf(p) === map).map(element);
    return e.length ? `\n\t\telements = { ${e.join(', ')} }` : '';
  };
  const netRules = nets.flatMap((n) => [
    ...(n.internal || f.routed(n) ? [] : [`\t\t${f.ip} saddr ${f.subnet(n)} oifname != "${n.bridge}" counter masquerade comment "net ${shortNet(n.id)} outbound"`]),
    `\t\t${f.ip} saddr ${f.subnet(n)} oifname "${n.bridge}" ct status dnat counter masquerade comment "net ${shortNet(n.id)} hairpin"`,
  ]);
  // Routed networks first: their published ports are reached from anywhere, other networks included (as in Docker).
  const routed = nets.filter((n) => f.routed(n)).flatMap((n) => {
    const into = `oifname "${n.bridge}" iifname != "${n.bridge}"`;
    const c = `comment "net ${shortNet(n.id)} routed"`;
    return [
      `\t\t${into} ct state established,related accept ${c}`,
      `\t\t${into} meta l4proto ipv6-icmp accept ${c}`,
      `\t\t${into} ${f.ip} daddr . meta l4proto . th dport @routed accept ${c}`,
      `\t\t${into} counter drop comment "net ${shortNet(n.id)} routed: not a published port"`,
    ];
  });
  const forward = nets.flatMap((n) => {
    const others = nets.filter((o) => o.id !== n.id).map((o) => q(o.bridge));
    return [
      ...(others.length ? [`\t\tiifname "${n.bridge}" oifname { ${others.join(', ')} } ct status & dnat == 0 drop comment "net ${shortNet(n.id)} isolation"`] : []),
      ...(n.internal
        ? [
            `\t\tiifname "${n.bridge}" oifname != "${n.bridge}" drop comment "net ${shortNet(n.id)} internal"`,
            `\t\toifname "${n.bridge}" iifname != "${n.bridge}" drop comment "net ${shortNet(n.id)} internal"`,
          ]
        : []),
    ];
  });
  const input = nets.flatMap((n) => {
    // An internal network reaches its gateway and nothing else of the host (IPv6: and neighbour discovery, to find it).
    if (n.internal) {
      return [
        ...(f.ip === 'ip6' ? [`\t\tiifname "${n.bridge}" icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept comment "net ${shortNet(n.id)} internal: neighbour discovery"`] : []),
        `\t\tiifname "${n.bridge}" ${f.ip} daddr != ${f.gateway(n)} drop comment "net ${shortNet(n.id)} internal"`,
      ];
    }
    const others = nets.filter((o) => o.id !== n.id).map((o) => f.gateway(o));
    return others.length ? [`\t\tiifname "${n.bridge}" ${f.ip} daddr { ${others.join(', ')} } drop comment "net ${shortNet(n.id)} other gateways"`] : [];
  });
  return [
    ...replaceOwn(f),
    `table ${f.table} {`,
    // Each element counts the connections it published (`ctrnet explain` shows them).
    ...Object.entries(maps).map(([name, type]) => `\tmap ${name} {\n\t\ttype ${type}\n\t\tcounter${elems(name)}\n\t}`),
    ...Object.entries(setsOf(f)).map(([name, type]) => `\tset ${name} {\n\t\ttype ${type}${elems(name)}\n\t}`),
    `\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tfib daddr type local ${f.ip} daddr != ${f.loopback} jump publish\n\t}`,
    // IPv4: the host's own connections, 127.0.0.1 included (route_localnet). IPv6 cannot NAT ::1
    // (the kernel keeps it on lo): the loopback relay listens there instead.
    `\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tfib daddr type local ${f.ip === 'ip6' ? 'ip6 daddr != ::1 ' : ''}jump publish\n\t}`,
    `\tchain publish {\n\t\tdnat ${f.ip} to ${f.ip} daddr . meta l4proto . th dport map @pub_ip\n\t\tdnat ${f.ip} to meta l4proto . th dport map @pub_any\n\t}`,
    `\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;`,
    // The host's own IPv4 connections to published ports (IPv6's ::1 is never DNATed: the relay's).
    ...(f.ip === 'ip' ? [`\t\t${f.ip} saddr ${f.loopback} ct status dnat masquerade comment "host loopback to published ports"`] : []),
    ...netRules,
    `\t}`,
    `\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;`,
    // The admin's rules come first, like DOCKER-USER: a drop there wins over everything below.
    `\t\tjump ${NFT_USER_CHAIN}`,
    ...routed,
    ...forward,
    `\t}`,
    `\tchain input {\n\t\ttype filter hook input priority filter; policy accept;`,
    ...input,
    `\t}`,
    `}`,
    '',
  ].join('\n');
}

/** ctrnet's maps in a table, with their types. */
const mapsOf = (f: Family): Record<string, string> => ({
  pub_any: `inet_proto . inet_service : ${f.addr} . inet_service`,
  pub_ip: `${f.addr} . inet_proto . inet_service : ${f.addr} . inet_service`,
});
/** ctrnet's sets in a table (IPv6: the ports opened on routed networks' containers). */
const setsOf = (f: Family): Record<string, string> => (f.ip === 'ip6' ? { routed: `${f.addr} . inet_proto . inet_service` } : {});
/**
 * ctrnet's chains in each table, in the order they can be deleted: base chains first (they
 * hold the jumps to `publish` and the user chain), then `publish` (it holds the map lookups).
 */
const CHAINS = ['prerouting', 'output', 'postrouting', 'forward', 'input', 'publish'];

/**
 * The first lines of a render: the table and the user chain are created if missing and otherwise
 * left alone; each of ctrnet's chains, maps and sets is added (a no-op when present, so that the
 * delete cannot fail on a table someone took apart) and deleted, to be added again by the rest of
 * the script. The kernel applies it all or nothing.
 */
function replaceOwn(f: Family): string[] {
  return [
    `add table ${f.table}`,
    `add chain ${f.table} ${NFT_USER_CHAIN}`,
    ...CHAINS.map((c) => `add chain ${f.table} ${c}`),
    ...Object.entries(mapsOf(f)).map(([name, type]) => `add map ${f.table} ${name} { type ${type}; counter; }`),
    ...Object.entries(setsOf(f)).map(([name, type]) => `add set ${f.table} ${name} { type ${type}; }`),
    ...CHAINS.map((c) => `delete chain ${f.table} ${c}`),
    ...Object.keys(mapsOf(f)).map((m) => `delete map ${f.table} ${m}`),
    ...Object.keys(setsOf(f)).map((m) => `delete set ${f.table} ${m}`),
  ];
}

export class NftFirewall implements Firewall {
  private readonly nets = new Map<string, NetworkFirewallConfig>();
  private readonly ports = new Map<string, PortMapping>();
  private readonly endpoints = new Map<string, EndpointPort>();

  constructor(
    private readonly nft: NftRunner = nftCommand,
    /** IPv6 ports on the host's loopback (NAT cannot reach ::1) */
    private readonly relay: LoopbackRelay = new LoopbackRelay(),
  ) {}

  async newNetwork(cfg: NetworkFirewallConfig): Promise<NetworkFirewall> {
    const prev = this.nets.get(cfg.id);
    if (!prev || JSON.stringify(prev) !== JSON.stringify(cfg)) {
      this.nets.set(cfg.id, cfg);
      await this.reapply();
    }
    return {
      addPorts: (ports) => this.change(ports, 'add'),
      delPorts: (ports) => this.change(ports, 'delete'),
      delNetworkRules: async () => {
        this.nets.delete(cfg.id);
        await this.reapply();
      },
    };
  }

  private async change(ports: readonly PortMapping[], op: 'add' | 'delete'): Promise<void> {
    if (ports.length === 0) return;
    for (const p of ports.filter(relayed)) {
      if (op === 'add') await this.relay.add(p);
      else this.relay.remove(p);
    }
    const script = ports
      .filter((p) => p.hostIp !== '::1')
      .map((p) => `${op} element ${tableOf(p)} ${mapOf(p)} { ${op === 'add' ? element(p) : portKey(p)} }`)
      .join('\n');
    const keyOf = (p: PortMapping) => `${tableOf(p)} ${mapOf(p)} ${portKey(p)}`;
    for (const p of ports) {
      if (op === 'add') this.ports.set(keyOf(p), p);
      else this.ports.delete(keyOf(p));
    }
    try {
      if (script) await this.nft.apply(script + '\n');
    } catch (e) {
      // The table may have been removed by someone else, or an element may already be gone:
      // the full render restores exactly the desired state either way.
      try {
        await this.reapply();
      } catch (e2) {
        if (op === 'add') for (const p of ports) this.ports.delete(keyOf(p));
        throw new AggregateError([e, e2], 'applying published ports');
      }
    }
  }

  async reapply(): Promise<void> {
    const nets = [...this.nets.values()];
    const ports = [...this.ports.values()];
    await this.nft.apply(renderTable(nets, ports) + renderTable6(nets, ports) + renderBridgeTable([...this.endpoints.values()]));
    for (const p of ports.filter(relayed)) await this.relay.add(p);
  }

  async addEndpoint(ep: EndpointPort): Promise<void> {
    this.endpoints.set(ep.port, ep);
    await this.endpointElements('add', ep);
  }

  async delEndpoint(ep: EndpointPort): Promise<void> {
    if (!this.endpoints.delete(ep.port)) return;
    await this.endpointElements('delete', ep);
  }

  private async endpointElements(op: 'add' | 'delete', ep: EndpointPort): Promise<void> {
    const script = Object.entries(elemsOf(portElems([ep]))).filter(([, items]) => items.length).map(([set, items]) => `${op} element ${B} ${set} { ${items.join(', ')} }`).join('\n') + '\n';
    // Missing table (someone removed it) or element (already gone): the full render fixes both.
    await this.nft.apply(script).catch(() => this.reapply());
  }

  /**
   * Restores our table within a second when someone else removes it (`nft flush ruleset`,
   * `nft delete table ip ctrnet`). Our own re-render deletes and re-adds the bridge table in one
   * transaction, so a deletion is acted on only if a table is still missing a moment later.
   */
  watch(log: (m: string) => void): () => void {
    let timer: NodeJS.Timeout | undefined;
    const check = async () => {
      timer = undefined;
      const has = (family: 'ip' | 'ip6' | 'bridge') => this.nft.list(false, family).then(() => true, () => false);
      if (this.nets.size === 0 || ((await has('ip')) && (await has('ip6')) && (await has('bridge')))) return;
      log('nftables tables of ctrnet were removed by someone else: restoring them');
      await this.reapply().catch((e: Error) => log(`restoring nftables rules: ${e.message}`));
    };
    return this.nft.monitor((line) => {
      if (![T, T6, B].some((t) => line.trim() === `delete table ${t}`)) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check(), 100);
    });
  }

  /** What the kernel has now: rule lines (with counters) and published-port elements (with counters). */
  async describe(): Promise<FirewallFacts> {
    const text = await this.nft.list(false).catch(() => '');
    const text6 = await this.nft.list(false, 'ip6').catch(() => '');
    const rules = [...text.split('\n'), ...text6.split('\n')].map((l) => l.trim()).filter((l) => /masquerade|dnat|drop/.test(l));
    const ports: FirewallFacts['ports'] = [];
    for (const [family, any] of [['ip', '0.0.0.0'], ['ip6', '::']] as const) {
      const json = await this.nft.list(true, family).catch(() => '');
      if (!json) continue;
      type Elem = { elem: { val: { concat: (string | number)[] }; counter?: { packets: number; bytes: number } } };
      type MapObj = { map?: { name: string; elem?: [Elem, { concat: (string | number)[] }][] } };
      for (const o of (JSON.parse(json) as { nftables: MapObj[] }).nftables) {
        for (const [k, v] of o.map?.elem ?? []) {
          const key = k.elem.val.concat;
          const [hostIp, proto, hostPort] = key.length === 3 ? key : [any, ...key];
          ports.push({ proto: String(proto), hostIp: String(hostIp), hostPort: Number(hostPort), containerIp: String(v.concat[0]), containerPort: Number(v.concat[1]), packets: k.elem.counter?.packets ?? 0, bytes: k.elem.counter?.bytes ?? 0 });
        }
      }
    }
    // Ports on ::1 are the relay's: they have no element.
    const relays = this.relay.counts();
    for (const p of this.ports.values()) {
      if (p.hostIp === '::1') ports.push({ ...p, packets: relays.get(`${p.proto} ${p.hostPort}`) ?? 0, bytes: 0 });
    }
    return { present: text !== '', expected: this.nets.size > 0, rules, ports };
  }

  /**
   * Removes ctrnet's chains and maps and the anti-spoofing table. Table `ip ctrnet` stays with the
   * user chain in it, rules included, as Docker keeps DOCKER-USER: they are the admin's (`nft
   * delete table ip ctrnet` removes them).
   */
  async removeAll(): Promise<void> {
    this.nets.clear();
    this.ports.clear();
    this.endpoints.clear();
    this.relay.closeAll();
    await this.nft.apply([...replaceOwn(V4), ...replaceOwn(V6), `table ${B}`, `delete table ${B}`, ''].join('\n'));
  }
}

/**
 * The nftables backend. ctrnet owns one table, `ip ctrnet`, and never touches any other. The desired
 * state (networks and published ports) is kept in memory; `reapply()` renders ctrnet's chains and
 * maps and replaces each of them in one atomic `nft -f -` transaction; adding or removing published
 * ports only adds or deletes elements of two maps, so the cost of a port does not grow with the
 * number of ports.
 *
 * The user chain (`user`, Docker's DOCKER-USER idea): a regular chain of table `ip ctrnet` that
 * ctrnet creates when it is missing and never flushes or deletes, so an admin's rules there survive
 * every re-render (network create/rm, restart, `ctrnet system reload`, restoring removed rules).
 * `forward` jumps to it before anything else: every packet ctrnet forwards, published ports
 * included (after DNAT: match `ct original proto-dst` or `ct status dnat`), passes it first. The
 * re-render therefore does not replace the table whole: it adds each of ctrnet's chains and maps
 * (so that each exists), deletes them (base chains first: deleting them drops the jumps and map
 * lookups that would keep the others busy) and adds them again, all in one transaction.
 *
 * Published ports:
 *   pub_any: proto . port → container ip . port   (published on every host address)
 *   pub_ip:  host ip . proto . port → container ip . port
 * They are looked up for packets to a local address, in prerouting (from other hosts and from
 * containers) and in output (from the host itself, 127.0.0.1 included). Packets from outside to
 * 127.0.0.0/8 are never DNATed, so a port published on 127.0.0.1 stays private to the host.
 *
 * Isolation: packets routed from one network's bridge to another's are dropped (unless they were
 * DNATed to a published port), and so are packets to another network's gateway address; an
 * internal network forwards nothing to or from other interfaces.
 *
 * Anti-spoofing (table `bridge ctrnet`): a frame entering a bridge from a container's port must
 * carry that container's MAC, and its ARP and IPv4 sender address must be the container's: no
 * ARP spoofing of the gateway, no spoofed source addresses. Ports are set elements, one per
 * endpoint, added and removed with the endpoint.
 *
 * Limitations: IPv4 only; an address added by hand inside a container is dropped as spoofed. The
 * user chain is not consulted for the host's own connections to published ports (they are not
 * forwarded: an `output` hook of the admin's filters those). A table removed whole (`nft flush
 * ruleset`) is restored with an empty user chain: its rules were the admin's and went with it.
 * Objects of ctrnet whose definition changed (a map's type) are replaced only if the table is
 * deleted once: `add map` refuses an existing map of another type.
 */
import { spawn } from 'node:child_process';
import { run } from '../../kernel/exec';
import { NFT_FAMILY, NFT_TABLE, NFT_USER_CHAIN } from '../../base/names';
import { EndpointPort, Firewall, FirewallFacts, NetworkFirewall, NetworkFirewallConfig, PortMapping } from '../firewall';

/** The only seam to the nft program. */
export interface NftRunner {
  apply(script: string): Promise<void>;
  /** `nft [-j] list table ip ctrnet` (or `bridge ctrnet`) */
  list(json: boolean, family?: 'ip' | 'bridge'): Promise<string>;
  /** `nft monitor tables`: calls back with each event line; returns the stop function. */
  monitor(onLine: (line: string) => void): () => void;
}

export const nftCommand: NftRunner = {
  async apply(script: string): Promise<void> {
    await run(['nft', '-f', '-'], { input: script });
  },
  async list(json: boolean, family: 'ip' | 'bridge' = NFT_FAMILY): Promise<string> {
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
/** the anti-spoofing table, in the bridge family */
const B = `bridge ${NFT_TABLE}`;

const q = (s: string) => `"${s}"`;
const portElems = (eps: readonly EndpointPort[]) => ({
  ports: eps.map((e) => q(e.port)),
  mac: eps.map((e) => `${q(e.port)} . ${e.mac}`),
  ip: eps.map((e) => `${q(e.port)} . ${e.ip}`),
  all: eps.map((e) => `${q(e.port)} . ${e.mac} . ${e.ip}`),
});
/** set name → its elements */
const elemsOf = (el: ReturnType<typeof portElems>): Record<string, string[]> => ({ ports: el.ports, port_mac: el.mac, port_ip: el.ip, port_mac_ip: el.all });

/** The anti-spoofing table (replaced whole, like the other). */
export function renderBridgeTable(eps: readonly EndpointPort[]): string {
  const el = portElems(eps);
  const set = (name: string, type: string, items: string[]) => `\tset ${name} {\n\t\ttype ${type}${items.length ? `\n\t\telements = { ${items.join(', ')} }` : ''}\n\t}`;
  return [
    `table ${B}`,
    `delete table ${B}`,
    `table ${B} {`,
    set('ports', 'ifname', el.ports),
    set('port_mac', 'ifname . ether_addr', el.mac),
    set('port_ip', 'ifname . ipv4_addr', el.ip),
    set('port_mac_ip', 'ifname . ether_addr . ipv4_addr', el.all),
    `\tchain prerouting {\n\t\ttype filter hook prerouting priority filter; policy accept;`,
    // Nearly every frame is an IPv4 packet from a container with its own MAC and address: one
    // lookup lets it through (this chain runs for every frame crossing the bridge).
    `\t\tether type ip iifname . ether saddr . ip saddr @port_mac_ip accept`,
    `\t\tiifname != @ports accept`,
    `\t\tiifname . ether saddr != @port_mac counter drop comment "spoofed MAC"`,
    `\t\tether type arp iifname . arp saddr ip != @port_ip counter drop comment "spoofed ARP sender"`,
    `\t\tether type ip iifname . ip saddr != @port_ip counter drop comment "spoofed source address"`,
    `\t}`,
    `}`,
    '',
  ].join('\n');
}

function portKey(p: PortMapping): string {
  return p.hostIp === '0.0.0.0' ? `${p.proto} . ${p.hostPort}` : `${p.hostIp} . ${p.proto} . ${p.hostPort}`;
}
const mapOf = (p: PortMapping): string => (p.hostIp === '0.0.0.0' ? 'pub_any' : 'pub_ip');
const element = (p: PortMapping): string => `${portKey(p)} : ${p.containerIp} . ${p.containerPort}`;
const shortNet = (id: string): string => id.slice(0, 12);

/** Renders the whole table from the desired state. Pure: golden-tested. */
export function renderTable(nets: readonly NetworkFirewallConfig[], ports: readonly PortMapping[]): string {
  const elems = (map: string): string => {
    const e = ports.filter((p) => mapOf(p) === map).map(element);
    return e.length ? `\n\t\telements = { ${e.join(', ')} }` : '';
  };
  const netRules = nets.flatMap((n) => [
    ...(n.internal ? [] : [`\t\tip saddr ${n.subnet} oifname != "${n.bridge}" counter masquerade comment "net ${shortNet(n.id)} outbound"`]),
    `\t\tip saddr ${n.subnet} oifname "${n.bridge}" ct status dnat counter masquerade comment "net ${shortNet(n.id)} hairpin"`,
  ]);
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
    // An internal network reaches its gateway (the resolver) and nothing else of the host.
    if (n.internal) return [`\t\tiifname "${n.bridge}" ip daddr != ${n.gateway} drop comment "net ${shortNet(n.id)} internal"`];
    const others = nets.filter((o) => o.id !== n.id).map((o) => o.gateway);
    return others.length ? [`\t\tiifname "${n.bridge}" ip daddr { ${others.join(', ')} } drop comment "net ${shortNet(n.id)} other gateways"`] : [];
  });
  return [
    ...replaceOwn(),
    `table ${T} {`,
    // Each element counts the connections it published (`ctrnet explain` shows them).
    ...Object.entries(MAPS).map(([name, type]) => `\tmap ${name} {\n\t\ttype ${type}\n\t\tcounter${elems(name)}\n\t}`),
    `\tchain prerouting {\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\tfib daddr type local ip daddr != 127.0.0.0/8 jump publish\n\t}`,
    `\tchain output {\n\t\ttype nat hook output priority -100; policy accept;\n\t\tfib daddr type local jump publish\n\t}`,
    `\tchain publish {\n\t\tdnat ip to ip daddr . meta l4proto . th dport map @pub_ip\n\t\tdnat ip to meta l4proto . th dport map @pub_any\n\t}`,
    `\tchain postrouting {\n\t\ttype nat hook postrouting priority srcnat; policy accept;`,
    `\t\tip saddr 127.0.0.0/8 ct status dnat masquerade comment "host loopback to published ports"`,
    ...netRules,
    `\t}`,
    `\tchain forward {\n\t\ttype filter hook forward priority filter; policy accept;`,
    // The admin's rules come first, like DOCKER-USER: a drop there wins over everything below.
    `\t\tjump ${NFT_USER_CHAIN}`,
    ...forward,
    `\t}`,
    `\tchain input {\n\t\ttype filter hook input priority filter; policy accept;`,
    ...input,
    `\t}`,
    `}`,
    '',
  ].join('\n');
}

/** ctrnet's maps in table `ip ctrnet`, with their types. */
const MAPS: Record<string, string> = {
  pub_any: 'inet_proto . inet_service : ipv4_addr . inet_service',
  pub_ip: 'ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service',
};
/**
 * ctrnet's chains in table `ip ctrnet`, in the order they can be deleted: base chains first (they
 * hold the jumps to `publish` and the user chain), then `publish` (it holds the map lookups).
 */
const CHAINS = ['prerouting', 'output', 'postrouting', 'forward', 'input', 'publish'];

/**
 * The first lines of a render: the table and the user chain are created if missing and otherwise
 * left alone; each of ctrnet's chains and maps is added (a no-op when present, so that the delete
 * cannot fail on a table someone took apart) and deleted, to be added again by the rest of the
 * script. The kernel applies it all or nothing.
 */
function replaceOwn(): string[] {
  return [
    `add table ${T}`,
    `add chain ${T} ${NFT_USER_CHAIN}`,
    ...CHAINS.map((c) => `add chain ${T} ${c}`),
    ...Object.entries(MAPS).map(([name, type]) => `add map ${T} ${name} { type ${type}; counter; }`),
    ...CHAINS.map((c) => `delete chain ${T} ${c}`),
    ...Object.keys(MAPS).map((m) => `delete map ${T} ${m}`),
  ];
}

export class NftFirewall implements Firewall {
  private readonly nets = new Map<string, NetworkFirewallConfig>();
  private readonly ports = new Map<string, PortMapping>();
  private readonly endpoints = new Map<string, EndpointPort>();

  constructor(private readonly nft: NftRunner = nftCommand) {}

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
    const script = ports
      .map((p) => `${op} element ${T} ${mapOf(p)} { ${op === 'add' ? element(p) : portKey(p)} }`)
      .join('\n');
    for (const p of ports) {
      if (op === 'add') this.ports.set(`${mapOf(p)} ${portKey(p)}`, p);
      else this.ports.delete(`${mapOf(p)} ${portKey(p)}`);
    }
    try {
      await this.nft.apply(script + '\n');
    } catch (e) {
      // The table may have been removed by someone else, or an element may already be gone:
      // the full render restores exactly the desired state either way.
      try {
        await this.reapply();
      } catch (e2) {
        if (op === 'add') for (const p of ports) this.ports.delete(`${mapOf(p)} ${portKey(p)}`);
        throw new AggregateError([e, e2], 'applying published ports');
      }
    }
  }

  async reapply(): Promise<void> {
    await this.nft.apply(renderTable([...this.nets.values()], [...this.ports.values()]) + renderBridgeTable([...this.endpoints.values()]));
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
    const el = portElems([ep]);
    const script = Object.entries(elemsOf(el)).map(([set, items]) => `${op} element ${B} ${set} { ${items[0]} }`).join('\n') + '\n';
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
      const has = (family: 'ip' | 'bridge') => this.nft.list(false, family).then(() => true, () => false);
      if (this.nets.size === 0 || ((await has('ip')) && (await has('bridge')))) return;
      log('nftables tables of ctrnet were removed by someone else: restoring them');
      await this.reapply().catch((e: Error) => log(`restoring nftables rules: ${e.message}`));
    };
    return this.nft.monitor((line) => {
      if (line.trim() !== `delete table ${T}` && line.trim() !== `delete table ${B}`) return;
      clearTimeout(timer);
      timer = setTimeout(() => void check(), 100);
    });
  }

  /** What the kernel has now: rule lines (with counters) and published-port elements (with counters). */
  async describe(): Promise<FirewallFacts> {
    const text = await this.nft.list(false).catch(() => '');
    const json = await this.nft.list(true).catch(() => '');
    const rules = text.split('\n').map((l) => l.trim()).filter((l) => /masquerade|dnat|drop/.test(l));
    const ports: FirewallFacts['ports'] = [];
    if (json) {
      type Elem = { elem: { val: { concat: (string | number)[] }; counter?: { packets: number; bytes: number } } };
      type MapObj = { map?: { name: string; elem?: [Elem, { concat: (string | number)[] }][] } };
      for (const o of (JSON.parse(json) as { nftables: MapObj[] }).nftables) {
        for (const [k, v] of o.map?.elem ?? []) {
          const key = k.elem.val.concat;
          const [hostIp, proto, hostPort] = key.length === 3 ? key : ['0.0.0.0', ...key];
          ports.push({ proto: String(proto), hostIp: String(hostIp), hostPort: Number(hostPort), containerIp: String(v.concat[0]), containerPort: Number(v.concat[1]), packets: k.elem.counter?.packets ?? 0, bytes: k.elem.counter?.bytes ?? 0 });
        }
      }
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
    await this.nft.apply([...replaceOwn(), `table ${B}`, `delete table ${B}`, ''].join('\n'));
  }
}

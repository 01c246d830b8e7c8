/**
 * Networks: the records, their conversion to what drivers take, the driver for each, and the
 * user-defined network commands (create, remove, prune). The three networks Docker always has are
 * made at start: "bridge" (driver bridge, the daemon's --bridge and --bip), "host" and "none"
 * (modes without a driver of their own: see core/sandbox.ts).
 *
 * Address pools, as Docker's defaults: the first free /16 of 172.17–172.31, then the /20s of
 * 192.168.0.0/16; `--default-address-pool base=CIDR,size=N` replaces them. A subnet that overlaps a
 * network or a route of the host is refused, naming the overlap.
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../base/errors';
import { VALID_NAME } from '../base/container-spec';
import { KeyedMutex } from '../base/mutex';
import { userBridgeName } from '../base/names';
import { NetworkDriver, NetworkInfo } from '../drivers/driver';
import { contains, intToIp, overlaps, parseCidr, Subnet, subnetSize } from '../ipam/ipam';
import { Kernel } from '../kernel/kernel';
import { EndpointRow, NetworkRow, Store } from '../state/store';
import { Overlay } from './overlay';
import { GATEWAY_BRIDGE } from '../base/names';
import { Resolver } from '../dns/resolver';

export interface AddressPool {
  base: string;
  size: number;
}

export const DEFAULT_POOLS: AddressPool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

export interface DaemonNetworkConfig {
  bridge: string;
  /** gateway/prefix, e.g. 172.17.0.1/16 */
  bip: string;
  mtu: number;
  pools: AddressPool[];
  /** MTU of overlay interfaces: the advertise address's interface MTU minus VXLAN's 50 bytes */
  overlayMtu: number;
}

/** Overlay subnets when none is given, as Docker's swarm default: /24s of 10.0.0.0/8. */
const OVERLAY_POOL: AddressPool = { base: '10.0.0.0/8', size: 24 };

export interface CreateNetwork {
  name: string;
  driver: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
}

export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
export const OPT_ICC = 'com.docker.network.bridge.enable_icc';
export const OPT_MTU = 'com.docker.network.driver.mtu';
const KNOWN_OPTIONS = [OPT_BRIDGE_NAME, OPT_ICC, OPT_MTU, 'com.docker.network.bridge.default_bridge', 'com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.bridge.host_binding_ipv4'];
const PREDEFINED = ['bridge', 'host', 'none'];

export const newId = (): string => randomBytes(32).toString('hex');

export class Networks {
  /** one network change at a time: overlap checks and pool picks must see each other's results */
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly store: Store,
    private readonly drivers: Record<string, NetworkDriver>,
    private readonly cfg: DaemonNetworkConfig,
    private readonly kernel: Kernel,
    readonly resolver: Resolver,
    private overlay?: Overlay,
  ) {}

  /** Wires the overlay control plane (it needs this service's `info` first). */
  setOverlay(o: Overlay): void {
    this.overlay = o;
  }

  /** Makes sure the default networks exist as records (bridge, host, none). */
  ensureDefaults(): void {
    const bip = parseCidr(this.cfg.bip);
    const subnet = `${intToIp(bip.base)}/${bip.prefixLen}`;
    const gateway = intToIp(bip.ip === bip.base ? bip.base + 1 : bip.ip);
    const now = new Date().toISOString();
    const existing = this.store.network('bridge');
    if (existing && (existing.subnet !== subnet || existing.gateway !== gateway || existing.bridge !== this.cfg.bridge)) {
      if (this.store.endpoints({ networkId: existing.id }).length) {
        throw new EngineError('CONFLICTING_OPTIONS', `--bip ${this.cfg.bip} / --bridge ${this.cfg.bridge} differ from the running default network (${existing.gateway} on ${existing.bridge})`, {
          hint: 'stop the containers on the default bridge first, or start the daemon with the old settings',
        });
      }
      this.store.deleteNetwork(existing.id);
    }
    const defaults: Partial<NetworkRow>[] = [
      { name: 'bridge', driver: 'bridge', subnet, gateway, bridge: this.cfg.bridge, options: JSON.stringify({ 'com.docker.network.bridge.default_bridge': 'true', [OPT_BRIDGE_NAME]: this.cfg.bridge }) },
      { name: 'host', driver: 'host' },
      { name: 'none', driver: 'null' },
    ];
    for (const d of defaults) {
      if (this.store.network(d.name!)) continue;
      this.store.insertNetwork({ id: newId(), name: d.name!, driver: d.driver!, subnet: d.subnet ?? null, gateway: d.gateway ?? null, ip_range: null, bridge: d.bridge ?? null, internal: 0, options: d.options ?? '{}', labels: '{}', created: now });
    }
  }

  get(idOrName: string): NetworkRow {
    const n = this.store.network(idOrName);
    if (!n) throw new EngineError('NETWORK_NOT_FOUND', `network ${idOrName} not found`, { hint: 'list networks with `ctrnet network ls`' });
    return n;
  }

  info(row: NetworkRow): NetworkInfo {
    const opts = JSON.parse(row.options) as Record<string, string>;
    return {
      id: row.id,
      name: row.name,
      driver: row.driver,
      subnet: row.subnet ? parseCidr(row.subnet) : undefined,
      gateway: row.gateway ?? undefined,
      ipRange: row.ip_range ? parseCidr(row.ip_range) : undefined,
      bridge: row.bridge ?? undefined,
      internal: row.internal === 1,
      mtu: opts[OPT_MTU] ? Number(opts[OPT_MTU]) : row.driver === 'overlay' ? this.cfg.overlayMtu : this.cfg.mtu,
      icc: opts[OPT_ICC] !== 'false',
    };
  }

  /** The driver of a network that has kernel objects; undefined for host and none. */
  driver(row: NetworkRow): NetworkDriver | undefined {
    return row.driver === 'overlay' ? this.overlay?.driver : this.drivers[row.driver];
  }

  // ------------------------------------------------------------ addresses of endpoints

  /**
   * Leases an address and records the endpoint: locally in one SQLite transaction, and for an
   * overlay first cluster-wide in one etcd transaction (so two hosts never take the same one).
   */
  async lease(row: NetworkRow, ep: Omit<EndpointRow, 'ip'>, pick: (used: Set<string>) => string): Promise<EndpointRow> {
    if (row.driver !== 'overlay') return this.store.leaseAddress(ep, pick);
    const overlay = this.requireOverlay();
    const ip = await overlay.allocate(row.id, ep.container_id, (used) => pick(new Set([...used, ...this.store.endpoints({ networkId: row.id }).map((e) => e.ip)])));
    try {
      return this.store.leaseAddress(ep, () => ip);
    } catch (e) {
      await overlay.withdraw(row.id, ip).catch(() => {
        // the local failure is the one to report; an orphan allocation is dropped at the next resync
      });
      throw e;
    }
  }

  /** After a successful join: other hosts learn the endpoint (overlay only). */
  async published(row: NetworkRow, endpointId: string, containerName: string): Promise<void> {
    if (row.driver !== 'overlay') return;
    const ep = this.store.endpoints({ networkId: row.id }).find((e) => e.id === endpointId)!;
    await this.requireOverlay().publish({ networkId: row.id, ip: ep.ip, mac: ep.mac, containerId: ep.container_id, name: containerName, aliases: JSON.parse(ep.aliases) as string[] });
  }

  /** Frees an endpoint's address (and withdraws it from the cluster for an overlay). */
  async release(row: NetworkRow | undefined, ep: { id: string; ip: string }): Promise<void> {
    this.store.deleteEndpoint(ep.id);
    if (row?.driver === 'overlay') await this.requireOverlay().withdraw(row.id, ep.ip);
  }

  private requireOverlay(): Overlay {
    if (!this.overlay) {
      throw new EngineError('NO_CLUSTER_STORE', 'overlay networks need a cluster store', {
        hint: 'start ctrnetd with --cluster-store etcd://HOST:2379 --advertise-addr IP (on every host)',
      });
    }
    return this.overlay;
  }

  /** Overlay names for the resolver, across hosts. */
  overlayNames(): Overlay | undefined {
    return this.overlay;
  }

  /** The local bridge giving overlay containers a way out (Docker's docker_gwbridge), made on demand. */
  async ensureGatewayBridge(): Promise<NetworkRow> {
    return this.mutex.run('networks', async () => {
      const existing = this.store.network(GATEWAY_BRIDGE);
      if (existing) return existing;
      return this.createLocked({ name: GATEWAY_BRIDGE, driver: 'bridge', internal: false, labels: {}, options: { [OPT_BRIDGE_NAME]: GATEWAY_BRIDGE, [OPT_ICC]: 'false' } });
    });
  }

  list(): NetworkRow[] {
    return this.store.networks();
  }

  /** bridge, host, none: the networks Docker always has (no --ip, no aliases, cannot be removed). */
  isPredefined(row: NetworkRow): boolean {
    return PREDEFINED.includes(row.name);
  }

  /** User-defined networks get the embedded DNS resolver; the default bridge does not (as Docker). */
  isUserDefined(row: NetworkRow): boolean {
    return !PREDEFINED.includes(row.name) && row.driver === 'bridge';
  }

  /** After a restart: the resolver answers again on every user-defined network. */
  async restoreResolvers(): Promise<void> {
    for (const row of this.list()) if (this.isUserDefined(row)) await this.resolver.listen(row.id, row.gateway!);
  }

  // ------------------------------------------------------------ create, remove, prune

  async create(req: CreateNetwork): Promise<NetworkRow> {
    return this.mutex.run('networks', () => this.createLocked(req));
  }

  private async createLocked(req: CreateNetwork): Promise<NetworkRow> {
    if (!VALID_NAME.test(req.name)) throw new EngineError('INVALID_PARAMETER', `invalid network name "${req.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.store.network(req.name)?.name === req.name) {
      throw new EngineError('NAME_IN_USE', `network with name ${req.name} already exists`, { hint: 'choose another name or remove that network' });
    }
    if (req.driver === 'overlay') return this.createOverlay(req);
    if (req.driver !== 'bridge') {
      throw new EngineError('INVALID_PARAMETER', `network driver "${req.driver}" is not supported`, { hint: 'use -d bridge or -d overlay' });
    }
    for (const k of Object.keys(req.options)) {
      if (!KNOWN_OPTIONS.includes(k)) throw new EngineError('INVALID_PARAMETER', `unknown network option "${k}"`, { hint: `known options: ${OPT_BRIDGE_NAME}, ${OPT_ICC}, ${OPT_MTU}` });
    }
    const mtu = req.options[OPT_MTU];
    if (mtu !== undefined && (!/^\d+$/.test(mtu) || Number(mtu) < 576 || Number(mtu) > 65535)) {
      throw new EngineError('INVALID_PARAMETER', `invalid ${OPT_MTU} "${mtu}"`, { hint: 'give a number from 576 to 65535' });
    }
    const icc = req.options[OPT_ICC];
    if (icc !== undefined && icc !== 'true' && icc !== 'false') throw new EngineError('INVALID_PARAMETER', `${OPT_ICC} must be true or false`);

    const taken = await this.takenSubnets();
    let subnet: Subnet;
    if (req.subnet) {
      subnet = parseCidr(req.subnet);
      if (subnet.prefixLen > 30) throw new EngineError('INVALID_PARAMETER', `subnet ${subnet.cidr} is too small`, { hint: 'use a /30 or larger' });
      const clash = taken.find((t) => overlaps(t.subnet, subnet));
      if (clash) throw new EngineError('CONFLICTING_OPTIONS', `subnet ${subnet.cidr} overlaps ${clash.what} (${clash.subnet.cidr})`, { hint: 'choose a subnet that does not overlap it' });
    } else {
      if (req.gateway || req.ipRange) throw new EngineError('INVALID_PARAMETER', '--gateway and --ip-range need --subnet');
      subnet = this.pickSubnet(taken);
    }
    let gateway = intToIp(subnet.base + 1);
    if (req.gateway) {
      if (!contains(subnet, req.gateway)) throw new EngineError('INVALID_PARAMETER', `gateway ${req.gateway} is not in subnet ${subnet.cidr}`);
      const n = parseCidr(`${req.gateway}/32`).base;
      if (n === subnet.base || n === subnet.base + subnetSize(subnet) - 1) throw new EngineError('INVALID_PARAMETER', `gateway ${req.gateway} is the network or broadcast address of ${subnet.cidr}`);
      gateway = req.gateway;
    }
    let ipRange: Subnet | undefined;
    if (req.ipRange) {
      ipRange = parseCidr(req.ipRange);
      if (!contains(subnet, intToIp(ipRange.base)) || !contains(subnet, intToIp(ipRange.base + subnetSize(ipRange) - 1))) {
        throw new EngineError('INVALID_PARAMETER', `--ip-range ${ipRange.cidr} is not inside subnet ${subnet.cidr}`);
      }
    }
    const id = newId();
    const bridge = req.options[OPT_BRIDGE_NAME] ?? userBridgeName(id);
    // Kernel-visible names are built from validated parts only: this one goes into ip and nft scripts.
    if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(bridge)) {
      throw new EngineError('INVALID_PARAMETER', `invalid ${OPT_BRIDGE_NAME} "${bridge}"`, { hint: 'use 1 to 15 letters, digits, "_", "." or "-"' });
    }
    if (this.list().some((n) => n.bridge === bridge)) throw new EngineError('CONFLICTING_OPTIONS', `bridge ${bridge} is used by another network`, { hint: 'choose another bridge name' });
    const row: NetworkRow = {
      id, name: req.name, driver: req.driver, subnet: subnet.cidr, gateway, ip_range: ipRange?.cidr ?? null, bridge,
      internal: req.internal ? 1 : 0, options: JSON.stringify(req.options), labels: JSON.stringify(req.labels), created: new Date().toISOString(),
    };
    const driver = this.driver(row)!;
    await driver.validate(this.info(row));
    this.store.insertNetwork(row);
    try {
      await driver.createNetwork(this.info(row));
      await this.resolver.listen(row.id, gateway);
    } catch (e) {
      this.resolver.close(row.id);
      await driver.deleteNetwork(this.info(row)).catch(() => {
        // best effort: the original error is what the user needs to see
      });
      this.store.deleteNetwork(row.id);
      throw e;
    }
    return row;
  }

  private async createOverlay(req: CreateNetwork): Promise<NetworkRow> {
    const overlay = this.requireOverlay();
    for (const k of Object.keys(req.options)) {
      if (k !== OPT_MTU) throw new EngineError('INVALID_PARAMETER', `unknown overlay network option "${k}"`, { hint: `known: ${OPT_MTU}` });
    }
    if (!VALID_NAME.test(req.name)) throw new EngineError('INVALID_PARAMETER', `invalid network name "${req.name}"`);
    const local = await this.takenSubnets();
    return overlay.createNetwork(
      { id: newId(), name: req.name, ipRange: req.ipRange ?? null, internal: req.internal, labels: req.labels, options: req.options, created: new Date().toISOString() },
      (others) => {
        if (others.some((o) => o.name === req.name)) throw new EngineError('NAME_IN_USE', `network with name ${req.name} already exists`, { hint: 'choose another name' });
        const taken = [...local, ...others.map((o) => ({ what: `overlay network ${o.name}`, subnet: parseCidr(o.subnet) }))];
        let subnet: Subnet;
        if (req.subnet) {
          subnet = parseCidr(req.subnet);
          const clash = taken.find((t) => overlaps(t.subnet, subnet));
          if (clash) throw new EngineError('CONFLICTING_OPTIONS', `subnet ${subnet.cidr} overlaps ${clash.what} (${clash.subnet.cidr})`, { hint: 'choose a subnet that does not overlap it' });
        } else {
          subnet = this.pickSubnet(taken, [OVERLAY_POOL]);
        }
        const gateway = req.gateway ?? intToIp(subnet.base + 1);
        if (!contains(subnet, gateway)) throw new EngineError('INVALID_PARAMETER', `gateway ${gateway} is not in subnet ${subnet.cidr}`);
        if (req.ipRange && !contains(subnet, intToIp(parseCidr(req.ipRange).base))) throw new EngineError('INVALID_PARAMETER', `--ip-range ${req.ipRange} is not inside subnet ${subnet.cidr}`);
        return { subnet: subnet.cidr, gateway };
      },
    );
  }

  /** Subnets in use: networks, and the host's routes that are not on our bridges. */
  private async takenSubnets(): Promise<{ what: string; subnet: Subnet }[]> {
    const out: { what: string; subnet: Subnet }[] = [];
    const bridges = new Set(this.list().map((n) => n.bridge).filter(Boolean));
    // Overlays are checked against the cluster's list, which also has those of other hosts.
    for (const n of this.list()) if (n.subnet && n.driver !== 'overlay') out.push({ what: `network ${n.name}`, subnet: parseCidr(n.subnet) });
    for (const r of await this.kernel.routeList()) {
      if (r.dst === 'default' || (r.dev && bridges.has(r.dev))) continue;
      const cidr = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
      out.push({ what: `a route of the host (${r.dst}${r.dev ? ` dev ${r.dev}` : ''})`, subnet: parseCidr(cidr) });
    }
    return out;
  }

  private pickSubnet(taken: { subnet: Subnet }[], pools = this.cfg.pools): Subnet {
    for (const pool of pools) {
      const base = parseCidr(pool.base);
      const step = 2 ** (32 - pool.size);
      for (let n = base.base; n < base.base + subnetSize(base); n += step) {
        const candidate = parseCidr(`${intToIp(n)}/${pool.size}`);
        if (!taken.some((t) => overlaps(t.subnet, candidate))) return candidate;
      }
    }
    throw new EngineError('ADDRESS_EXHAUSTED', 'all predefined address pools have been fully subnetted', {
      hint: 'give --subnet, remove unused networks (`ctrnet network prune`), or start ctrnetd with --default-address-pool',
    });
  }

  async remove(idOrName: string): Promise<void> {
    const row = this.get(idOrName);
    await this.mutex.run('networks', async () => {
      if (PREDEFINED.includes(row.name)) throw new EngineError('FORBIDDEN', `${row.name} is a pre-defined network and cannot be removed`);
      if (row.driver === 'overlay') return this.requireOverlay().removeNetwork(row);
      const eps = this.store.endpoints({ networkId: row.id });
      if (eps.length) {
        const names = eps.map((e) => this.store.container(e.container_id)?.name ?? e.container_id.slice(0, 12));
        throw new EngineError('NETWORK_IN_USE', `error while removing network: network ${row.name} id ${row.id} has active endpoints (${names.join(', ')})`, {
          hint: 'stop or disconnect those containers first',
        });
      }
      this.resolver.close(row.id);
      await this.driver(row)!.deleteNetwork(this.info(row));
      this.store.deleteNetwork(row.id);
    });
  }

  /** Removes every user-defined network without endpoints; returns their names. */
  async prune(): Promise<string[]> {
    const removed: string[] = [];
    for (const row of this.list()) {
      if (PREDEFINED.includes(row.name) || this.store.endpoints({ networkId: row.id }).length) continue;
      try {
        await this.remove(row.id);
        removed.push(row.name);
      } catch (e) {
        // An overlay in use on another host stays: prune removes unused networks only.
        if (!(e instanceof EngineError && e.code === 'NETWORK_IN_USE')) throw e;
      }
    }
    return removed;
  }
}

/** Parses `--default-address-pool base=CIDR,size=N`. */
export function parsePool(s: string): AddressPool {
  const kv = Object.fromEntries(s.split(',').map((p) => p.split('=') as [string, string]));
  const size = Number(kv.size);
  if (!kv.base || !Number.isInteger(size) || size < 8 || size > 30) throw new Error(`--default-address-pool ${s}: write it as base=CIDR,size=N (N from 8 to 30)`);
  const base = parseCidr(kv.base);
  if (size < base.prefixLen) throw new Error(`--default-address-pool ${s}: size /${size} is larger than the base ${base.cidr}`);
  return { base: base.cidr, size };
}

/**
 * Networks: the user-defined network commands (create, remove, prune) over the drivers, the three
 * networks Docker always has ("bridge": the bridge driver with the daemon's --bridge and --bip;
 * "host" and "none"), and way-out networks made on demand (an overlay's gateway bridge). Which
 * driver does what is the driver's business (drivers/driver.ts): nothing here tests a driver's name.
 *
 * One network change at a time (a mutex): overlap checks and pool picks must see each other's results.
 */
import { randomBytes } from 'node:crypto';
import { attachments, ContainerSpec } from '../base/container-spec';
import { EngineError, networkNameInUse } from '../base/errors';
import { EngineEvents } from '../base/events';
import { Network } from '../base/model';
import { KeyedMutex } from '../base/mutex';
import { OPT_BRIDGE_NAME, OPT_DEFAULT_BRIDGE, OPT_HOST_BINDING_IPV4, OPT_ICC, OPT_IP_MASQUERADE, OPT_MTU } from '../base/network-options';
import { NetworkDriver, NetworkRequest, TakenSubnet, TakenSubnet6 } from '../drivers/driver';
import { intToIp, parseCidr } from '../ipam/ipam';
import { canonical6, parseCidr6 } from '../ipam/ipam6';
import { Kernel } from '../kernel/kernel';
import { Repos } from '../state/repos';

/** What `network create` asks for (the API's request, typed). */
export type CreateNetwork = Omit<NetworkRequest, 'id'>;

export interface DefaultBridgeConfig {
  /** the default bridge's Linux name (--bridge) */
  bridge: string;
  /** gateway/prefix, e.g. 172.17.0.1/16 (--bip) */
  bip: string;
  /** the MTU of its interfaces (--mtu, or the default route's), shown in its options as Docker does */
  mtu?: number;
  /** --ipv6 --fixed-cidr-v6 CIDR [--default-gateway-v6 IP]: the default bridge's IPv6 subnet and gateway */
  ipv6?: { subnet: string; gateway?: string };
}

/**
 * Network names Docker accepts: any text, spaces and "/" included (they never reach the kernel:
 * bridges and chains are named after the id), but not empty and without control characters.
 */
export const VALID_NETWORK_NAME = /^[^\x00-\x1f\x7f]+$/;

const PREDEFINED = ['bridge', 'host', 'none'];

export const newId = (): string => randomBytes(32).toString('hex');

export class Networks {
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly repo: Pick<Repos, 'networks' | 'endpoints' | 'containers' | 'attachments'>,
    /** by driver name: bridge, overlay, host, null, … */
    private readonly drivers: ReadonlyMap<string, NetworkDriver>,
    private readonly cfg: DefaultBridgeConfig,
    /** the daemon's namespace: its routes are subnets a new network must not overlap */
    private readonly kernel: Kernel,
    private readonly events: EngineEvents,
  ) {}

  // ------------------------------------------------------------ reads

  get(idOrName: string): Network {
    const n = this.repo.networks.get(idOrName);
    if (!n) throw new EngineError('NETWORK_NOT_FOUND', `network ${idOrName} not found`, { hint: 'list networks with `ctrnet network ls`' });
    return n;
  }

  find(idOrName: string): Network | undefined {
    return this.repo.networks.get(idOrName);
  }

  list(): Network[] {
    return this.repo.networks.list();
  }

  driver(net: Pick<Network, 'driver'>): NetworkDriver {
    const d = this.drivers.get(net.driver);
    if (!d) {
      throw new EngineError('INVALID_PARAMETER', `network driver "${net.driver}" is not supported`, { hint: `use one of: ${[...this.drivers.keys()].filter((k) => k !== 'null').join(', ')}` });
    }
    return d;
  }

  /** Every driver this daemon has (restore asks each, also one without networks, to sweep its stale objects). */
  allDrivers(): NetworkDriver[] {
    return [...this.drivers.values()];
  }

  /** Whether a container with this spec gets the embedded resolver: one of its networks has embedded DNS. */
  embeddedDns(spec: ContainerSpec): boolean {
    return attachments(spec).some((n) => {
      const net = this.find(n);
      return !!net && this.driver(net).servesDns(net);
    });
  }

  /**
   * The key of this network in a container's endpoint settings: its name (as Docker's
   * NetworkSettings.Networks), or its id while another network shares the name (API < 1.44 made
   * it), so that the key still names one network.
   */
  specKey(net: Network): string {
    return this.list().some((n) => n.name === net.name && n.id !== net.id) ? net.id : net.name;
  }

  /** bridge, host, none: the networks Docker always has (no --ip, no aliases, cannot be removed). */
  isPredefined(net: Network): boolean {
    return PREDEFINED.includes(net.name);
  }

  // ------------------------------------------------------------ the defaults and restarts

  /** Makes sure the default networks exist (bridge, host, none); a changed --bip/--bridge replaces the default bridge. */
  async ensureDefaults(): Promise<void> {
    const bip = parseCidr(this.cfg.bip);
    const subnet = `${intToIp(bip.base)}/${bip.prefixLen}`;
    const gateway = intToIp(bip.ip === bip.base ? bip.base + 1 : bip.ip);
    const v6 = this.cfg.ipv6 ? parseCidr6(this.cfg.ipv6.subnet) : undefined;
    const subnet6 = v6?.cidr;
    const gateway6 = this.cfg.ipv6?.gateway ? canonical6(this.cfg.ipv6.gateway) : undefined;
    const existing = this.repo.networks.get('bridge');
    const v6changed = existing && (existing.subnet6 !== subnet6 || (gateway6 !== undefined && existing.gateway6 !== gateway6));
    if (existing && (existing.subnet !== subnet || existing.gateway !== gateway || existing.bridge !== this.cfg.bridge || v6changed)) {
      if (this.repo.endpoints.list({ networkId: existing.id }).length) {
        throw new EngineError('CONFLICTING_OPTIONS', `--bip ${this.cfg.bip} / --bridge ${this.cfg.bridge}${v6changed ? ` / --fixed-cidr-v6 ${subnet6 ?? '(none)'}` : ''} differ from the running default network (${existing.gateway} on ${existing.bridge}${existing.subnet6 ? `, ${existing.subnet6}` : ''})`, {
          hint: 'stop the containers on the default bridge first, or start the daemon with the old settings',
        });
      }
      await this.driver(existing).deleteNetwork(existing);
    }
    // Docker's options of the default bridge, as its inspect shows them.
    const bridgeOptions = {
      [OPT_DEFAULT_BRIDGE]: 'true', [OPT_ICC]: 'true', [OPT_IP_MASQUERADE]: 'true', [OPT_HOST_BINDING_IPV4]: '0.0.0.0', [OPT_BRIDGE_NAME]: this.cfg.bridge,
      ...(this.cfg.mtu ? { [OPT_MTU]: String(this.cfg.mtu) } : {}),
    };
    const defaults: CreateNetwork[] = [
      { name: 'bridge', driver: 'bridge', subnet, gateway, internal: false, labels: {}, options: bridgeOptions, ...(subnet6 ? { ipv6: true, subnet6, ...(gateway6 ? { gateway6 } : {}) } : {}) },
      { name: 'host', driver: 'host', internal: false, labels: {}, options: {} },
      { name: 'none', driver: 'null', internal: false, labels: {}, options: {} },
    ];
    // The default bridge's subnet is the admin's choice (--bip): not checked for overlaps.
    for (const d of defaults) if (!this.repo.networks.get(d.name)) await this.driver(d).createNetwork({ ...d, id: newId() }, [], []);
    // A default bridge recorded by an older daemon, or before --mtu changed: its options as above.
    const bridge = this.repo.networks.get('bridge');
    if (bridge && JSON.stringify(bridge.options) !== JSON.stringify(bridgeOptions)) this.repo.networks.put({ ...bridge, options: bridgeOptions });
  }

  // ------------------------------------------------------------ create, remove, prune

  /**
   * `allowDuplicateName`: a second network of a name in use is made (Docker's API < 1.44 without
   * CheckDuplicate; the API layer decides). Never for predefined names or cluster-scope drivers.
   */
  async create(req: CreateNetwork, opts: { allowDuplicateName?: boolean } = {}): Promise<Network> {
    const net = await this.mutex.run('networks', () => this.createLocked(req, opts.allowDuplicateName === true));
    this.events.emit('network', 'create', net.id, { name: net.name, type: net.driver });
    return net;
  }

  /** A way-out network (the gateway bridge), made on demand: the one of that name, or a new one. */
  async ensure(req: CreateNetwork): Promise<Network> {
    return this.mutex.run('networks', async () => this.repo.networks.get(req.name) ?? this.createLocked(req));
  }

  private async createLocked(req: CreateNetwork, allowDuplicateName = false): Promise<Network> {
    if (!VALID_NETWORK_NAME.test(req.name)) throw new EngineError('INVALID_PARAMETER', `invalid network name ${JSON.stringify(req.name)}: it is empty or holds control characters`);
    if (this.isPredefined({ name: req.name } as Network)) throw new EngineError('FORBIDDEN', `operation is not permitted on predefined ${req.name} network `);
    const driver = this.driver(req);
    // Duplicates only of local-scope networks: a cluster-scope (overlay) network's name is its key
    // in the cluster store, unique across the hosts (and its driver refuses a second one anyway).
    const duplicateOk = allowDuplicateName && driver.scope === 'local';
    const sameName = this.repo.networks.list().filter((n) => n.name === req.name);
    if (!duplicateOk && sameName.length) {
      throw networkNameInUse(req.name);
    }
    this.checkSwarmFlags(req, driver.scope);
    const net = await driver.createNetwork({ ...req, id: newId() }, await this.takenSubnets(), await this.takenSubnets6());
    if (sameName.length === 1) this.rekeyByName(sameName[0]);
    // A local driver's record does not carry Docker's Attachable flag itself: it is kept beside it.
    if (req.attachable && !net.attachable) {
      net.attachable = true;
      this.repo.networks.put(net);
    }
    return net;
  }

  /** Docker's Scope (when asked for) must be the driver's; an Ingress network is a swarm's, and there is one at most. */
  private checkSwarmFlags(req: CreateNetwork, scope: 'local' | 'swarm'): void {
    if (req.scope && req.scope !== scope) {
      throw new EngineError('INVALID_PARAMETER', `scope "${req.scope}" is not supported by the ${req.driver} driver: its networks are ${scope}-scoped`, { hint: `leave Scope out, or use --scope ${scope}` });
    }
    if (!req.ingress) return;
    if (scope !== 'swarm') throw new EngineError('FORBIDDEN', 'Ingress network can only be global scope network');
    const other = this.list().find((n) => n.ingress);
    if (other) throw new EngineError('INGRESS_EXISTS', `ingress network ${other.name} (${other.id.slice(0, 12)}) is already present`, { hint: `remove it first (docker network rm ${other.name})` });
  }

  /**
   * The name of `net` became shared: containers that hold it by name (in their network mode and
   * endpoint settings) hold it by id from now on, so that their starts, connects and the restart's
   * reconciliation still find that one network. Synchronous: no container change interleaves.
   */
  private rekeyByName(net: Network): void {
    for (const c of this.repo.containers.list()) {
      const modeByName = c.spec.networkMode === net.name;
      if (!modeByName && !(net.name in c.spec.networks)) continue;
      const networks = Object.fromEntries(Object.entries(c.spec.networks).map(([k, v]) => [k === net.name ? net.id : k, v]));
      this.repo.containers.update(c.id, { spec: { ...c.spec, networkMode: modeByName ? net.id : c.spec.networkMode, networks } });
    }
  }

  /** The IPv6 subnets in use on this host: local networks' and the host's IPv6 routes (not link-local or multicast, not on our bridges). */
  private async takenSubnets6(): Promise<TakenSubnet6[]> {
    const out: TakenSubnet6[] = [];
    const nets = this.list();
    const bridges = new Set(nets.map((n) => n.bridge).filter(Boolean));
    for (const n of nets) if (n.subnet6 && this.driver(n).scope === 'local') out.push({ what: `network ${n.name}`, subnet: parseCidr6(n.subnet6) });
    for (const r of await this.kernel.routeList(6)) {
      if (r.dst === 'default' || (r.dev && bridges.has(r.dev)) || /^f[ef][0-9a-f]{2}:/i.test(r.dst)) continue;
      const cidr = r.dst.includes('/') ? r.dst : `${r.dst}/128`;
      out.push({ what: `a route of the host (${r.dst}${r.dev ? ` dev ${r.dev}` : ''})`, subnet: parseCidr6(cidr), dev: r.dev });
    }
    return out;
  }

  /**
   * Subnets in use on this host: local networks and the host's routes that are not on our bridges.
   * (Cluster-scoped networks are checked by their driver against the cluster's list, which also
   * has those of other hosts.)
   */
  private async takenSubnets(): Promise<TakenSubnet[]> {
    const out: TakenSubnet[] = [];
    const nets = this.list();
    const bridges = new Set(nets.map((n) => n.bridge).filter(Boolean));
    for (const n of nets) if (n.subnet && this.driver(n).scope === 'local') out.push({ what: `network ${n.name}`, subnet: parseCidr(n.subnet) });
    for (const r of await this.kernel.routeList()) {
      if (r.dst === 'default' || (r.dev && bridges.has(r.dev))) continue;
      const cidr = r.dst.includes('/') ? r.dst : `${r.dst}/32`;
      out.push({ what: `a route of the host (${r.dst}${r.dev ? ` dev ${r.dev}` : ''})`, subnet: parseCidr(cidr), dev: r.dev });
    }
    return out;
  }

  async remove(idOrName: string): Promise<void> {
    const net = this.get(idOrName);
    await this.mutex.run('networks', async () => {
      if (this.isPredefined(net)) throw new EngineError('FORBIDDEN', `${net.name} is a pre-defined network and cannot be removed`);
      const eps = this.repo.endpoints.list({ networkId: net.id });
      if (eps.length) {
        const names = eps.map((e) => (this.repo.containers.get(e.containerId) ?? this.repo.attachments.get(e.containerId))?.name ?? e.containerId.slice(0, 12));
        throw new EngineError('NETWORK_IN_USE', `error while removing network: network ${net.name} id ${net.id} has active endpoints (${names.join(', ')})`, {
          hint: 'stop or disconnect those containers first',
        });
      }
      await this.driver(net).deleteNetwork(net);
    });
    this.events.emit('network', 'destroy', net.id, { name: net.name, type: net.driver });
  }

  /** Removes every user-defined network without endpoints; returns their names. */
  async prune(wanted: (net: Network) => boolean = () => true): Promise<string[]> {
    const removed: string[] = [];
    for (const net of this.list()) {
      if (this.isPredefined(net) || this.repo.endpoints.list({ networkId: net.id }).length || !wanted(net)) continue;
      try {
        await this.remove(net.id);
        removed.push(net.name);
      } catch (e) {
        // An overlay in use on another host stays: prune removes unused networks only.
        if (!(e instanceof EngineError && e.code === 'NETWORK_IN_USE')) throw e;
      }
    }
    return removed;
  }
}

/**
 * Networks: the user-defined network commands (create, remove, prune) over the drivers, the three
 * networks Docker always has ("bridge": the bridge driver with the daemon's --bridge and --bip;
 * "host" and "none"), way-out networks made on demand (an overlay's gateway bridge), and the
 * embedded resolver of networks whose driver serves DNS. Which driver does what is the driver's
 * business (drivers/driver.ts): nothing here tests a driver's name.
 *
 * One network change at a time (a mutex): overlap checks and pool picks must see each other's results.
 */
import { randomBytes } from 'node:crypto';
import { VALID_NAME } from '../base/container-spec';
import { EngineError } from '../base/errors';
import { EngineEvents } from '../base/events';
import { Network } from '../base/model';
import { KeyedMutex } from '../base/mutex';
import { OPT_BRIDGE_NAME, OPT_DEFAULT_BRIDGE } from '../base/network-options';
import { DnsServer } from '../dns/resolver';
import { NetworkDriver, NetworkRequest, TakenSubnet } from '../drivers/driver';
import { intToIp, parseCidr } from '../ipam/ipam';
import { Kernel } from '../kernel/kernel';
import { Repos } from '../state/repos';

/** What `network create` asks for (the API's request, typed). */
export type CreateNetwork = Omit<NetworkRequest, 'id'>;

export interface DefaultBridgeConfig {
  /** the default bridge's Linux name (--bridge) */
  bridge: string;
  /** gateway/prefix, e.g. 172.17.0.1/16 (--bip) */
  bip: string;
}

const PREDEFINED = ['bridge', 'host', 'none'];

export const newId = (): string => randomBytes(32).toString('hex');

export class Networks {
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly repo: Pick<Repos, 'networks' | 'endpoints' | 'containers'>,
    /** by driver name: bridge, overlay, host, null, … */
    private readonly drivers: ReadonlyMap<string, NetworkDriver>,
    private readonly cfg: DefaultBridgeConfig,
    /** the daemon's namespace: its routes are subnets a new network must not overlap */
    private readonly kernel: Kernel,
    private readonly dns: DnsServer,
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
    const existing = this.repo.networks.get('bridge');
    if (existing && (existing.subnet !== subnet || existing.gateway !== gateway || existing.bridge !== this.cfg.bridge)) {
      if (this.repo.endpoints.list({ networkId: existing.id }).length) {
        throw new EngineError('CONFLICTING_OPTIONS', `--bip ${this.cfg.bip} / --bridge ${this.cfg.bridge} differ from the running default network (${existing.gateway} on ${existing.bridge})`, {
          hint: 'stop the containers on the default bridge first, or start the daemon with the old settings',
        });
      }
      await this.driver(existing).deleteNetwork(existing);
    }
    const defaults: CreateNetwork[] = [
      { name: 'bridge', driver: 'bridge', subnet, gateway, internal: false, labels: {}, options: { [OPT_DEFAULT_BRIDGE]: 'true', [OPT_BRIDGE_NAME]: this.cfg.bridge } },
      { name: 'host', driver: 'host', internal: false, labels: {}, options: {} },
      { name: 'none', driver: 'null', internal: false, labels: {}, options: {} },
    ];
    // The default bridge's subnet is the admin's choice (--bip): not checked for overlaps.
    for (const d of defaults) if (!this.repo.networks.get(d.name)) await this.driver(d).createNetwork({ ...d, id: newId() }, []);
  }

  /** After a restart: the resolver answers again on every network whose driver serves DNS. */
  async restoreResolvers(): Promise<void> {
    for (const net of this.list()) if (this.driver(net).servesDns(net)) await this.dns.listen(net.id, net.gateway!);
  }

  // ------------------------------------------------------------ create, remove, prune

  async create(req: CreateNetwork): Promise<Network> {
    const net = await this.mutex.run('networks', () => this.createLocked(req));
    this.events.emit('network', 'create', net.id, { name: net.name, type: net.driver });
    return net;
  }

  /** A way-out network (the gateway bridge), made on demand: the one of that name, or a new one. */
  async ensure(req: CreateNetwork): Promise<Network> {
    return this.mutex.run('networks', async () => this.repo.networks.get(req.name) ?? this.createLocked(req));
  }

  private async createLocked(req: CreateNetwork): Promise<Network> {
    if (!VALID_NAME.test(req.name)) throw new EngineError('INVALID_PARAMETER', `invalid network name "${req.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    if (this.repo.networks.get(req.name)?.name === req.name) {
      throw new EngineError('NAME_IN_USE', `network with name ${req.name} already exists`, { hint: 'choose another name or remove that network' });
    }
    const driver = this.driver(req);
    const net = await driver.createNetwork({ ...req, id: newId() }, await this.takenSubnets());
    if (driver.servesDns(net)) {
      try {
        await this.dns.listen(net.id, net.gateway!);
      } catch (e) {
        this.dns.close(net.id);
        await driver.deleteNetwork(net).catch(() => {
          // best effort: the original error is what the user needs to see
        });
        throw e;
      }
    }
    return net;
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
      out.push({ what: `a route of the host (${r.dst}${r.dev ? ` dev ${r.dev}` : ''})`, subnet: parseCidr(cidr) });
    }
    return out;
  }

  async remove(idOrName: string): Promise<void> {
    const net = this.get(idOrName);
    await this.mutex.run('networks', async () => {
      if (this.isPredefined(net)) throw new EngineError('FORBIDDEN', `${net.name} is a pre-defined network and cannot be removed`);
      const eps = this.repo.endpoints.list({ networkId: net.id });
      if (eps.length) {
        const names = eps.map((e) => this.repo.containers.get(e.containerId)?.name ?? e.containerId.slice(0, 12));
        throw new EngineError('NETWORK_IN_USE', `error while removing network: network ${net.name} id ${net.id} has active endpoints (${names.join(', ')})`, {
          hint: 'stop or disconnect those containers first',
        });
      }
      const driver = this.driver(net);
      await driver.deleteNetwork(net);
      this.dns.close(net.id);
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

/**
 * Networks: the records, their conversion to what drivers take, and the driver for each.
 * The three networks Docker always has are made at start: "bridge" (driver bridge, the daemon's
 * --bridge and --bip), "host" and "none" (modes without a driver of their own: see core/sandbox.ts).
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from './errors';
import { NetworkDriver, NetworkInfo } from '../drivers/driver';
import { intToIp, parseCidr } from '../ipam/ipam';
import { NetworkRow, Store } from '../state/store';

export interface DaemonNetworkConfig {
  bridge: string;
  /** gateway/prefix, e.g. 172.17.0.1/16 */
  bip: string;
  mtu: number;
}

export const newId = (): string => randomBytes(32).toString('hex');

export class Networks {
  constructor(
    private readonly store: Store,
    private readonly drivers: Record<string, NetworkDriver>,
    private readonly cfg: DaemonNetworkConfig,
  ) {}

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
      { name: 'bridge', driver: 'bridge', subnet, gateway, bridge: this.cfg.bridge, options: JSON.stringify({ 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': this.cfg.bridge }) },
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
      mtu: opts['com.docker.network.driver.mtu'] ? Number(opts['com.docker.network.driver.mtu']) : this.cfg.mtu,
      icc: opts['com.docker.network.bridge.enable_icc'] !== 'false',
    };
  }

  /** The driver of a network that has kernel objects; undefined for host and none. */
  driver(row: NetworkRow): NetworkDriver | undefined {
    return this.drivers[row.driver];
  }

  list(): NetworkRow[] {
    return this.store.networks();
  }
}

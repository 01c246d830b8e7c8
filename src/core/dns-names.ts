/**
 * The names the embedded resolver answers, read at each query from the state store and, for the
 * endpoints other hosts have (overlay), from the network's driver. A query is scoped to the
 * networks of the container that asked (found by its source address on the resolver's network),
 * way-out networks excepted; from an unknown source, to the resolver's own network.
 * Names: container names, network aliases and short ids (case-insensitive), on that network only.
 */
import { NameSource } from '../dns/resolver';
import { Network } from '../base/model';
import { GATEWAY_BRIDGE } from '../base/names';
import { Repos } from '../state/repos';
import { NetworkDriver } from '../drivers/driver';

interface Named {
  ip: string;
  name: string;
  containerId: string;
  aliases: string[];
}

export class NetworkNames implements NameSource {
  constructor(
    private readonly repo: Pick<Repos, 'networks' | 'endpoints' | 'containers' | 'attachments'>,
    /** by driver name: whose other hosts' endpoints are names too */
    private readonly drivers: ReadonlyMap<string, NetworkDriver>,
  ) {}

  /** The networks a query from `client` on the resolver of `networkId` may see. */
  private scope(networkId: string, client?: string): Network[] {
    const own = this.repo.networks.get(networkId);
    const asker = client ? this.repo.endpoints.list({ networkId }).find((e) => e.ip === client) : undefined;
    if (!asker) return own ? [own] : [];
    // The gateway bridge only gives overlay containers a way out: its members are not a scope.
    return this.repo.endpoints
      .list({ containerId: asker.containerId })
      .map((e) => this.repo.networks.get(e.networkId))
      .filter((n): n is Network => !!n && n.name !== GATEWAY_BRIDGE);
  }

  /** Everything answerable on one network: local endpoints from the store, others' from the driver. */
  private members(net: Network): Named[] {
    const local: Named[] = [];
    for (const ep of this.repo.endpoints.list({ networkId: net.id })) {
      // A sandbox attached through the CNI or Docker plugin is named by its attachment record.
      const c = this.repo.containers.get(ep.containerId) ?? this.repo.attachments.get(ep.containerId);
      if (c?.name) local.push({ ip: ep.ip, name: c.name, containerId: c.id, aliases: ep.aliases });
    }
    return [...local, ...(this.drivers.get(net.driver)?.remotes(net) ?? [])];
  }

  lookup(networkId: string, name: string, client?: string): string[] {
    const ips: string[] = [];
    for (const net of this.scope(networkId, client)) {
      for (const m of this.members(net)) {
        if (m.name.toLowerCase() === name || m.containerId.slice(0, 12) === name || m.aliases.some((a) => a.toLowerCase() === name)) ips.push(m.ip);
      }
    }
    return ips;
  }

  reverse(networkId: string, ip: string, client?: string): string | undefined {
    for (const net of this.scope(networkId, client)) {
      const m = this.members(net).find((x) => x.ip === ip);
      if (m) return m.name;
    }
    return undefined;
  }
}

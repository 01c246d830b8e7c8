/**
 * The names the embedded resolver answers, read at each query from the state store and, for the
 * endpoints other hosts have (overlay), from the network's driver. A query is answered as the
 * container that asked may see names: on its networks with embedded DNS (way-out networks and the
 * default bridge excepted), container names, network aliases and short ids (case-insensitive);
 * `NAME.NETWORK` on that network only; and its own links' aliases (`--link web:db` on a
 * user-defined network: "db" for this container only, as in Docker; the target is looked up by
 * name or id at each query, so it may be created after the link). A name's addresses are both
 * families' (the resolver answers A with the IPv4 ones, AAAA with the IPv6 ones).
 */
import { NameSource } from '../dns/resolver';
import { Network } from '../base/model';
import { GATEWAY_BRIDGE, shortId } from '../base/names';
import { Repos } from '../state/repos';
import { NetworkDriver } from '../drivers/driver';

interface Named {
  ip: string;
  ip6?: string;
  name: string;
  containerId: string;
  aliases: string[];
}

export class NetworkNames implements NameSource {
  constructor(
    private readonly repo: Pick<Repos, 'networks' | 'endpoints' | 'containers' | 'attachments'>,
    /** by driver name: which networks have embedded DNS, whose other hosts' endpoints are names too */
    private readonly drivers: ReadonlyMap<string, NetworkDriver>,
  ) {}

  /** The networks container (or attached sandbox) `askerId` may resolve names on. */
  private scope(askerId: string): Network[] {
    return this.repo.endpoints
      .list({ containerId: askerId })
      .map((e) => this.repo.networks.get(e.networkId))
      .filter((n): n is Network => !!n && n.name !== GATEWAY_BRIDGE && !!this.drivers.get(n.driver)?.servesDns(n));
  }

  /** Everything answerable on one network: local endpoints from the store, others' from the driver. */
  private members(net: Network): Named[] {
    const local: Named[] = [];
    for (const ep of this.repo.endpoints.list({ networkId: net.id })) {
      // A sandbox attached through the CNI or Docker plugin is named by its attachment record.
      const c = this.repo.containers.get(ep.containerId) ?? this.repo.attachments.get(ep.containerId);
      if (c?.name) local.push({ ip: ep.ip, ...(ep.ip6 ? { ip6: ep.ip6 } : {}), name: c.name, containerId: c.id, aliases: ep.aliases });
    }
    return [...local, ...(this.drivers.get(net.driver)?.remotes(net) ?? [])];
  }

  lookup(askerId: string, name: string): string[] {
    const asker = this.repo.containers.get(askerId);
    // A sandbox attached through the CNI or Docker plugin asks as its attachment (no links of its own).
    if (!asker && !this.repo.attachments.get(askerId)) return [];
    const nets = this.scope(askerId);
    const matches = (m: Named, n: string) => m.name.toLowerCase() === n || shortId(m.containerId) === n || m.aliases.some((a) => a.toLowerCase() === n);
    const ips: string[] = [];
    for (const net of nets) {
      const suffix = `.${net.name.toLowerCase()}`;
      const bare = name.endsWith(suffix) ? name.slice(0, -suffix.length) : undefined;
      for (const m of this.members(net)) if (matches(m, name) || (bare && matches(m, bare))) ips.push(...addressesOf(m));
    }
    if (ips.length || !asker) return [...new Set(ips)];
    // Links of the asker: the alias stands for the target, on the networks they share.
    for (const l of [...(asker.spec.links ?? []), ...Object.values(asker.spec.networks).flatMap((n) => n.links ?? [])]) {
      if (l.alias.toLowerCase() !== name) continue;
      const shared = new Set(nets.map((n) => n.id));
      const target = this.repo.containers.get(l.target);
      for (const ep of target ? this.repo.endpoints.list({ containerId: target.id }) : []) if (shared.has(ep.networkId)) ips.push(...addressesOf(ep));
    }
    return ips;
  }

  reverse(askerId: string, ip: string): string | undefined {
    if (!this.repo.containers.get(askerId) && !this.repo.attachments.get(askerId)) return undefined;
    for (const net of this.scope(askerId)) {
      const m = this.members(net).find((x) => x.ip === ip || x.ip6 === ip);
      if (m) return m.name;
    }
    return undefined;
  }
}

/** The addresses of an endpoint, both families. */
const addressesOf = (m: { ip: string; ip6?: string }): string[] => [m.ip, m.ip6].filter((a): a is string => !!a);

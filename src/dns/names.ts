/**
 * The names the embedded resolver answers, read at each query from the state store (and, for
 * overlay networks, from the overlay's cluster-wide cache). A query is scoped to the networks of
 * the container that asked (found by its source address on the resolver's network), the gateway
 * bridge excepted; from an unknown source, to the resolver's own network.
 */
import { NameSource } from './resolver';
import { GATEWAY_BRIDGE } from '../base/names';
import { Store } from '../state/store';

export interface OverlayNames {
  lookup(networkId: string, name: string): string[];
  reverse(networkId: string, ip: string): string | undefined;
}

export function storeNames(store: Store, overlay: () => OverlayNames | undefined): NameSource {
  const scope = (networkId: string, client?: string): string[] => {
    const asker = client ? store.endpoints({ networkId }).find((e) => e.ip === client) : undefined;
    if (!asker) return [networkId];
    return store
      .endpoints({ containerId: asker.container_id })
      .map((e) => e.network_id)
      .filter((id) => store.network(id)?.name !== GATEWAY_BRIDGE);
  };
  const isOverlay = (id: string) => store.network(id)?.driver === 'overlay';
  return {
    lookup(networkId, name, client) {
      const ips: string[] = [];
      for (const net of scope(networkId, client)) {
        if (isOverlay(net)) {
          ips.push(...(overlay()?.lookup(net, name) ?? []));
          continue;
        }
        for (const ep of store.endpoints({ networkId: net })) {
          const c = store.container(ep.container_id);
          if (!c) continue;
          const aliases = (JSON.parse(ep.aliases) as string[]).map((a) => a.toLowerCase());
          if (c.name.toLowerCase() === name || c.id.slice(0, 12) === name || aliases.includes(name)) ips.push(ep.ip);
        }
      }
      return ips;
    },
    reverse(networkId, ip, client) {
      for (const net of scope(networkId, client)) {
        if (isOverlay(net)) {
          const n = overlay()?.reverse(net, ip);
          if (n) return n;
          continue;
        }
        const ep = store.endpoints({ networkId: net }).find((e) => e.ip === ip);
        const name = ep ? store.container(ep.container_id)?.name : undefined;
        if (name) return name;
      }
      return undefined;
    },
  };
}

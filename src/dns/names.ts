/** The names the embedded resolver answers, read from the state store at each query. */
import { NameSource } from './resolver';
import { Store } from '../state/store';

export function storeNames(store: Store): NameSource {
  return {
    lookup(networkId, name) {
      const ips: string[] = [];
      for (const ep of store.endpoints({ networkId })) {
        const c = store.container(ep.container_id);
        if (!c) continue;
        const aliases = (JSON.parse(ep.aliases) as string[]).map((a) => a.toLowerCase());
        if (c.name.toLowerCase() === name || c.id.slice(0, 12) === name || aliases.includes(name)) ips.push(ep.ip);
      }
      return ips;
    },
    reverse(networkId, ip) {
      const ep = store.endpoints({ networkId }).find((e) => e.ip === ip);
      return ep ? store.container(ep.container_id)?.name : undefined;
    },
  };
}

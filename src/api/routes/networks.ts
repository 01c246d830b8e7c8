/** Network routes: list, inspect, create, delete, prune, connect, disconnect. */
import { Engine } from '../../core/engine';
import { networkCreateRequest, networkJson } from '../dto/network';
import { filterLists } from '../http';
import { Router } from '../router';

export function networkRoutes(r: Router, e: Engine): void {
  const { networks, containers } = e;
  r.route('GET', '/networks', async ({ version }) => networks.list().map((n) => networkJson(e.queries.network(n), version)));
  r.route('GET', '/networks/{id}', async ({ params, version }) => networkJson(e.queries.network(networks.get(params[0])), version));
  r.route('POST', '/networks/create', async ({ body, res }) => {
    const net = await networks.create(networkCreateRequest(await body()));
    res.statusCode = 201;
    return { Id: net.id, Warning: '' };
  });
  r.route('DELETE', '/networks/{id}', async ({ params, res }) => {
    await networks.remove(params[0]);
    res.statusCode = 204;
  });
  r.route('POST', '/networks/prune', async ({ q }) => e.prune.networks(filterLists(q.get('filters'))));
  r.route('POST', '/networks/{id}/connect', async ({ params, body }) => {
    const b = await body();
    const ep = (b.EndpointConfig ?? {}) as Record<string, unknown>;
    const ipam = (ep.IPAMConfig ?? {}) as Record<string, unknown>;
    await containers.connect(params[0], String(b.Container ?? ''), {
      ipv4: typeof ipam.IPv4Address === 'string' && ipam.IPv4Address ? ipam.IPv4Address : undefined,
      aliases: Array.isArray(ep.Aliases) ? (ep.Aliases as unknown[]).map(String) : [],
    });
    return undefined;
  });
  r.route('POST', '/networks/{id}/disconnect', async ({ params, body }) => {
    const b = await body();
    await containers.disconnect(params[0], String(b.Container ?? ''));
    return undefined;
  });
}

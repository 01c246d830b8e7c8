/** Network routes: list, inspect, create, delete, prune, connect, disconnect. */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { endpointConfig } from '../dto/container';
import { networkCreateRequest, networkJson } from '../dto/network';
import { filterLists } from '../http';
import { obj } from '../dto/common';
import { Filters } from '../filters/filters';
import { listNetworks, NETWORK_FILTERS } from '../filters/networks';
import { Router } from '../router';
import { atLeast } from '../version';

/**
 * Docker 20.10's rule (API < 1.44): a name in use is refused only when the body says
 * CheckDuplicate: true (the docker CLI and compose do); without it a second network of the name is
 * made. From 1.44 (moby#46251 deprecated CheckDuplicate) names are always unique.
 */
export const duplicateNameAllowed = (body: Record<string, unknown>, version: string): boolean => !atLeast(version, '1.44') && body.CheckDuplicate !== true;

export function networkRoutes(r: Router, e: Engine): void {
  const { networks, containers } = e;
  r.route('GET', '/networks', async ({ q, version }) => {
    const filters = Filters.parse(q.get('filters'), NETWORK_FILTERS);
    return listNetworks(networks.list().map((n) => e.queries.network(n)), filters).map((v) => networkJson(v, version));
  });
  r.route('GET', '/networks/{id}', async ({ params, q, version }) => {
    const view = e.queries.network(networks.get(params[0]));
    // ?scope=: only a network of that scope is found (Docker's 404 otherwise)
    const scope = q.get('scope');
    if (scope && scope !== view.scope) throw new EngineError('NETWORK_NOT_FOUND', `network ${params[0]} not found`);
    return networkJson(view, version);
  });
  r.route('POST', '/networks/create', async ({ body, res, version }) => {
    const b = await body();
    const net = await networks.create(networkCreateRequest(b), { allowDuplicateName: duplicateNameAllowed(b, version) });
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
    await containers.connect(params[0], String(b.Container ?? ''), endpointConfig(obj(b.EndpointConfig, 'EndpointConfig')));
    return undefined;
  });
  r.route('POST', '/networks/{id}/disconnect', async ({ params, body }) => {
    const b = await body();
    await containers.disconnect(params[0], String(b.Container ?? ''));
    return undefined;
  });
}

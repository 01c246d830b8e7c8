/**
 * `GET /networks`: which networks a list shows, as Docker 20.10 filters them
 * (daemon/network/filter.go): every key given must hold.
 *   name, id     regular expression searched in the name / the id
 *   driver       exact driver name (bridge, macvlan, null, ...)
 *   label        every `key` / `key=value` given
 *   scope        exact: local, swarm, global
 *   type         builtin (bridge, host, none) or custom
 *   dangling     true: custom networks without containers; false: the others
 */
import { EngineError } from '../../base/errors';
import { NetworkView } from '../../core/queries';
import { Filters } from './filters';

export const NETWORK_FILTERS = ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type'] as const;

/** The networks a list shows, in the order given. */
export function listNetworks(views: NetworkView[], f: Filters): NetworkView[] {
  for (const t of f.values('type')) if (t !== 'builtin' && t !== 'custom') throw new EngineError('INVALID_PARAMETER', `invalid filter: 'type'='${t}'`, { hint: 'builtin or custom' });
  const dangling = f.bool('dangling');
  return views.filter((v) => {
    const n = v.network;
    if (!f.exact('driver', n.driver) || !f.match('name', n.name) || !f.match('id', n.id) || !f.labels('label', n.labels) || !f.exact('scope', v.scope)) return false;
    if (dangling !== undefined && dangling !== (!v.predefined && v.members.length === 0)) return false;
    if (f.has('type') && !f.values('type').includes(v.predefined ? 'builtin' : 'custom')) return false;
    return true;
  });
}

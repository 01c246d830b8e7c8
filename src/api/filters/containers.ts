/**
 * `GET /containers/json`: which containers a list shows, as Docker 20.10 decides (daemon/list.go):
 * newest first; running ones only unless `all`, a `status` filter or a `limit`; `before` / `since`
 * cut the list at a container (by name or id); then every filter key given must hold:
 *   id, name          regular expression searched in the id / the name (with or without "/")
 *   label             every `key` / `key=value` given
 *   status            created, restarting, running, removing, paused, exited, dead
 *   exited            the exit code of a container that ran and stopped
 *   ancestor          made from that image (name, name:tag, id or id prefix)
 *   network           on that network (name, or id prefix)
 *   publish, expose   a published host port / an exposed container port, or a range, [/tcp|/udp]
 *   volume            a mount's destination, volume name or source
 *   health            starting, healthy, unhealthy, none
 *   is-task           true: swarm task containers (ctrnet has none), false: the others
 * A wrong value is refused in Docker's words where Docker has them.
 */
import { EngineError } from '../../base/errors';
import { ContainerView } from '../../core/queries';
import { Filters, portSet } from './filters';

export const CONTAINER_FILTERS = ['ancestor', 'before', 'exited', 'id', 'isolation', 'label', 'name', 'status', 'health', 'since', 'volume', 'network', 'is-task', 'publish', 'expose'] as const;

const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const HEALTH = ['starting', 'healthy', 'unhealthy', 'none'];

export interface ListOptions {
  all: boolean;
  /** > 0: at most this many (stopped ones included) */
  limit: number;
}

/** What the filters need beyond the views: image references resolved to ids. */
export interface ContainerLookups {
  /** the id of the image a reference names, if any */
  imageId(ref: string): string | undefined;
}

/**
 * The containers a list shows, in order. `views` newest first (the repository's order).
 * @example listContainers(views, Filters.parse('{"label":["com.docker.compose.project=web"]}', CONTAINER_FILTERS), { all: true, limit: 0 }, lookups)
 */
export function listContainers(views: ContainerView[], f: Filters, opts: ListOptions, lookups: ContainerLookups): ContainerView[] {
  for (const s of f.values('status')) if (!STATES.includes(s)) throw new EngineError('INVALID_PARAMETER', `Invalid filter 'status=${s}'`, { hint: `one of ${STATES.join(', ')}` });
  for (const h of f.values('health')) if (!HEALTH.includes(h)) throw new EngineError('INVALID_PARAMETER', `Unrecognised filter value for health: ${h}`);
  const task = f.values('is-task');
  if (task.length && !(task.length === 1 && (task[0] === 'true' || task[0] === 'false'))) throw new EngineError('INVALID_PARAMETER', `Invalid filter 'is-task=[${task.join(' ')}]'`);
  const exited = f.values('exited').map((v) => {
    if (!/^-?\d+$/.test(v)) throw new EngineError('INVALID_PARAMETER', `invalid filter 'exited=${v}': not an exit code`);
    return Number(v);
  });
  const at = (key: 'before' | 'since'): string | undefined => {
    const v = f.values(key)[0];
    if (v === undefined) return undefined;
    const found = views.find((x) => x.container.id === v || x.container.name === v.replace(/^\//, '') || (v.length >= 1 && x.container.id.startsWith(v)));
    if (!found) throw new EngineError('CONTAINER_NOT_FOUND', `no such container ${v}`);
    return found.container.id;
  };
  let before = at('before');
  const since = at('since');
  const publish = portSet('publish', f.values('publish'));
  const expose = portSet('expose', f.values('expose'));
  const images = f.has('ancestor') ? new Set(f.values('ancestor').map((r) => lookups.imageId(r)).filter((x): x is string => !!x)) : undefined;
  const all = opts.all || f.has('status');

  const out: ContainerView[] = [];
  for (const v of views) {
    const c = v.container;
    // Everything newer than `before` is skipped, and the list stops at `since`.
    if (before) {
      if (c.id === before) before = undefined;
      continue;
    }
    if (since && c.id === since) break;
    // A container waiting for its restart counts as running, as in Docker.
    if (c.status !== 'running' && !v.restarting && !all && opts.limit <= 0) continue;
    if (!f.match('name', `/${c.name}`, c.name) || !f.match('id', c.id)) continue;
    if (task[0] === 'true') continue;
    if (!f.labels('label', c.spec.labels)) continue;
    if (opts.limit > 0 && out.length === opts.limit) break;
    if (exited.length && !(c.status === 'exited' && c.startedAt && exited.includes(c.exitCode))) continue;
    if (!f.exact('status', v.restarting ? 'restarting' : c.status)) continue;
    if (!f.exact('health', v.health ?? 'none')) continue;
    if (f.has('volume') && !f.values('volume').some((x) => v.mounts.some((m) => m.destination === x || (m.name ?? m.source) === x))) continue;
    if (images && !images.has(c.imageId)) continue;
    if (f.has('network') && !f.values('network').some((x) => v.networks.some((a) => a.network.name === x || a.network.id.startsWith(x)))) continue;
    if (publish.size && !v.ports.some((p) => publish.has(`${p.hostPort}/${p.proto}`))) continue;
    if (expose.size && !exposedPorts(v).some((p) => expose.has(p))) continue;
    out.push(v);
  }
  return out;
}

/** "80/tcp" keys of what a container exposes: its ExposedPorts and the container ports of its bindings. */
function exposedPorts(v: ContainerView): string[] {
  const { spec } = v.container;
  return [...spec.exposedPorts.map((p) => (p.includes('/') ? p : `${p}/tcp`)), ...spec.portBindings.map((b) => `${b.containerPort}/${b.proto}`)];
}

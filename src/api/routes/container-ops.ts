/**
 * Container routes beyond the lifecycle: pause, unpause, top, stats (one sample or a stream, one
 * a second), changes, prune, legacy link removal, and commit.
 */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { StatsSample } from '../../core/containers/introspection';
import { ImageConfig } from '../../base/image-config';
import { Json, obj, stringMap, strings } from '../dto/common';
import { statsJson } from '../dto/stats';
import { bool, filterLists } from '../http';
import { Router } from '../router';

const STATS_INTERVAL_MS = 1000;

/** The fields of a commit body (a container config) that were given, as an image config's. */
function commitConfig(b: Json): Partial<ImageConfig> {
  const out: Partial<ImageConfig> = {};
  if (b.Cmd !== undefined && b.Cmd !== null) out.cmd = strings(b.Cmd, 'Cmd');
  if (b.Entrypoint !== undefined && b.Entrypoint !== null) out.entrypoint = strings(b.Entrypoint, 'Entrypoint');
  if (Array.isArray(b.Env)) out.env = strings(b.Env, 'Env');
  if (typeof b.WorkingDir === 'string' && b.WorkingDir) out.workingDir = b.WorkingDir;
  if (typeof b.User === 'string' && b.User) out.user = b.User;
  if (b.Labels && typeof b.Labels === 'object') out.labels = stringMap(b.Labels, 'Labels');
  if (b.ExposedPorts && typeof b.ExposedPorts === 'object') out.exposedPorts = Object.keys(obj(b.ExposedPorts, 'ExposedPorts'));
  if (b.Volumes && typeof b.Volumes === 'object') out.volumes = Object.keys(obj(b.Volumes, 'Volumes'));
  if (typeof b.StopSignal === 'string' && b.StopSignal) out.stopSignal = b.StopSignal;
  return out;
}

export function containerOpRoutes(r: Router, e: Engine): void {
  const ctrs = e.containers;
  r.route('POST', '/containers/{id}/pause', async ({ params, res }) => {
    await ctrs.pause(params[0]);
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/unpause', async ({ params, res }) => {
    await ctrs.unpause(params[0]);
    res.statusCode = 204;
  });
  r.route('GET', '/containers/{id}/top', async ({ params, q }) => {
    const t = await e.introspection.top(ctrs.get(params[0]), q.get('ps_args') ?? '');
    return { Titles: t.titles, Processes: t.processes };
  });
  r.route('GET', '/containers/{id}/changes', async ({ params }) => {
    const changes = await e.introspection.changes(ctrs.get(params[0]));
    return changes.length ? changes.map((c) => ({ Path: c.path, Kind: c.kind })) : null;
  });
  r.route('GET', '/containers/{id}/stats', async ({ params, q, res, req }) => {
    const c0 = ctrs.get(params[0]);
    const current = () => {
      try {
        return ctrs.get(c0.id);
      } catch {
        return undefined; // removed while streaming: the stream ends
      }
    };
    // stream defaults to true; one-shot (API 1.41) answers at once without the second sample.
    const stream = q.has('stream') ? bool(q, 'stream') : true;
    const oneShot = !stream && bool(q, 'one-shot');
    const sample = async (): Promise<StatsSample | undefined> => {
      const c = current();
      return c ? e.introspection.stats(c) : undefined;
    };
    const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
    if (!stream) {
      let prev = oneShot ? undefined : await sample();
      if (prev) await sleep(STATS_INTERVAL_MS);
      const now = await sample();
      if (!now) prev = undefined;
      return statsJson(current() ?? c0, now, prev);
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    let gone = false;
    req.socket.on('close', () => (gone = true));
    let prev: StatsSample | undefined;
    for (;;) {
      const now = await sample().catch(() => undefined);
      if (gone) break;
      res.write(JSON.stringify(statsJson(current() ?? c0, now, prev)) + '\n');
      // A container that is not running gets one zero answer, as Docker gives it.
      if (!now) break;
      prev = now;
      await sleep(STATS_INTERVAL_MS);
      if (gone) break;
    }
    res.end();
    return undefined;
  });
  r.route('POST', '/containers/prune', async ({ q }) => e.prune.containers(filterLists(q.get('filters'))));
  // A legacy link: DELETE /containers/NAME/ALIAS?link=1 (a link's name has a slash; Docker's
  // route takes any path here as a name, so NAME/links/ALIAS is no container either).
  r.route('DELETE', '/containers/{name*}', async ({ params, q, res }) => {
    const parts = params[0].split('/');
    if (!bool(q, 'link') || parts.length !== 2) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${params[0]}`);
    await ctrs.removeLink(parts[0], parts[1]);
    res.statusCode = 204;
  });
  r.route('POST', '/commit', async ({ q, body, res }) => {
    const c = ctrs.get(q.get('container') ?? '');
    const repo = q.get('repo') ?? '';
    const tag = repo ? `${repo}${q.get('tag') ? `:${q.get('tag')}` : ''}` : undefined;
    const b = await body();
    const img = await e.commit(c, {
      tag,
      comment: q.get('comment') ?? '',
      author: q.get('author') ?? '',
      pause: q.has('pause') ? bool(q, 'pause') : true,
      changes: q.getAll('changes'),
      config: commitConfig(b),
    });
    if (tag) e.events.emit('image', 'tag', img.id, { name: img.tags.find((t) => t.startsWith(repo)) ?? tag });
    res.statusCode = 201;
    return { Id: img.id };
  });
}

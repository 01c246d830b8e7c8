/**
 * Image routes: list, inspect, history, tag, delete, prune; pull and import (`POST
 * /images/create`), push, login (`POST /auth`), save (`GET /images/get`, `/images/{name}/get`) and
 * load. Names may hold slashes (`localhost:5000/team/app`): the docker CLI sends them unescaped.
 * Registry credentials come in Docker's X-Registry-Auth header (base64 JSON), per request.
 * Answers take the shapes of the request's API version (dto/image.ts); image events come from
 * the image store (its onEvent, wired in daemon/main.ts), the prune event from here.
 */
import { EngineError } from '../../base/errors';
import { joinRepoTag } from '../../base/image-ref';
import { Engine } from '../../core/engine';
import { authFromJson, decodeAuthHeader } from '../../images/registry/auth';
import { historyJson, imageInspect, imageSummary } from '../dto/image';
import { Filters } from '../filters/filters';
import { IMAGE_FILTERS, listImages } from '../filters/images';
import { bool } from '../http';
import { JsonStream } from '../json-stream';
import { Router } from '../router';
import { atLeast } from '../version';

/** Docker's `until` filter: a duration ago (10m, 1h30m) or a time (unix seconds or RFC 3339). */
function untilTime(v: string): number {
  const d = /^(\d+h)?(\d+m)?(\d+s)?$/.exec(v);
  if (d && v) return Date.now() - ((parseInt(d[1] ?? '0') * 60 + parseInt(d[2] ?? '0')) * 60 + parseInt(d[3] ?? '0')) * 1000;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new EngineError('INVALID_PARAMETER', `invalid until filter "${v}"`, { hint: 'give a duration (1h, 30m) or a time' });
  return t;
}

export function imageRoutes(r: Router, e: Engine): void {
  const { images } = e;
  const usedBy = (id: string) => e.queries.containersOf(id);

  r.route('GET', '/images/json', async ({ q, version }) => {
    const filters = Filters.parse(q.get('filters'), IMAGE_FILTERS);
    // The legacy `filter=PATTERN` query: a reference filter.
    const legacy = q.get('filter');
    const f = legacy ? Filters.of({ ...Object.fromEntries(IMAGE_FILTERS.map((k) => [k, filters.values(k)])), reference: [...filters.values('reference'), legacy] }) : filters;
    // shared-size (1.42+): what each image shares with others, computed only when asked.
    const shared = atLeast(version, '1.42') && bool(q, 'shared-size') ? new Map((await e.diskUsage()).images.map((u) => [u.image.id, u.sharedSize])) : undefined;
    return listImages(images.list(), f, (ref) => images.find(ref)).map((i) => imageSummary(i, version, usedBy(i.id).length, shared?.get(i.id) ?? -1));
  });

  r.route('POST', '/images/create', async ({ q, req, res }) => {
    const fromSrc = q.get('fromSrc');
    if (fromSrc !== null) {
      if (fromSrc !== '-') throw new EngineError('NOT_SUPPORTED', 'importing from a URL is not supported by ctrnet', { hint: 'download the file and import it from stdin (-)' });
      const repo = q.get('repo');
      const img = await images.import(req, {
        tag: repo ? joinRepoTag(repo, q.get('tag')) : undefined,
        changes: q.getAll('changes'),
        message: q.get('message') ?? undefined,
        platform: q.get('platform') ?? undefined,
      });
      res.setHeader('Content-Type', 'application/json');
      return { status: img.id };
    }
    const from = q.get('fromImage');
    if (!from) throw new EngineError('INVALID_PARAMETER', 'fromImage or fromSrc is required', { hint: 'POST /images/create?fromImage=NAME&tag=TAG' });
    const auth = decodeAuthHeader(req.headers['x-registry-auth'] as string | undefined);
    const tag = q.get('tag');
    if (!tag && !/[@]|:[^/]*$/.test(from)) throw new EngineError('NOT_SUPPORTED', 'pulling every tag of a repository (docker pull -a) is not supported by ctrnet', { hint: 'pull NAME:TAG' });
    const ref = joinRepoTag(from, tag);
    await new JsonStream(res).run(async (send) => {
      await images.pull(ref, { auth, platform: q.get('platform') ?? undefined, progress: send });
    });
  });

  r.route('POST', '/images/load', async ({ q, req, res }) => {
    await new JsonStream(res, { quiet: bool(q, 'quiet'), eager: true }).run(async (send) => {
      await images.load(req, send);
    });
  });

  r.route('GET', '/images/get', async ({ q, res }) => {
    const names = q.getAll('names');
    if (!names.length) throw new EngineError('INVALID_PARAMETER', 'names is required', { hint: 'GET /images/get?names=NAME&names=NAME2' });
    const tar = images.save(names);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipe(tar, res);
  });

  r.route('POST', '/images/prune', async ({ q }) => {
    const f = Filters.parse(q.get('filters'), ['dangling', 'label', 'label!', 'until']);
    const all = f.values('dangling').some((v) => v === 'false' || v === '0');
    const labels = f.values('label');
    const notLabels = f.values('label!');
    const until = f.values('until').map(untilTime);
    const hasLabel = (l: Record<string, string>, spec: string) => {
      const eq = spec.indexOf('=');
      return eq < 0 ? spec in l : l[spec.slice(0, eq)] === spec.slice(eq + 1);
    };
    const out = await images.prune(usedBy, {
      all,
      keep: (i) =>
        !labels.every((s) => hasLabel(i.config.labels, s)) || notLabels.some((s) => hasLabel(i.config.labels, s)) || until.some((t) => Date.parse(i.created) >= t),
    });
    e.events.emit('image', 'prune', '', { reclaimed: String(out.spaceReclaimed) });
    return { ImagesDeleted: out.deleted.length ? out.deleted : null, SpaceReclaimed: out.spaceReclaimed };
  });

  r.route('POST', '/auth', async ({ body }) => {
    const b = await body();
    const auth = authFromJson(b);
    if (!auth.username && !auth.identityToken) throw new EngineError('INVALID_PARAMETER', 'no username given', { hint: 'send {"username":…,"password":…,"serveraddress":…}' });
    const { identityToken } = await images.login(auth);
    return { Status: 'Login Succeeded', IdentityToken: identityToken ?? '' };
  });

  r.route('GET', '/images/{name*}/json', async ({ params, version }) => imageInspect(images.get(params[0]), { version }));
  r.route('GET', '/images/{name*}/history', async ({ params }) => historyJson(images.history(params[0])));
  r.route('GET', '/images/{name*}/get', async ({ params, res }) => {
    const tar = images.save([params[0]]);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await pipe(tar, res);
  });
  r.route('POST', '/images/{name*}/push', async ({ params, q, req, res }) => {
    const auth = decodeAuthHeader(req.headers['x-registry-auth'] as string | undefined);
    const tag = q.get('tag');
    await new JsonStream(res).run(async (send) => {
      await images.push(joinRepoTag(params[0], tag), { auth, progress: send });
    });
  });
  r.route('POST', '/images/{name*}/tag', async ({ params, q, res }) => {
    const repo = q.get('repo');
    if (!repo) throw new EngineError('INVALID_PARAMETER', 'repo is required', { hint: 'POST /images/NAME/tag?repo=NEW&tag=TAG' });
    images.tag(params[0], joinRepoTag(repo, q.get('tag')));
    res.statusCode = 201;
  });
  r.route('DELETE', '/images/{name*}', async ({ params, q }) => images.remove(params[0], usedBy, bool(q, 'force')));
}

/** Streams a tar to the answer; a failure midway cuts the answer (the client sees a short archive, as with Docker). */
async function pipe(src: NodeJS.ReadableStream, res: import('node:http').ServerResponse): Promise<void> {
  await new Promise<void>((resolve) => {
    src.on('error', (err) => {
      res.destroy(err);
      resolve();
    });
    res.on('close', resolve);
    src.pipe(res);
  });
}

/**
 * Image routes: list, inspect, import (`POST /images/create?fromSrc=-`), tag, delete, prune; and
 * their events, as Docker emits them (import: tag then import; rmi: untag, delete — Docker names
 * the image by its id in those).
 */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { imageInspect, imageSummary } from '../dto/image';
import { bool, filterLists } from '../http';
import { Router } from '../router';
import { atLeast } from '../version';

export function imageRoutes(r: Router, e: Engine): void {
  const { images } = e;
  r.route('GET', '/images/json', async ({ q, version }) => {
    // shared-size (1.42+): what each image shares with others, computed only when asked.
    const shared = atLeast(version, '1.42') && bool(q, 'shared-size') ? new Map((await e.diskUsage()).images.map((u) => [u.image.id, u.sharedSize])) : undefined;
    return images.list().map((i) => imageSummary(i, e.queries.containersOf(i.id).length, version, shared?.get(i.id) ?? -1));
  });
  r.route('GET', '/images/{name*}/json', async ({ params, version }) => imageInspect(images.get(params[0]), version));
  r.route('POST', '/images/prune', async ({ q }) => e.prune.images(filterLists(q.get('filters'))));
  r.route('POST', '/images/create', async ({ q, req, res }) => {
    if (q.get('fromSrc') !== '-') {
      const ref = `${(q.get('fromImage') ?? '').replace(/^docker\.io\/(library\/)?/, '')}:${q.get('tag') || 'latest'}`;
      throw new EngineError('NOT_SUPPORTED', `No such image: ${ref}, and pulling is not supported by ctrnet: it has no registry`, { hint: 'import a root filesystem tarball with `ctrnet image import FILE NAME` or `docker import FILE NAME`' });
    }
    const repo = q.get('repo');
    const tag = repo ? `${repo}${q.get('tag') ? `:${q.get('tag')}` : ''}` : undefined;
    const img = await images.import(req, tag);
    if (tag) e.events.emit('image', 'tag', img.id, { name: img.tags.find((t) => t === tag || t === `${tag}:latest`) ?? tag });
    e.events.emit('image', 'import', img.id, { name: img.id });
    res.setHeader('Content-Type', 'application/json');
    return { status: img.id };
  });
  r.route('POST', '/images/{name*}/tag', async ({ params, q, res }) => {
    const tag = `${q.get('repo')}${q.get('tag') ? `:${q.get('tag')}` : ''}`;
    images.tag(params[0], tag);
    const img = images.get(params[0]);
    e.events.emit('image', 'tag', img.id, { name: img.tags.find((t) => t === tag || t === `${tag}:latest`) ?? tag });
    res.statusCode = 201;
  });
  r.route('DELETE', '/images/{name*}', async ({ params, q }) => {
    const id = images.get(params[0]).id;
    const out = await images.remove(params[0], (x) => e.queries.containersOf(x), bool(q, 'force'));
    for (const r of out) {
      if (r.Untagged) e.events.emit('image', 'untag', id, { name: id });
      if (r.Deleted) e.events.emit('image', 'delete', r.Deleted, { name: r.Deleted });
    }
    return out;
  });
}

/** Image routes: list, inspect, import (`POST /images/create?fromSrc=-`), tag, delete. */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { imageInspect, imageSummary } from '../dto/image';
import { Filters } from '../filters/filters';
import { IMAGE_FILTERS, listImages } from '../filters/images';
import { bool } from '../http';
import { Router } from '../router';

export function imageRoutes(r: Router, e: Engine): void {
  const { images } = e;
  r.route('GET', '/images/json', async ({ q }) => {
    const filters = Filters.parse(q.get('filters'), IMAGE_FILTERS);
    // The legacy `filter=PATTERN` query: a reference filter.
    const legacy = q.get('filter');
    const f = legacy ? Filters.of({ ...Object.fromEntries(IMAGE_FILTERS.map((k) => [k, filters.values(k)])), reference: [...filters.values('reference'), legacy] }) : filters;
    return listImages(images.list(), f, (ref) => images.find(ref)).map((i) => imageSummary(i, e.queries.containersOf(i.id).length));
  });
  r.route('GET', '/images/{name}/json', async ({ params }) => imageInspect(images.get(params[0])));
  r.route('POST', '/images/create', async ({ q, req, res }) => {
    if (q.get('fromSrc') !== '-') {
      const ref = `${(q.get('fromImage') ?? '').replace(/^docker\.io\/(library\/)?/, '')}:${q.get('tag') || 'latest'}`;
      throw new EngineError('NOT_IMPLEMENTED', `No such image: ${ref}, and pulling is not supported by ctrnet: it has no registry`, { hint: 'import a root filesystem tarball with `ctrnet image import FILE NAME` or `docker import FILE NAME`' });
    }
    const repo = q.get('repo');
    const tag = repo ? `${repo}${q.get('tag') ? `:${q.get('tag')}` : ''}` : undefined;
    const img = await images.import(req, tag);
    res.setHeader('Content-Type', 'application/json');
    return { status: img.id };
  });
  r.route('POST', '/images/{name}/tag', async ({ params, q, res }) => {
    images.tag(params[0], `${q.get('repo')}${q.get('tag') ? `:${q.get('tag')}` : ''}`);
    res.statusCode = 201;
  });
  r.route('DELETE', '/images/{name}', async ({ params, q }) => images.remove(params[0], (id) => e.queries.containersOf(id), bool(q, 'force')));
}

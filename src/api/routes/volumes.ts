/** Volume routes: create, list, inspect, remove, prune. */
import { Engine } from '../../core/engine';
import { volumeCreateRequest, volumeJson, volumeListFilter, volumePruneFilter } from '../dto/volume';
import { bool, parseFilters } from '../http';
import { Router } from '../router';

export function volumeRoutes(r: Router, e: Engine): void {
  const vols = e.volumes;
  r.route('POST', '/volumes/create', async ({ body, res }) => {
    const v = await vols.create(volumeCreateRequest(await body()));
    res.statusCode = 201;
    return volumeJson(v, vols.path(v.name));
  });
  r.route('GET', '/volumes', async ({ q }) => {
    const f = volumeListFilter(parseFilters(q.get('filters')));
    return { Volumes: vols.list(f).map((v) => volumeJson(v, vols.path(v.name))), Warnings: null };
  });
  r.route('GET', '/volumes/{name}', async ({ params }) => {
    const v = vols.get(params[0]);
    return volumeJson(v, vols.path(v.name));
  });
  r.route('DELETE', '/volumes/{name}', async ({ params, q, res }) => {
    await vols.remove(params[0], bool(q, 'force'));
    res.statusCode = 204;
  });
  r.route('POST', '/volumes/prune', async ({ q }) => {
    const f = volumePruneFilter(parseFilters(q.get('filters')));
    const { deleted, bytes } = await vols.prune(f.labels, f.notLabels);
    return { VolumesDeleted: deleted.length ? deleted : null, SpaceReclaimed: bytes };
  });
}

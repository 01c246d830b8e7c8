/** Docker's JSON for volumes (Engine API v1.41): a volume, the create request, list and prune filters. */
import { EngineError } from '../../base/errors';
import { Volume } from '../../base/model';
import { VolumeFilter, VolumeRequest } from '../../core/volumes';
import { filterValues, Filters } from '../http';
import { Json, obj, str, stringMap } from './common';

/** POST /volumes/create body. */
export function volumeCreateRequest(body: Json): VolumeRequest {
  const opts = body.DriverOpts === undefined || body.DriverOpts === null ? undefined : stringMap(body.DriverOpts, 'DriverOpts');
  const labels = body.Labels === undefined || body.Labels === null ? undefined : stringMap(body.Labels, 'Labels');
  obj(body, 'body');
  return { name: str(body.Name, 'Name'), driver: str(body.Driver, 'Driver') || 'local', options: opts, labels: labels && Object.keys(labels).length ? labels : undefined };
}

/** Docker's CreatedAt: RFC 3339 to the second. */
const createdAt = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

export function volumeJson(v: Volume, mountpoint: string): Json {
  return { CreatedAt: createdAt(v.created), Driver: v.driver, Labels: v.labels ?? null, Mountpoint: mountpoint, Name: v.name, Options: v.options ?? null, Scope: 'local' };
}

function only(f: Filters, allowed: string[]): void {
  for (const k of Object.keys(f)) if (!allowed.includes(k)) throw new EngineError('INVALID_PARAMETER', `Invalid filter '${k}'`, { hint: `volume filters: ${allowed.join(', ')}` });
}

/** GET /volumes?filters=…: name, label, driver, dangling. */
export function volumeListFilter(f: Filters): VolumeFilter {
  only(f, ['name', 'label', 'driver', 'dangling']);
  const out: VolumeFilter = { names: filterValues(f.name), labels: filterValues(f.label), drivers: filterValues(f.driver) };
  const d = filterValues(f.dangling);
  if (d.length) {
    if (d.some((x) => !['true', '1', 'false', '0'].includes(x))) throw new EngineError('INVALID_PARAMETER', `Invalid filter 'dangling=[${d.join(' ')}]'`, { hint: 'dangling=true or dangling=false' });
    out.dangling = d[0] === 'true' || d[0] === '1';
  }
  return out;
}

/** POST /volumes/prune?filters=…: label and label! only (API 1.41). */
export function volumePruneFilter(f: Filters): { labels: string[]; notLabels: string[] } {
  only(f, ['label', 'label!']);
  return { labels: filterValues(f.label), notLabels: filterValues(f['label!']) };
}

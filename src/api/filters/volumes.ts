/**
 * `GET /volumes`: which volumes a list shows, as Docker 20.10 filters them. The matcher only:
 * volumes themselves are issue 15's, whose route calls listVolumes() over its own read model
 * (anything of the VolumeView shape).
 *   name      regular expression searched in the name
 *   driver    exact driver name
 *   label     every `key` / `key=value` given
 *   dangling  true: volumes no container uses; false: the others
 */
import { Filters } from './filters';

export const VOLUME_FILTERS = ['dangling', 'driver', 'label', 'name'] as const;

export interface VolumeView {
  name: string;
  driver: string;
  labels: Record<string, string>;
  /** used by at least one container */
  inUse: boolean;
}

export function listVolumes<T extends VolumeView>(views: T[], f: Filters): T[] {
  const dangling = f.bool('dangling');
  return views.filter((v) => f.match('name', v.name) && f.exact('driver', v.driver) && f.labels('label', v.labels) && (dangling === undefined || dangling === !v.inUse));
}

/**
 * Docker's prune endpoints for containers and networks, with their filters (images: the image
 * store's prune, api/routes/images.ts):
 *   until    created before a time (Unix seconds, RFC3339, or a Go duration ago)
 *   label    has a label (key, or key=value); label! lacks it
 * A filter a kind does not have is refused with Docker's words ("Invalid filter 'x'"). What is
 * removed, and the bytes freed, are answered as Docker answers them (null for none), and a
 * `prune` event carries the bytes reclaimed.
 */
import { EngineError } from '../base/errors';
import { EngineEvents } from '../base/events';
import { Network } from '../base/model';
import { parseTimestamp } from '../base/time';
import { Containers } from './containers/containers';
import { Networks } from './networks';

export type PruneFilters = Record<string, string[]>;

/** Refuses the keys a prune does not know. */
function check(filters: PruneFilters, allowed: string[]): void {
  for (const k of Object.keys(filters)) if (!allowed.includes(k)) throw new EngineError('INVALID_PARAMETER', `Invalid filter '${k}'`, { hint: `this prune takes ${allowed.join(', ')}` });
}

function untilNs(filters: PruneFilters): bigint | undefined {
  const v = filters.until?.[0];
  if (v === undefined) return undefined;
  const t = parseTimestamp(v);
  if (t === undefined) throw new EngineError('INVALID_PARAMETER', `failed to parse value as time or duration: "${v}"`, { hint: 'give Unix seconds, an RFC3339 time or a duration such as 24h' });
  return t;
}

const hasLabel = (labels: Record<string, string>, want: string): boolean => {
  const eq = want.indexOf('=');
  return eq < 0 ? want in labels : labels[want.slice(0, eq)] === want.slice(eq + 1);
};

/** The label, label! and until filters on one object. */
export function keeps(filters: PruneFilters, labels: Record<string, string>, createdIso: string): boolean {
  const until = untilNs(filters);
  if (until !== undefined && BigInt(Date.parse(createdIso)) * 1_000_000n >= until) return false;
  if ((filters.label ?? []).some((l) => !hasLabel(labels, l))) return false;
  if ((filters['label!'] ?? []).some((l) => hasLabel(labels, l))) return false;
  return true;
}

export interface PruneDeps {
  containers: Containers;
  networks: Networks;
  events: EngineEvents;
  /** ids of the containers made from an image */
  containersOf: (imageId: string) => string[];
  /** bytes in a container's writable layer */
  layerSize: (id: string) => Promise<number>;
}

export class Prune {
  constructor(private readonly d: PruneDeps) {}

  /** Removes stopped containers (created or exited) that pass the filters. */
  async containers(filters: PruneFilters): Promise<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }> {
    check(filters, ['until', 'label', 'label!']);
    untilNs(filters);
    const gone: string[] = [];
    let reclaimed = 0;
    for (const c of this.d.containers.list()) {
      if (c.status === 'running' || c.status === 'removing' || !keeps(filters, c.spec.labels, c.created)) continue;
      const size = await this.d.layerSize(c.id).catch(() => 0);
      await this.d.containers.remove(c.id);
      gone.push(c.id);
      reclaimed += size;
    }
    this.d.events.emit('container', 'prune', '', { reclaimed: String(reclaimed) });
    return { ContainersDeleted: gone.length ? gone : null, SpaceReclaimed: reclaimed };
  }

  /** Removes user-defined networks no container uses that pass the filters. */
  async networks(filters: PruneFilters): Promise<{ NetworksDeleted: string[] | null }> {
    check(filters, ['until', 'label', 'label!']);
    untilNs(filters);
    const gone = await this.d.networks.prune((n: Network) => keeps(filters, n.labels, n.created));
    this.d.events.emit('network', 'prune', '', { reclaimed: '0' });
    return { NetworksDeleted: gone.length ? gone : null };
  }
}

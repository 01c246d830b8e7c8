/**
 * Docker's `/events` filters: values of one key are alternatives (OR), keys must all match (AND).
 *   type       container | network | image | volume | daemon (plugin, node, service, secret, config:
 *              types ctrnet never emits)
 *   event      the action; "exec_start" also matches "exec_start: sh -c …" (the part before ": ")
 *   container  a container event's actor by id, id prefix or name (the name it had then)
 *   image      a container event's image, or an image event's id or name; "busybox" also
 *              matches "busybox:latest"
 *   network    a network event's actor by id, id prefix or name
 *   volume     a volume event's name          daemon  the daemon's id or name
 *   label      a key, or key=value, of the actor's attributes (containers carry their labels)
 *   scope      local (every ctrnet event) or swarm (none)
 * Unknown keys are ignored, as Docker ignores them.
 */
import { EngineEvent } from '../base/events';

export type EventFilter = Record<string, string[]>;

const stripTag = (ref: string): string => (ref.lastIndexOf(':') > ref.lastIndexOf('/') ? ref.slice(0, ref.lastIndexOf(':')) : ref);

function imageMatches(want: string, e: EngineEvent): boolean {
  const candidates = e.type === 'image' ? [e.id, e.attributes.name] : e.type === 'container' ? [e.attributes.image] : [];
  return candidates.some((c) => !!c && (c === want || stripTag(c) === want || c === `${want}:latest` || c.replace(/^sha256:/, '').startsWith(want.replace(/^sha256:/, ''))));
}

const byIdOrName = (want: string, e: EngineEvent): boolean => e.id === want || (want.length > 0 && e.id.startsWith(want)) || e.attributes.name === want;

const ACTOR: Record<string, (want: string, e: EngineEvent) => boolean> = {
  type: (want, e) => e.type === want,
  event: (want, e) => e.action === want || e.action.split(': ')[0] === want,
  container: (want, e) => e.type === 'container' && byIdOrName(want, e),
  network: (want, e) => e.type === 'network' && byIdOrName(want, e),
  volume: (want, e) => e.type === 'volume' && e.id === want,
  daemon: (want, e) => e.type === 'daemon' && (e.id === want || e.attributes.name === want),
  image: imageMatches,
  label: (want, e) => {
    const eq = want.indexOf('=');
    return eq < 0 ? want in e.attributes : e.attributes[want.slice(0, eq)] === want.slice(eq + 1);
  },
  scope: (want) => want === 'local',
};

export function matches(filter: EventFilter, e: EngineEvent): boolean {
  for (const [key, values] of Object.entries(filter)) {
    const test = ACTOR[key];
    if (!test || values.length === 0) continue;
    if (!values.some((v) => test(v, e))) return false;
  }
  return true;
}

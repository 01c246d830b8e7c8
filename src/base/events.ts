/**
 * Engine events, emitted after a change is done: for the live views (the web UI's server-sent
 * events) and for Docker's `/events` (core/event-log.ts keeps them, api/dto/event.ts shapes them).
 * Types and actions are Docker's; attributes are Docker's Actor.Attributes:
 *   container: create start die (exitCode) kill (signal) stop restart destroy rename (oldName)
 *              pause unpause attach detach resize (height, width) top commit
 *              exec_create: CMD / exec_start: CMD (execID) exec_die (execID, exitCode)
 *              health_status: STATUS (issue 15's health checks emit these)
 *              container events also carry the container's name, image and labels
 *   network:   create destroy (name, type) connect disconnect (container, name, type)
 *   image:     import tag untag delete (name)
 *   volume:    create destroy mount unmount (driver; container, destination… for mounts)
 *   daemon:    reload
 *   …prune:    prune (reclaimed) for container, network, image, volume
 * Actions ctrnet uses for itself (network "peers": an overlay's remote endpoints changed) are not
 * Docker's and are kept out of /events.
 */
import { EventEmitter } from 'node:events';

export type EventType = 'container' | 'network' | 'image' | 'volume' | 'daemon';

export interface EngineEvent {
  type: EventType;
  action: string;
  /** Docker's Actor.ID: a container, network or image id; a volume's name; the daemon's id */
  id: string;
  attributes: Record<string, string>;
  /** milliseconds since the epoch */
  time: number;
  /** nanoseconds within that millisecond: events of the same millisecond stay ordered (timeNano) */
  nano: number;
}

export class EngineEvents {
  private readonly emitter = new EventEmitter();
  private lastMs = 0;
  private seq = 0;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(type: EventType, action: string, id: string, attributes: Record<string, string> = {}): void {
    const time = Date.now();
    this.seq = time === this.lastMs ? this.seq + 1 : 0;
    this.lastMs = time;
    this.emitter.emit('event', { type, action, id, attributes, time, nano: Math.min(this.seq, 999_999) } satisfies EngineEvent);
  }

  /** Subscribes; returns the unsubscribe function. */
  on(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}

/** A container event's attributes, as Docker gives them: its labels, image and name, then extras. */
export function containerAttributes(c: { name: string; image: string; spec: { labels: Record<string, string> } }, extra: Record<string, string> = {}): Record<string, string> {
  return { ...c.spec.labels, image: c.image, name: c.name, ...extra };
}

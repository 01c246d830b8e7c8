/**
 * Engine events, for live views (the web UI's server-sent events): emitted after a change is done.
 *   container: start | exit | remove | connect | disconnect | rename | create
 *   network:   create | remove
 *   container: health_status: starting | healthy | unhealthy (a health check's status changed)
 *   volume:    create | destroy
 */
import { EventEmitter } from 'node:events';

export interface EngineEvent {
  type: 'container' | 'network' | 'volume';
  action: string;
  id: string;
  /** milliseconds since the epoch */
  time: number;
}

export class EngineEvents {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(type: EngineEvent['type'], action: string, id: string): void {
    this.emitter.emit('event', { type, action, id, time: Date.now() } satisfies EngineEvent);
  }

  /** Subscribes; returns the unsubscribe function. */
  on(fn: (e: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}

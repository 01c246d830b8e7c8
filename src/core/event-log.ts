/**
 * The engine's event log, Docker's `/events` source: the last LOG_SIZE (256) events in memory (as
 * Docker keeps; they are gone with the daemon, as Docker's are) and live subscriptions. Reads are
 * windows of time: `since` replays what the log still has, `until` ends the stream.
 *
 * Limitations: events from before the daemon started are not kept.
 */
import { EngineEvent, EngineEvents } from '../base/events';
import { EventFilter, matches } from './event-filter';

export const LOG_SIZE = 256;

/**
 * Actions ctrnet emits for its own views that Docker has no word for: an overlay's remote
 * endpoints changed; a sandbox of another runtime (CNI, Docker's plugin) attached or detached.
 */
const INTERNAL = new Set(['network peers', 'container connect', 'container disconnect']);

/** An event time as Docker's timeNano: nanoseconds since the epoch. */
export const nanosOf = (e: EngineEvent): bigint => BigInt(e.time) * 1_000_000n + BigInt(e.nano);

export class EventLog {
  private readonly ring: EngineEvent[] = [];
  private readonly unsubscribe: () => void;
  private readonly live = new Set<(e: EngineEvent) => void>();

  constructor(events: EngineEvents) {
    this.unsubscribe = events.on((e) => {
      if (INTERNAL.has(`${e.type} ${e.action}`)) return;
      this.ring.push(e);
      if (this.ring.length > LOG_SIZE) this.ring.shift();
      for (const fn of this.live) fn(e);
    });
  }

  /**
   * The events of a window that pass a filter: those still in the log after `since` (none
   * without it), then, when `until` is later than now or absent, each new one until then.
   * `send` gets them in order; the returned promise resolves when the window closed (or
   * `stop` was called: the client went away).
   */
  window(opts: { since?: bigint; until?: bigint; filter: EventFilter }, send: (e: EngineEvent) => void, stop: AbortSignal): Promise<void> {
    const { since, until, filter } = opts;
    const inWindow = (e: EngineEvent) => (since === undefined || nanosOf(e) >= since) && (until === undefined || nanosOf(e) <= until);
    if (since !== undefined) for (const e of this.ring) if (inWindow(e) && matches(filter, e)) send(e);
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    if (until !== undefined && until <= nowNs) return Promise.resolve();
    return new Promise((resolve) => {
      const fn = (e: EngineEvent) => {
        if (inWindow(e) && matches(filter, e)) send(e);
      };
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        this.live.delete(fn);
        if (timer) clearTimeout(timer);
        stop.removeEventListener('abort', done);
        resolve();
      };
      this.live.add(fn);
      stop.addEventListener('abort', done);
      // setTimeout holds at most 2^31-1 ms: a later `until` re-arms until it is near.
      const arm = () => {
        const left = Number((until! - BigInt(Date.now()) * 1_000_000n) / 1_000_000n) + 1;
        timer = left > 0x7fffffff ? setTimeout(arm, 0x7fffffff) : setTimeout(done, Math.max(left, 0));
      };
      if (until !== undefined) arm();
    });
  }

  close(): void {
    this.unsubscribe();
    this.live.clear();
  }
}

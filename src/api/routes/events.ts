/**
 * GET /events: the engine's events in Docker's shapes, one JSON object per line, between `since`
 * and `until` (Unix seconds with a fraction, RFC3339 or a duration ago), filtered as Docker
 * filters them (core/event-filter.ts). Without `until` the stream stays open for new events;
 * without `since` it starts now.
 */
import { EngineError } from '../../base/errors';
import { parseTimestamp } from '../../base/time';
import { Engine } from '../../core/engine';
import { eventText } from '../dto/event';
import { filterLists } from '../http';
import { Router } from '../router';

function time(v: string | null, name: string): bigint | undefined {
  if (v === null || v === '') return undefined;
  const t = parseTimestamp(v);
  if (t === undefined) throw new EngineError('INVALID_PARAMETER', `invalid ${name} time "${v}"`, { hint: 'give Unix seconds (with a fraction), an RFC3339 time or a duration such as 10m' });
  return t;
}

export function eventRoutes(r: Router, e: Engine): void {
  r.route('GET', '/events', async ({ q, req, res, version }) => {
    const since = time(q.get('since'), 'since');
    const until = time(q.get('until'), 'until');
    if (since !== undefined && until !== undefined && since > until) {
      throw new EngineError('INVALID_PARAMETER', `\`since\` time (${q.get('since')}) cannot be after \`until\` time (${q.get('until')})`);
    }
    const filter = filterLists(q.get('filters'));
    res.writeHead(200, { 'Content-Type': 'application/json' });
    // The headers go now: a client waits for them before it reads events.
    res.flushHeaders();
    const stop = new AbortController();
    req.socket.on('close', () => stop.abort());
    await e.eventLog.window({ since, until, filter }, (ev) => res.write(eventText(ev, version) + '\n'), stop.signal);
    res.end();
    return undefined;
  });
}

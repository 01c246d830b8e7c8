/** Container routes: list, create, inspect, start, stop, restart, kill, remove, resize, wait, logs, rename, attach. */
import { FrameReader, frame, STREAM_EXIT } from '../../base/frames';
import { rfc3339Nano } from '../../base/time';
import { EngineError } from '../../base/errors';
import { logConfigOf } from '../../base/container-defaults';
import { parseTimestamp } from '../../base/time';
import { atLeast } from '../version';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from '../../core/containers/detach-keys';
import { StreamFlags } from '../../core/containers/stdio';
import { Engine } from '../../core/engine';
import { containerInspect, containerSummary, createRequest } from '../dto/container';
import { CONTAINER_FILTERS, listContainers } from '../filters/containers';
import { Filters } from '../filters/filters';
import { bool } from '../http';
import { updateRequest } from '../dto/container-host';
import { Router } from '../router';

/** A since/until query value (Unix seconds with a fraction, RFC3339 or a duration ago) in nanoseconds. */
function timeParam(v: string | null, name: string): bigint | undefined {
  if (v === null || v === '' || v === '0') return undefined;
  const t = parseTimestamp(v);
  if (t === undefined) throw new EngineError('INVALID_PARAMETER', `invalid ${name} value "${v}"`, { hint: 'give Unix seconds (with a fraction), an RFC3339 time or a duration such as 10m' });
  return t;
}

export function containerRoutes(r: Router, e: Engine): void {
  const ctrs = e.containers;
  r.route('GET', '/containers/json', async ({ q, version }) => {
    const filters = Filters.parse(q.get('filters'), CONTAINER_FILTERS);
    const limit = Number(q.get('limit') ?? -1);
    const views = ctrs.list().map((c) => e.queries.container(c));
    const shown = listContainers(views, filters, { all: bool(q, 'all'), limit: Number.isFinite(limit) ? limit : -1 }, { imageId: (ref) => e.images.find(ref)?.id });
    return shown.map((v) => containerSummary(v, version));
  });
  r.route('POST', '/containers/create', async ({ q, body, res, version }) => {
    const { image, spec } = createRequest(await body(), version);
    const c = await ctrs.create(q.get('name') ?? undefined, image, spec);
    res.statusCode = 201;
    return { Id: c.id, Warnings: c.spec.networkMode === 'host' && spec.portBindings.length ? ['Published ports are discarded when using host network mode'] : [] };
  });
  r.route('GET', '/containers/{id}/json', async ({ params, version }) => {
    return containerInspect(e.queries.container(ctrs.get(params[0])), version);
  });
  r.route('POST', '/containers/{id}/start', async ({ params, res }) => {
    await ctrs.start(params[0]);
    res.statusCode = 204;
  });
  // `t`: seconds before SIGKILL (absent: the container's --stop-timeout, else 10); `signal` (API 1.42+): instead of its stop signal.
  const stopArgs = (q: URLSearchParams, version: string): [number | undefined, string | undefined] => [
    q.get('t') ? Number(q.get('t')) : undefined,
    atLeast(version, '1.42') ? q.get('signal') || undefined : undefined,
  ];
  r.route('POST', '/containers/{id}/stop', async ({ params, q, res, version }) => {
    await ctrs.stop(params[0], ...stopArgs(q, version));
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/restart', async ({ params, q, res, version }) => {
    await ctrs.restart(params[0], ...stopArgs(q, version));
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/kill', async ({ params, q, res }) => {
    await ctrs.kill(params[0], q.get('signal') || 'KILL');
    res.statusCode = 204;
  });
  r.route('DELETE', '/containers/{id}', async ({ params, q, res }) => {
    if (bool(q, 'link')) {
      ctrs.get(params[0]);
      throw new EngineError('CONTAINER_IN_USE', 'Conflict, cannot remove the default link name of the container', { hint: 'name the link as CONTAINER/ALIAS' });
    }
    await ctrs.remove(params[0], bool(q, 'force'), bool(q, 'v'));
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/update', async ({ params, body }) => {
    const { resources, policy } = updateRequest(await body());
    await ctrs.update(params[0], resources, policy);
    return { Warnings: null };
  });
  r.route('POST', '/containers/{id}/rename', async ({ params, q, res }) => {
    ctrs.rename(params[0], q.get('name') ?? '');
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/resize', async ({ params, q }) => {
    await e.stdio.resize(ctrs.get(params[0]), Number(q.get('h')), Number(q.get('w')));
    return {};
  });
  r.route('POST', '/containers/{id}/wait', async ({ params, q, res, version }) => {
    ctrs.get(params[0]);
    const condition = q.get('condition') || 'not-running';
    // From 1.42 an unknown condition is refused (before, it meant not-running).
    if (!['not-running', 'next-exit', 'removed'].includes(condition) && atLeast(version, '1.42')) {
      throw new EngineError('INVALID_PARAMETER', `invalid condition: "${condition}"`, { hint: 'use not-running, next-exit or removed' });
    }
    // The CLI starts the container only after these headers arrive: send them now.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const code = await ctrs.wait(params[0], q.get('condition') || 'not-running');
    res.end(JSON.stringify({ Error: null, StatusCode: code }) + '\n');
    return undefined;
  });
  r.route('GET', '/containers/{id}/logs', async ({ params, q, res, req }) => {
    const c = ctrs.get(params[0]);
    const tty = c.spec.tty;
    const want = { 1: bool(q, 'stdout'), 2: bool(q, 'stderr') } as Record<number, boolean>;
    const ts = bool(q, 'timestamps');
    if (logConfigOf(c.spec).type === 'none') {
      throw new EngineError('NOT_SUPPORTED', 'configured logging driver does not support reading', { hint: 'the container was created with --log-driver none: nothing was kept' });
    }
    const tail = q.get('tail') && q.get('tail') !== 'all' ? Number(q.get('tail')) : Infinity;
    const since = timeParam(q.get('since'), 'since') ?? 0n;
    // until: lines up to then; a follow stream stops there too.
    const until = timeParam(q.get('until'), 'until');
    const emit = (stream: number, data: Buffer, time: bigint) => {
      const payload = ts ? Buffer.concat([Buffer.from(rfc3339Nano(time) + ' '), data]) : data;
      res.write(tty ? payload : frame(stream, payload));
    };
    // Subscribe before reading the file so no output falls between the two.
    const nowNs = BigInt(Date.now()) * 1_000_000n;
    const following = bool(q, 'follow') && (until === undefined || until > nowNs) ? await e.stdio.follow(c) : undefined;
    const live = following?.sock;
    const lines = (await e.stdio.logs(c, following?.logSize)).filter((l) => want[l.stream] && l.time >= since && (until === undefined || l.time <= until));
    res.writeHead(200);
    for (const l of Number.isFinite(tail) ? lines.slice(Math.max(0, lines.length - tail)) : lines) emit(l.stream, l.data, l.time);
    if (!live) {
      res.end();
      return undefined;
    }
    const reader = new FrameReader((stream, payload) => {
      if (stream === STREAM_EXIT) live.end();
      else if (want[stream]) emit(stream, payload, BigInt(Date.now()) * 1_000_000n);
    });
    live.on('data', (d: Buffer) => reader.push(d));
    live.resume(); // follow() paused it after the shim's ack
    const stopAt = until !== undefined ? setTimeout(() => live.destroy(), Number((until - nowNs) / 1_000_000n)) : undefined;
    await new Promise<void>((resolve) => {
      live.on('close', resolve);
      live.on('error', resolve);
      req.socket.on('close', () => live.destroy());
    });
    if (stopAt) clearTimeout(stopAt);
    res.end();
    return undefined;
  });

  r.hijack('/containers/{id}/attach', async ({ params, q, upgrade }) => {
    const c = ctrs.get(params[0]);
    if (c.paused) throw new EngineError('CONTAINER_PAUSED', `You cannot attach to a paused container, unpause it first`);
    const flags: StreamFlags = { stdin: bool(q, 'stdin'), stdout: bool(q, 'stdout'), stderr: bool(q, 'stderr') };
    const detachKeys = parseDetachKeys(q.get('detachKeys') || DEFAULT_DETACH_KEYS);
    // `stream` defaults to false in Docker's API, but a client that names neither logs nor stream wants the stream.
    const stream = q.has('stream') ? bool(q, 'stream') : !bool(q, 'logs');
    ctrs.note('attach', c);
    await e.stdio.attach(c, upgrade({ multiplexed: !c.spec.tty }), flags, { logs: bool(q, 'logs'), stream, detachKeys, onDetach: () => ctrs.note('detach', c) });
  });
}

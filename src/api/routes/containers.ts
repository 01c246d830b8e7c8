/** Container routes: list, create, inspect, start, stop, restart, kill, remove, resize, wait, logs, rename, attach. */
import { FrameReader, frame, STREAM_EXIT } from '../../base/frames';
import { rfc3339Nano } from '../../base/time';
import { StreamFlags } from '../../core/containers/stdio';
import { Engine } from '../../core/engine';
import { containerInspect, containerSummary, createRequest } from '../dto/container';
import { CONTAINER_FILTERS, listContainers } from '../filters/containers';
import { Filters } from '../filters/filters';
import { bool } from '../http';
import { updateRequest } from '../dto/container-host';
import { Router } from '../router';

export function containerRoutes(r: Router, e: Engine): void {
  const ctrs = e.containers;
  r.route('GET', '/containers/json', async ({ q }) => {
    const filters = Filters.parse(q.get('filters'), CONTAINER_FILTERS);
    const limit = Number(q.get('limit') ?? -1);
    const views = ctrs.list().map((c) => e.queries.container(c));
    const shown = listContainers(views, filters, { all: bool(q, 'all'), limit: Number.isFinite(limit) ? limit : -1 }, { imageId: (ref) => e.images.find(ref)?.id });
    return shown.map(containerSummary);
  });
  r.route('POST', '/containers/create', async ({ q, body, res }) => {
    const { image, spec } = createRequest(await body());
    const c = await ctrs.create(q.get('name') ?? undefined, image, spec);
    res.statusCode = 201;
    return { Id: c.id, Warnings: c.spec.networkMode === 'host' && spec.portBindings.length ? ['Published ports are discarded when using host network mode'] : [] };
  });
  r.route('GET', '/containers/{id}/json', async ({ params }) => {
    return containerInspect(e.queries.container(ctrs.get(params[0])));
  });
  r.route('POST', '/containers/{id}/start', async ({ params, res }) => {
    await ctrs.start(params[0]);
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/stop', async ({ params, q, res }) => {
    await ctrs.stop(params[0], q.get('t') ? Number(q.get('t')) : 10);
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/restart', async ({ params, q, res }) => {
    await ctrs.restart(params[0], q.get('t') ? Number(q.get('t')) : 10);
    res.statusCode = 204;
  });
  r.route('POST', '/containers/{id}/kill', async ({ params, q, res }) => {
    await ctrs.kill(params[0], q.get('signal') || 'KILL');
    res.statusCode = 204;
  });
  r.route('DELETE', '/containers/{id}', async ({ params, q, res }) => {
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
  r.route('POST', '/containers/{id}/wait', async ({ params, q, res }) => {
    ctrs.get(params[0]);
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
    const tail = q.get('tail') && q.get('tail') !== 'all' ? Number(q.get('tail')) : Infinity;
    const since = Number(q.get('since') ?? 0) * 1e9;
    const emit = (stream: number, data: Buffer, time: bigint) => {
      const payload = ts ? Buffer.concat([Buffer.from(rfc3339Nano(time) + ' '), data]) : data;
      res.write(tty ? payload : frame(stream, payload));
    };
    // Subscribe before reading the file so no output falls between the two.
    const live = bool(q, 'follow') ? await e.stdio.follow(c) : undefined;
    const lines = (await e.stdio.logs(c)).filter((l) => want[l.stream] && Number(l.time) >= since);
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
    await new Promise<void>((resolve) => {
      live.on('close', resolve);
      live.on('error', resolve);
      req.socket.on('close', () => live.destroy());
    });
    res.end();
    return undefined;
  });

  r.hijack('/containers/{id}/attach', async ({ params, q, upgrade }) => {
    const c = ctrs.get(params[0]);
    const flags: StreamFlags = { stdin: bool(q, 'stdin'), stdout: bool(q, 'stdout'), stderr: bool(q, 'stderr') };
    await e.stdio.attach(c, upgrade(), flags);
  });
}

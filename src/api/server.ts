/**
 * The HTTP API on a unix socket, following the Docker Engine API v1.41: paths with or without a
 * /v1.NN prefix, Docker's JSON shapes (api/dto.ts), status codes and error bodies
 * (api/http-errors.ts), and connection hijacking for attach and exec (101 UPGRADED, then raw
 * bidirectional bytes; see shared/reference/docker-cli-api.md).
 */
import http from 'node:http';
import net from 'node:net';
import { Duplex } from 'node:stream';
import os from 'node:os';
import { Engine } from '../core/engine';
import { EngineError } from '../base/errors';
import { NotModified, StreamFlags } from '../core/containers';
import { rfc3339Nano } from '../base/time';
import { FrameReader, frame, STREAM_EXIT, STREAM_SYSTEMERR } from '../base/frames';
import { containerInspect, containerSummary, createRequest, networkCreateRequest, networkJson } from './dto';
import { httpError } from './http-errors';
import { explain } from '../core/explain';
import { buildTopology } from '../core/topology';

export const API_VERSION = '1.41';
const MIN_API_VERSION = '1.12';
const MAX_BODY = 1 << 20;

type Query = URLSearchParams;
interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  q: Query;
  params: string[];
  body: () => Promise<Record<string, unknown>>;
}
interface HijackCtx {
  req: http.IncomingMessage;
  q: Query;
  params: string[];
  body: Record<string, unknown>;
  /** switches the connection to a raw stream and returns it */
  upgrade: () => Duplex;
}

type Handler = (c: Ctx) => Promise<unknown>;
type HijackHandler = (c: HijackCtx) => Promise<void>;

const bool = (q: Query, k: string): boolean => ['1', 'true', 'True'].includes(q.get(k) ?? '');

export function createApi(e: Engine): http.Server {
  const routes: [string, RegExp, Handler][] = [];
  const hijacks: [RegExp, HijackHandler][] = [];
  const route = (method: string, path: string, h: Handler) => routes.push([method, new RegExp(`^${path.replace(/\{\w+\}/g, '([^/]+)')}$`), h]);
  const hijack = (path: string, h: HijackHandler) => hijacks.push([new RegExp(`^${path.replace(/\{\w+\}/g, '([^/]+)')}$`), h]);
  const { containers: ctrs } = e;

  route('GET', '/_ping', async ({ res }) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('OK');
  });
  route('HEAD', '/_ping', async ({ res }) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Content-Length', '0');
    res.end();
  });
  route('GET', '/version', async () => ({
    Platform: { Name: 'ctrnet' },
    Components: [{ Name: 'Engine', Version: e.info.version, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: archName(), KernelVersion: os.release() } }],
    Version: e.info.version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'ctrnet',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: archName(),
    KernelVersion: os.release(),
    BuildTime: e.info.startedAt.toISOString(),
  }));
  route('GET', '/info', async () => {
    const all = ctrs.list();
    return {
      ID: 'ctrnet',
      Containers: all.length,
      ContainersRunning: all.filter((c) => c.status === 'running').length,
      ContainersPaused: 0,
      ContainersStopped: all.filter((c) => c.status !== 'running').length,
      Images: e.images.list().length,
      Driver: 'overlay',
      DockerRootDir: e.info.root,
      ExecRoot: e.info.execRoot,
      KernelVersion: os.release(),
      OperatingSystem: 'ctrnet on Linux',
      OSType: 'linux',
      Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(),
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      Name: os.hostname(),
      ServerVersion: e.info.version,
      DefaultRuntime: 'runc',
      Runtimes: { runc: { path: 'runc' } },
      CgroupDriver: 'cgroupfs',
      LoggingDriver: 'ctrnet-shim',
      Plugins: { Network: ['bridge', 'host', 'null'], Volume: [], Log: [] },
      Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
      SecurityOptions: [],
      Warnings: [],
    };
  });

  // containers
  route('GET', '/containers/json', async ({ q }) => {
    const all = bool(q, 'all');
    const filters = parseFilters(q.get('filters'));
    const names = filterValues(filters.name);
    const ids = filterValues(filters.id);
    const status = filterValues(filters.status);
    return ctrs
      .list()
      .filter((c) => all || c.status === 'running' || status.length > 0)
      .filter((c) => !names.length || names.some((n) => c.name.includes(n.replace(/^\//, ''))))
      .filter((c) => !ids.length || ids.some((i) => c.id.startsWith(i)))
      .filter((c) => !status.length || status.includes(c.status))
      .map((c) => containerSummary(e, c));
  });
  route('POST', '/containers/create', async ({ q, body, res }) => {
    const { image, spec } = createRequest(await body());
    const c = ctrs.create(q.get('name') ?? undefined, image, spec);
    res.statusCode = 201;
    return { Id: c.id, Warnings: spec.networkMode === 'host' && spec.portBindings.length ? ['Published ports are discarded when using host network mode'] : [] };
  });
  route('GET', '/containers/{id}/json', async ({ params }) => containerInspect(e, ctrs.get(params[0])));
  route('POST', '/containers/{id}/start', async ({ params, res }) => {
    await ctrs.start(params[0]);
    res.statusCode = 204;
  });
  route('POST', '/containers/{id}/stop', async ({ params, q, res }) => {
    await ctrs.stop(params[0], q.get('t') ? Number(q.get('t')) : 10);
    res.statusCode = 204;
  });
  route('POST', '/containers/{id}/restart', async ({ params, q, res }) => {
    await ctrs.restart(params[0], q.get('t') ? Number(q.get('t')) : 10);
    res.statusCode = 204;
  });
  route('POST', '/containers/{id}/kill', async ({ params, q, res }) => {
    await ctrs.kill(params[0], q.get('signal') || 'KILL');
    res.statusCode = 204;
  });
  route('DELETE', '/containers/{id}', async ({ params, q, res }) => {
    await ctrs.remove(params[0], bool(q, 'force'));
    res.statusCode = 204;
  });
  route('POST', '/containers/{id}/resize', async ({ params, q }) => {
    await ctrs.resize(params[0], Number(q.get('h')), Number(q.get('w')));
    return {};
  });
  route('POST', '/containers/{id}/wait', async ({ params, q, res }) => {
    ctrs.get(params[0]);
    // The CLI starts the container only after these headers arrive: send them now.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    const code = await ctrs.wait(params[0], q.get('condition') || 'not-running');
    res.end(JSON.stringify({ Error: null, StatusCode: code }) + '\n');
    return undefined;
  });
  route('GET', '/containers/{id}/logs', async ({ params, q, res, req }) => {
    const c = ctrs.get(params[0]);
    const tty = ctrs.spec(c).tty;
    const want = { 1: bool(q, 'stdout'), 2: bool(q, 'stderr') } as Record<number, boolean>;
    const ts = bool(q, 'timestamps');
    const tail = q.get('tail') && q.get('tail') !== 'all' ? Number(q.get('tail')) : Infinity;
    const since = Number(q.get('since') ?? 0) * 1e9;
    const emit = (stream: number, data: Buffer, time: bigint) => {
      const payload = ts ? Buffer.concat([Buffer.from(rfc3339Nano(time) + ' '), data]) : data;
      res.write(tty ? payload : frame(stream, payload));
    };
    // Subscribe before reading the file so no output falls between the two.
    const live = bool(q, 'follow') ? await ctrs.follow(c.id) : undefined;
    const lines = (await ctrs.logs(c.id)).filter((l) => want[l.stream] && Number(l.time) >= since);
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
  route('POST', '/containers/{id}/exec', async ({ params, body, res }) => {
    const b = await body();
    const id = ctrs.execCreate(params[0], {
      cmd: Array.isArray(b.Cmd) ? (b.Cmd as string[]) : [],
      env: Array.isArray(b.Env) ? (b.Env as string[]) : [],
      workingDir: typeof b.WorkingDir === 'string' ? b.WorkingDir : '',
      tty: b.Tty === true,
      flags: { stdin: b.AttachStdin === true, stdout: b.AttachStdout === true, stderr: b.AttachStderr === true },
    });
    res.statusCode = 201;
    return { Id: id };
  });
  route('POST', '/exec/{id}/start', async ({ params, res }) => {
    // Reached only without an Upgrade header: a detached exec.
    await ctrs.execStart(params[0]);
    res.statusCode = 200;
    return undefined;
  });
  route('POST', '/exec/{id}/resize', async ({ params, q }) => {
    await ctrs.execResize(params[0], Number(q.get('h')), Number(q.get('w')));
    return {};
  });
  route('GET', '/exec/{id}/json', async ({ params }) => {
    const x = ctrs.exec(params[0]);
    return {
      ID: x.id, Running: x.running, ExitCode: x.exitCode, ContainerID: x.containerId, Pid: x.pid,
      OpenStdin: x.flags.stdin, OpenStdout: x.flags.stdout, OpenStderr: x.flags.stderr,
      ProcessConfig: { tty: x.tty, entrypoint: x.cmd[0], arguments: x.cmd.slice(1), privileged: false, user: '' },
      CanRemove: false, DetachKeys: '',
    };
  });

  // ctrnet's own: re-apply the firewall rules now (they are also restored on their own when removed).
  route('POST', '/ctrnet/system/reload', async () => {
    await e.firewall.reapply();
    return { Reloaded: ['nftables'] };
  });
  // ctrnet's own: what gives a container its network, read from the kernel.
  route('GET', '/ctrnet/containers/{id}/explain', async ({ params }) => explain(e, e.kernel, params[0]));
  // ctrnet's own: the host's topology (networks, bridge ports, containers, ports, overlay peers).
  route('GET', '/ctrnet/topology', async () => buildTopology(e, e.kernel));

  hijack('/containers/{id}/attach', async ({ params, q, upgrade }) => {
    ctrs.get(params[0]);
    const flags: StreamFlags = { stdin: bool(q, 'stdin'), stdout: bool(q, 'stdout'), stderr: bool(q, 'stderr') };
    await ctrs.attach(params[0], upgrade(), flags);
  });
  hijack('/exec/{id}/start', async ({ params, body, upgrade }) => {
    const x = ctrs.exec(params[0]);
    if (body.Detach === true) {
      await ctrs.execStart(x.id);
      upgrade().end();
      return;
    }
    await ctrs.execStart(x.id, upgrade());
  });

  // Object types the docker CLI probes in `inspect`: only a 404 lets it try the next one.
  route('GET', '/volumes/{name}', async ({ params }) => {
    throw new EngineError('VOLUME_NOT_FOUND', `get ${params[0]}: no such volume`, { hint: 'ctrnet has no volumes' });
  });
  route('GET', '/plugins/{name}/json', async ({ params }) => {
    throw new EngineError('PLUGIN_NOT_FOUND', `plugin "${params[0]}" not found`, { hint: 'ctrnet has no plugins' });
  });

  // networks
  route('GET', '/networks', async () => e.networks.list().map((n) => networkJson(e, n)));
  route('GET', '/networks/{id}', async ({ params }) => networkJson(e, e.networks.get(params[0])));
  route('POST', '/networks/create', async ({ body, res }) => {
    const row = await e.networks.create(networkCreateRequest(await body()));
    e.events.emit('network', 'create', row.id);
    res.statusCode = 201;
    return { Id: row.id, Warning: '' };
  });
  route('DELETE', '/networks/{id}', async ({ params, res }) => {
    const row = e.networks.get(params[0]);
    await e.networks.remove(row.id);
    e.events.emit('network', 'remove', row.id);
    res.statusCode = 204;
  });
  route('POST', '/networks/prune', async () => {
    const before = e.networks.list();
    const deleted = await e.networks.prune();
    for (const n of before.filter((r) => deleted.includes(r.name))) e.events.emit('network', 'remove', n.id);
    return { NetworksDeleted: deleted };
  });
  route('POST', '/networks/{id}/connect', async ({ params, body }) => {
    const b = await body();
    const ep = (b.EndpointConfig ?? {}) as Record<string, unknown>;
    const ipam = (ep.IPAMConfig ?? {}) as Record<string, unknown>;
    await ctrs.connect(params[0], String(b.Container ?? ''), {
      ipv4: typeof ipam.IPv4Address === 'string' && ipam.IPv4Address ? ipam.IPv4Address : undefined,
      aliases: Array.isArray(ep.Aliases) ? (ep.Aliases as unknown[]).map(String) : [],
    });
    return undefined;
  });
  route('POST', '/networks/{id}/disconnect', async ({ params, body }) => {
    const b = await body();
    await ctrs.disconnect(params[0], String(b.Container ?? ''));
    return undefined;
  });
  route('POST', '/containers/{id}/rename', async ({ params, q, res }) => {
    ctrs.rename(params[0], q.get('name') ?? '');
    res.statusCode = 204;
  });

  // images
  route('GET', '/images/json', async () =>
    e.images.list().map((i) => ({
      Id: i.id, ParentId: '', RepoTags: i.tags.length ? i.tags : ['<none>:<none>'], RepoDigests: [], Created: Math.floor(Date.parse(i.created) / 1000),
      Size: i.size, SharedSize: -1, VirtualSize: i.size, Labels: {}, Containers: ctrs.list().filter((c) => c.image_id === i.id).length,
    })),
  );
  route('GET', '/images/{name}/json', async ({ params }) => {
    const i = e.images.get(params[0]);
    return { Id: i.id, RepoTags: i.tags, RepoDigests: [], Parent: '', Comment: 'imported', Created: i.created, Os: 'linux', Architecture: archName(), Size: i.size, VirtualSize: i.size, Config: { Cmd: null, Env: null }, RootFS: { Type: 'layers', Layers: [] } };
  });
  route('POST', '/images/create', async ({ q, req, res }) => {
    if (q.get('fromSrc') !== '-') {
      const ref = `${(q.get('fromImage') ?? '').replace(/^docker\.io\/(library\/)?/, '')}:${q.get('tag') || 'latest'}`;
      throw new EngineError('NOT_IMPLEMENTED', `No such image: ${ref}, and pulling is not supported by ctrnet: it has no registry`, { hint: 'import a root filesystem tarball with `ctrnet image import FILE NAME` or `docker import FILE NAME`' });
    }
    const repo = q.get('repo');
    const tag = repo ? `${repo}${q.get('tag') ? `:${q.get('tag')}` : ''}` : undefined;
    const img = await e.images.import(req, tag);
    res.setHeader('Content-Type', 'application/json');
    return { status: img.id };
  });
  route('POST', '/images/{name}/tag', async ({ params, q, res }) => {
    e.images.tag(params[0], `${q.get('repo')}${q.get('tag') ? `:${q.get('tag')}` : ''}`);
    res.statusCode = 201;
  });
  route('DELETE', '/images/{name}', async ({ params, q }) =>
    e.images.remove(params[0], (id) => ctrs.list().filter((c) => c.image_id === id).map((c) => c.id), bool(q, 'force')),
  );

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Ostype', 'linux');
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Server', `ctrnet/${e.info.version} (linux)`);
    const url = requestUrl(req);
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    try {
      for (const [method, re, h] of routes) {
        const m = re.exec(path);
        if (!m || method !== req.method) continue;
        const out = await h({ req, res, q: url.searchParams, params: m.slice(1).map(decodePart), body: () => readJson(req) });
        if (res.writableEnded || res.headersSent) return;
        if (out === undefined) {
          res.end();
        } else {
          const json = JSON.stringify(out);
          res.setHeader('Content-Type', 'application/json');
          res.end(json + '\n');
        }
        return;
      }
      if (hijacks.some(([re]) => re.test(path))) {
        throw new EngineError('INVALID_PARAMETER', `${path} needs a connection upgrade`, { hint: 'send Connection: Upgrade and Upgrade: tcp' });
      }
      throw new EngineError('NOT_IMPLEMENTED', `${req.method} ${path} is not supported by ctrnet`, { hint: 'see README.md for the supported commands' });
    } catch (err) {
      if (err instanceof NotModified) {
        if (!res.headersSent) res.writeHead(304);
        res.end();
        return;
      }
      const { status, body } = httpError(err);
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body) + '\n');
    }
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    void (async () => {
      const url = requestUrl(req);
      const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
      let upgraded = false;
      try {
        const found = hijacks.map(([re, h]) => [re.exec(path), h] as const).find(([m]) => m);
        if (!found) throw new EngineError('NOT_IMPLEMENTED', `${req.method} ${path} cannot be upgraded`);
        const body = await readUpgradeBody(req, socket, head);
        await found[1]({
          req,
          q: url.searchParams,
          params: found[0]!.slice(1).map(decodePart),
          body,
          upgrade: () => {
            upgraded = true;
            socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
            return socket;
          },
        });
      } catch (err) {
        if (upgraded) {
          socket.end(frame(STREAM_SYSTEMERR, Buffer.from(httpError(err).body.message)));
          return;
        }
        const { status, body } = httpError(err);
        const text = JSON.stringify(body);
        socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nApi-Version: ${API_VERSION}\r\n\r\n${text}`);
      }
    })();
  });
  return server;
}

/**
 * The request's URL. Prefixed rather than resolved against a base: a path such as "//x" would
 * otherwise read as a host name (and an invalid one throws).
 */
function requestUrl(req: http.IncomingMessage): URL {
  try {
    return new URL(`http://ctrnet${req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`}`);
  } catch {
    return new URL('http://ctrnet/invalid-url');
  }
}

/** Docker's `filters` query: JSON of name → values (a list, or a map to true). */
function parseFilters(raw: string | null): Record<string, string[] | Record<string, boolean>> {
  if (!raw) return {};
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new EngineError('INVALID_PARAMETER', `invalid filters: ${(e as Error).message}`, { hint: 'filters are JSON, e.g. {"name":["web"]}' });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EngineError('INVALID_PARAMETER', 'invalid filters: not a JSON object', { hint: 'e.g. {"name":["web"]}' });
  for (const [k, x] of Object.entries(v)) {
    const ok = (Array.isArray(x) && x.every((i) => typeof i === 'string')) || (typeof x === 'object' && x !== null && !Array.isArray(x));
    if (!ok) throw new EngineError('INVALID_PARAMETER', `invalid filter "${k}": give a list of strings`);
  }
  return v as Record<string, string[] | Record<string, boolean>>;
}

function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new EngineError('INVALID_PARAMETER', `malformed escape in the path: "${s}"`, { hint: 'escape "%" as %25' });
  }
}

function filterValues(v: string[] | Record<string, boolean> | undefined): string[] {
  if (!v) return [];
  return Array.isArray(v) ? v : Object.keys(v).filter((k) => v[k]);
}

function archName(): string {
  return os.arch() === 'x64' ? 'amd64' : os.arch();
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new EngineError('INVALID_PARAMETER', 'request body too large');
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString().trim();
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new EngineError('INVALID_PARAMETER', `invalid JSON body: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads the request body of an upgrade request (exec start sends JSON, sometimes in a later write
 * than the headers); bytes after it are the client's stdin and are put back on the socket.
 */
function readUpgradeBody(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<Record<string, unknown>> {
  const need = Number(req.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = () => {
      socket.off('data', onData);
      const rest = buf.subarray(need);
      if (rest.length) socket.unshift(rest);
      const text = buf.subarray(0, need).toString().trim();
      try {
        resolve(text ? (JSON.parse(text) as Record<string, unknown>) : {});
      } catch (e) {
        reject(new EngineError('INVALID_PARAMETER', `invalid JSON body: ${(e as Error).message}`));
      }
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= need) {
        socket.pause();
        done();
      }
    };
    if (buf.length >= need) return done();
    socket.on('data', onData);
  });
}

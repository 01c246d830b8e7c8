/**
 * The web UI: a live picture of the host's topology, served by the daemon only when started with
 * `--ui ADDR:PORT`, and only on that address (127.0.0.1 keeps it on the machine).
 *   /                      the page (static/index.html, app.js, app.css: files of the project, no CDN)
 *   /api/topology          the model (base/topology.ts, built by core/topology.ts), JSON
 *   /api/topology.svg      the picture (view/topology-svg.ts), laid out for ?width=PX
 *   /api/events            server-sent events: one per engine event, a heartbeat comment every 15 s
 *   /api/explain/ID        a container's explanation, text (?lang=en|zh, view/explain-text.ts)
 * Read-only: nothing here changes the engine. The daemon hands it the model's sources (UiSources);
 * the page's presentation is view/'s, shared with the CLI.
 *
 * Bound to a loopback address, it also refuses requests whose Host header names anything else, so
 * a web site the user visits cannot read it through DNS rebinding.
 *
 * Limitations: no authentication (bind it to loopback, or to an address only trusted users reach);
 * plain HTTP.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Explanation } from '../base/explanation';
import type { Topology } from '../base/topology';
import type { EngineEvents } from '../base/events';
import { httpError } from '../api/http-errors';
import { sayExplanation } from '../view/explain-text';
import { MIN_WIDTH } from '../view/topology-layout';
import { renderSvg } from '../view/topology-svg';

const HEARTBEAT_MS = 15_000;
const MAX_WIDTH = 8000;

/** Parses "IP:PORT" ("[IPv6]:PORT" and "localhost:PORT" too); throws a message naming the flag. */
export function parseUiAddr(addr: string): { host: string; port: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3}|localhost|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new Error(`--ui ${addr}: write it as IP:PORT, e.g. 127.0.0.1:7777`);
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\./.test(host);

interface StaticFile {
  type: string;
  body: Buffer;
}

/** The page's files, read once at start: a missing build fails the daemon's start, not a request. */
function loadStatic(): Map<string, StaticFile> {
  const dir = path.join(__dirname, 'static');
  const files: [string, string, string][] = [
    ['/', 'index.html', 'text/html; charset=utf-8'],
    ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
    ['/app.css', 'app.css', 'text/css; charset=utf-8'],
  ];
  const out = new Map<string, StaticFile>();
  for (const [route, file, type] of files) {
    try {
      out.set(route, { type, body: readFileSync(path.join(dir, file)) });
    } catch (e) {
      throw new Error(`web UI file ${path.join(dir, file)} is missing: run \`npm run build\``, { cause: e });
    }
  }
  return out;
}

/** What the page shows, as the daemon provides it (wired in daemon/main.ts). */
export interface UiSources {
  /** the host's model, built afresh */
  topology(): Promise<Topology>;
  /** a container's explanation, by id or name */
  explain(idOrName: string): Promise<Explanation>;
  /** the engine's events, for the live stream */
  events: Pick<EngineEvents, 'on'>;
}

export async function startUi(addr: string, src: UiSources): Promise<{ close(): Promise<void> }> {
  const { host, port } = parseUiAddr(addr);
  const files = loadStatic();
  const streams = new Set<http.ServerResponse>();
  const allowedHosts = new Set([host, 'localhost', '127.0.0.1', '::1'].flatMap((h) => [`${h}:${port}`, `[${h}]:${port}`]));

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer) => {
    res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    if (isLoopback(host) && !allowedHosts.has(req.headers.host ?? '')) return send(res, 421, 'text/plain', 'unexpected Host header\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'read-only\n');
    let url: URL;
    try {
      url = new URL(`http://ui${req.url?.startsWith('/') ? req.url : '/'}`);
    } catch {
      url = new URL('http://ui/invalid-url');
    }
    const file = files.get(url.pathname === '/index.html' ? '/' : url.pathname);
    if (file) {
      res.setHeader('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
      return send(res, 200, file.type, file.body);
    }
    if (url.pathname === '/api/topology') return send(res, 200, 'application/json', JSON.stringify(await src.topology()));
    if (url.pathname === '/api/topology.svg') {
      const w = Number(url.searchParams.get('width') ?? 1400);
      const width = Number.isFinite(w) ? Math.min(MAX_WIDTH, Math.max(MIN_WIDTH, w)) : 1400;
      return send(res, 200, 'image/svg+xml', renderSvg(await src.topology(), width));
    }
    if (url.pathname === '/api/events') return events(req, res);
    const m = /^\/api\/explain\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const lang = url.searchParams.get('lang') === 'zh' ? 'zh' : 'en';
      return send(res, 200, 'text/plain; charset=utf-8', sayExplanation(await src.explain(decodeURIComponent(m[1])), lang));
    }
    send(res, 404, 'text/plain', 'not found\n');
  };

  const events = (req: http.IncomingMessage, res: http.ServerResponse) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    // The browser reconnects after 1 s when the stream breaks (daemon restart) and then reloads the picture.
    res.write('retry: 1000\n\n');
    streams.add(res);
    const off = src.events.on((ev) => res.write(`event: ${ev.type}\ndata: ${JSON.stringify(ev)}\n\n`));
    // Comments keep proxies and idle timeouts from closing a quiet stream.
    const beat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    req.socket.setTimeout(0);
    res.on('close', () => {
      off();
      clearInterval(beat);
      streams.delete(res);
    });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      const { status, body } = httpError(err);
      if (res.headersSent) res.end();
      else send(res, status, 'text/plain; charset=utf-8', body.message + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new Error(`--ui ${addr}: cannot listen (${err.code ?? err.message})`, { cause: err })));
    server.listen({ host, port, exclusive: true }, () => resolve());
  });
  return {
    close: async () => {
      for (const s of streams) s.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

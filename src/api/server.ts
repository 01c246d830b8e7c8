/**
 * The HTTP API on a unix socket, following the Docker Engine API (api/version.ts: the versions
 * spoken): paths with or without a /v1.NN prefix (a version outside the range is refused as Docker
 * refuses it), Docker's JSON shapes (api/dto/), status codes and error bodies
 * (api/http-errors.ts), and connection hijacking for attach and exec (101 UPGRADED, then raw
 * bidirectional bytes; see shared/reference/docker-cli-api.md). Routes live per resource in
 * api/routes/; this file only dispatches and answers. A path that is no endpoint of Docker's is
 * answered as Docker does (404 "page not found").
 */
import http from 'node:http';
import net from 'node:net';
import { EngineError } from '../base/errors';
import { frame, STREAM_SYSTEMERR } from '../base/frames';
import { NotModified } from '../core/containers/outcomes';
import { Engine } from '../core/engine';
import { httpError } from './http-errors';
import { decodePart, readJson, readUpgradeBody, requestUrl } from './http';
import { Router } from './router';
import { containerOpRoutes } from './routes/container-ops';
import { containerArchiveRoutes } from './routes/container-archive';
import { attachmentRoutes } from './routes/attachments';
import { containerRoutes } from './routes/containers';
import { eventRoutes } from './routes/events';
import { execRoutes } from './routes/exec';
import { imageRoutes } from './routes/images';
import { networkRoutes } from './routes/networks';
import { pluginRoutes } from './routes/plugins';
import { swarmRoutes } from './routes/swarm';
import { systemRoutes } from './routes/system';
import { unsupportedRoutes } from './routes/unsupported';
import { volumeRoutes } from './routes/volumes';
import { API_VERSION, atLeast, checkVersion } from './version';

export { API_VERSION };

/** Docker's media types of a hijacked stream (sent from API 1.42 on; older clients were told raw-stream). */
const RAW_STREAM = 'application/vnd.docker.raw-stream';
const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream';

/** The path without its /v1.NN prefix, and the version that prefix asked for. */
function versioned(pathname: string): { path: string; version: string; explicit: boolean } {
  const m = /^\/v(\d+\.\d+)(\/.*)?$/.exec(pathname);
  return m ? { path: m[2] ?? '/', version: m[1], explicit: true } : { path: pathname, version: API_VERSION, explicit: false };
}

export function createApi(e: Engine): http.Server {
  const router = new Router();
  // unsupportedRoutes last: a real route registered anywhere before it wins.
  for (const routes of [systemRoutes, containerRoutes, containerOpRoutes, execRoutes, networkRoutes, imageRoutes, containerArchiveRoutes, attachmentRoutes, volumeRoutes, eventRoutes, swarmRoutes, pluginRoutes, unsupportedRoutes]) routes(router, e);

  const server = http.createServer((req, res) => {
    void handle(req, res);
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('Api-Version', API_VERSION);
    res.setHeader('Ostype', 'linux');
    res.setHeader('Docker-Experimental', 'false');
    res.setHeader('Server', `ctrnet/${e.info.version} (linux)`);
    const url = requestUrl(req);
    const { path, version, explicit } = versioned(url.pathname);
    try {
      if (explicit) checkVersion(version);
      const found = router.match(req.method ?? '', path);
      if (!found) {
        if (router.matchHijack(path)) {
          throw new EngineError('INVALID_PARAMETER', `${path} needs a connection upgrade`, { hint: 'send Connection: Upgrade and Upgrade: tcp' });
        }
        throw new EngineError('PAGE_NOT_FOUND', 'page not found');
      }
      const out = await found.h({ req, res, q: url.searchParams, params: found.params.map(decodePart), version, body: () => readJson(req) });
      if (res.writableEnded || res.headersSent) return;
      if (out === undefined) {
        res.end();
      } else {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(out) + '\n');
      }
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
      const { path, version, explicit } = versioned(url.pathname);
      let upgraded = false;
      try {
        if (explicit) checkVersion(version);
        const found = router.matchHijack(path);
        if (!found) throw new EngineError('PAGE_NOT_FOUND', 'page not found');
        const body = await readUpgradeBody(req, socket, head);
        await found.h({
          req,
          q: url.searchParams,
          params: found.params.map(decodePart),
          version,
          body,
          upgrade: (o = {}) => {
            upgraded = true;
            const type = o.multiplexed && atLeast(version, '1.42') ? MULTIPLEXED_STREAM : RAW_STREAM;
            socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${type}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: ${API_VERSION}\r\n\r\n`);
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

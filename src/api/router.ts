/**
 * Routes of the HTTP API: method + path pattern (`{id}` parts) → handler, and the paths that are
 * served only over a hijacked connection (attach, exec start). Paths are matched after the
 * optional /v1.NN prefix is removed.
 */
import http from 'node:http';
import { Duplex } from 'node:stream';

export type Json = Record<string, unknown>;

export interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  q: URLSearchParams;
  params: string[];
  /** the API version the client asked for (the /v1.NN prefix; the daemon's own without one) */
  version: string;
  body: () => Promise<Json>;
}

export interface HijackCtx {
  req: http.IncomingMessage;
  q: URLSearchParams;
  params: string[];
  version: string;
  body: Json;
  /** switches the connection to a raw stream and returns it; `multiplexed`: the stream is Docker's frames (no TTY) */
  upgrade: (o?: { multiplexed?: boolean }) => Duplex;
}

/** What a handler returns: a JSON answer (200 unless it set another status), or undefined (it answered itself, or an empty body). */
export type Handler = (c: Ctx) => Promise<unknown>;
export type HijackHandler = (c: HijackCtx) => Promise<void>;

/** `{id}` matches one path segment; `{name*}` one or more (image names have slashes: localhost:5000/team/app). */
const pattern = (path: string): RegExp => new RegExp(`^${path.replace(/\{\w+\*\}/g, '(.+?)').replace(/\{\w+\}/g, '([^/]+)')}$`);

export class Router {
  private readonly routes: [string, RegExp, Handler][] = [];
  private readonly hijacks: [RegExp, HijackHandler][] = [];

  route(method: string, path: string, h: Handler): void {
    this.routes.push([method, pattern(path), h]);
  }

  hijack(path: string, h: HijackHandler): void {
    this.hijacks.push([pattern(path), h]);
  }

  /** The handler of a plain request and its path parameters (still URI-encoded). */
  match(method: string, path: string): { h: Handler; params: string[] } | undefined {
    for (const [m, re, h] of this.routes) {
      const found = re.exec(path);
      if (found && m === method) return { h, params: found.slice(1) };
    }
    return undefined;
  }

  matchHijack(path: string): { h: HijackHandler; params: string[] } | undefined {
    for (const [re, h] of this.hijacks) {
      const found = re.exec(path);
      if (found) return { h, params: found.slice(1) };
    }
    return undefined;
  }
}

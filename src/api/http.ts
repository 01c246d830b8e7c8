/**
 * The HTTP details every route shares: request URLs and bodies (plain and after an upgrade),
 * path parts, booleans and Docker's `filters` query.
 */
import http from 'node:http';
import net from 'node:net';
import { EngineError } from '../base/errors';
import { Json } from './router';

const MAX_BODY = 1 << 20;

export const bool = (q: URLSearchParams, k: string): boolean => ['1', 'true', 'True'].includes(q.get(k) ?? '');

/**
 * The request's URL. Prefixed rather than resolved against a base: a path such as "//x" would
 * otherwise read as a host name (and an invalid one throws).
 */
export function requestUrl(req: http.IncomingMessage): URL {
  try {
    return new URL(`http://ctrnet${req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`}`);
  } catch {
    return new URL('http://ctrnet/invalid-url');
  }
}

export function decodePart(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new EngineError('INVALID_PARAMETER', `malformed escape in the path: "${s}"`, { hint: 'escape "%" as %25' });
  }
}

export type Filters = Record<string, string[] | Record<string, boolean>>;

/** The values of one key of a parsed `filters` query. */
export function filterValues(v: string[] | Record<string, boolean> | undefined): string[] {
  if (!v) return [];
  return Array.isArray(v) ? v : Object.keys(v).filter((k) => v[k]);
}

/** Docker's `filters` query: JSON of name → values (a list, or a map to true). */
export function parseFilters(raw: string | null): Filters {
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
  return v as Filters;
}

/** Docker's filters query as lists (the map form {"k":{"v":true}} too). */
export function filterLists(raw: string | null): Record<string, string[]> {
  return Object.fromEntries(Object.entries(parseFilters(raw)).map(([k, v]) => [k, filterValues(v)]));
}

export async function readJson(req: http.IncomingMessage): Promise<Json> {
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
    return v as Json;
  } catch (e) {
    throw new EngineError('INVALID_PARAMETER', `invalid JSON body: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Reads the request body of an upgrade request (exec start sends JSON, sometimes in a later write
 * than the headers); bytes after it are the client's stdin and are put back on the socket.
 */
export function readUpgradeBody(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<Json> {
  const need = Number(req.headers['content-length'] ?? 0);
  return new Promise((resolve, reject) => {
    let buf = head;
    const done = () => {
      socket.off('data', onData);
      const rest = buf.subarray(need);
      if (rest.length) socket.unshift(rest);
      const text = buf.subarray(0, need).toString().trim();
      try {
        resolve(text ? (JSON.parse(text) as Json) : {});
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

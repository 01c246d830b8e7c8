/** Helpers for the tests that drive ctrnetd as a Docker engine: the real docker CLI, and raw API requests. */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { LabHost, Result, sh } from '../../scripts/lab';

/** The docker CLI (28, on PATH) against the host's daemon; `env` adds variables (DOCKER_API_VERSION…). */
export function docker(h: LabHost, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  return sh(['docker', ...args], { ...opts, env: { ...process.env, DOCKER_HOST: `unix://${h.socket}`, DOCKER_CONFIG: `${h.dir}/docker-config`, ...opts.env } });
}

export async function dockerOk(h: LabHost, args: string[], opts: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const r = await docker(h, args, opts);
  assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: unknown;
}

/** One API request on the host's socket; the body is JSON when it is an object, sent as it is when a string. */
export function api(h: LabHost, method: string, path: string, body?: unknown, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
    const req = http.request({
      socketPath: h.socket, method, path,
      headers: { ...(text !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) } : {}), ...headers },
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer in ${timeoutMs / 1000} s: ${method} ${path}`)), timeoutMs);
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        clearTimeout(timer);
        const b = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = b ? JSON.parse(b) : undefined;
        } catch {
          json = undefined; // a stream of JSON lines, or text: the caller reads `body`
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, json });
      });
    });
    req.end(text);
  });
}

/** The JSON of a 2xx answer. */
export async function apiJson<T = Record<string, unknown>>(h: LabHost, method: string, path: string, body?: unknown): Promise<T> {
  const r = await api(h, method, path, body);
  assert.ok(r.status >= 200 && r.status < 300, `${method} ${path} → ${r.status} ${r.body}`);
  return r.json as T;
}

/** A hijacked connection (attach, exec start): resolves once the 101 arrived, with the socket and the head. */
export function hijack(h: LabHost, path: string, body = ''): Promise<{ sock: net.Socket; head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(h.socket);
    let buf = Buffer.alloc(0);
    sock.once('error', reject);
    sock.on('connect', () => {
      sock.write(`POST ${path} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    });
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      sock.off('data', onData);
      const head = buf.subarray(0, end).toString();
      if (!head.startsWith('HTTP/1.1 101')) reject(new Error(`no upgrade: ${buf.toString()}`));
      else resolve({ sock, head, rest: buf.subarray(end + 4) });
    };
    sock.on('data', onData);
  });
}

/** Reads from a socket until it ends (or `ms` passed), with what came before. */
export function readAll(sock: net.Socket, first: Buffer, ms = 10_000): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve) => {
    const parts = [first];
    const timer = setTimeout(() => resolve({ data: Buffer.concat(parts), ended: false }), ms);
    sock.on('data', (d: Buffer) => parts.push(d));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(parts), ended: true });
    });
  });
}

/** Docker's multiplexed frames → [stream, text] pairs. */
export function frames(buf: Buffer): [number, string][] {
  const out: [number, string][] = [];
  for (let o = 0; o + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(o + 4);
    out.push([buf[o], buf.subarray(o + 8, o + 8 + len).toString()]);
    o += 8 + len;
  }
  return out;
}

/**
 * The CLI's client of the daemon's API: JSON requests over the unix socket, and hijacked streams.
 * -H unix:///PATH or CTRNET_HOST selects the daemon.
 */
import http from 'node:http';
import net from 'node:net';
import { Readable } from 'node:stream';
import { API_VERSION } from '../base/api-version';
import { ApiError } from './api-error';

/** The daemon's error answer: {"message": …}, or its raw text. */
async function apiError(res: http.IncomingMessage): Promise<ApiError> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString();
  let msg = text;
  try {
    msg = (JSON.parse(text) as { message: string }).message;
  } catch {
    // not JSON: the text itself is the message
  }
  return new ApiError(res.statusCode ?? 500, msg);
}

export class Client {
  constructor(readonly socketPath: string) {}

  private request(method: string, path: string, opts: { body?: unknown; stream?: Readable; headers?: Record<string, string> } = {}): http.ClientRequest {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    const req = http.request({ socketPath: this.socketPath, method, path: `/v${API_VERSION}${path}`, headers });
    if (opts.stream) opts.stream.pipe(req);
    else req.end(payload);
    return req;
  }

  /** A request whose whole answer is read; errors become ApiError with the daemon's message. */
  call<T = unknown>(method: string, path: string, body?: unknown, stream?: Readable, headers?: Record<string, string>): Promise<{ status: number; data: T }> {
    return new Promise((resolve, reject) => {
      const req = this.request(method, path, { body, stream, headers });
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.connError(e)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let data: unknown = text;
          if (text.trim() && (res.headers['content-type'] ?? '').includes('json')) data = JSON.parse(text);
          if ((res.statusCode ?? 500) >= 400) {
            const msg = (data as { message?: string })?.message ?? (text || `HTTP ${res.statusCode}`);
            reject(new ApiError(res.statusCode!, msg));
          } else resolve({ status: res.statusCode!, data: data as T });
        });
      });
    });
  }

  /** A streamed answer (logs, wait, pull progress, save). */
  stream(method: string, path: string, opts: { headers?: Record<string, string>; body?: Readable } = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = this.request(method, path, { headers: opts.headers, stream: opts.body });
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.connError(e)));
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) < 400) return resolve(res);
        apiError(res).then(reject, reject);
      });
    });
  }

  /** A hijacked connection (attach, exec start): resolves with the raw socket after 101. */
  hijack(path: string, body?: unknown): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const req = this.request('POST', path, { body, headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...(body === undefined ? { 'Content-Length': '0' } : {}) } });
      req.on('error', (e: NodeJS.ErrnoException) => reject(this.connError(e)));
      req.on('upgrade', (_res, socket: net.Socket, head: Buffer) => {
        if (head.length) socket.unshift(head);
        resolve(socket);
      });
      // Any answer but 101 is an error.
      req.on('response', (res) => apiError(res).then(reject, reject));
    });
  }

  private connError(e: NodeJS.ErrnoException): Error {
    if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
      return new Error(`Cannot connect to the ctrnet daemon at unix://${this.socketPath}. Is ctrnetd running? (start it with \`ctrnetd &\`, or point -H / CTRNET_HOST at its socket)`);
    }
    if (e.code === 'EACCES') return new Error(`permission denied on unix://${this.socketPath}: run as root or as a member of the socket's group`);
    return e;
  }
}

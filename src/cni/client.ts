/**
 * The CNI plugin's client of ctrnetd: JSON over the daemon's unix socket (ctrnet's own routes,
 * api/routes/attachments.ts), one request per call, with a timeout. Only node:http: the plugin is
 * started once per CNI call, so it loads as little as it can.
 */
import http from 'node:http';

/** The daemon's answer: the status and the parsed JSON body (or the text). */
export interface Answer {
  status: number;
  body: unknown;
}

/** The daemon did not answer at all (no socket, refused, timeout): transient, unlike an error answer. */
export class Unreachable extends Error {
  constructor(
    readonly socket: string,
    cause: unknown,
  ) {
    super(`ctrnetd does not answer on ${socket}: ${(cause as Error).message ?? String(cause)}`, { cause });
    this.name = 'Unreachable';
  }
}

export type Call = (method: string, path: string, body?: unknown) => Promise<Answer>;

/** A caller bound to the socket of `unix:///PATH` (the plugin configuration's "socket"). */
export function clientOf(socketUrl: string, timeoutMs = 30_000): Call {
  const socketPath = socketUrl.replace(/^unix:\/\//, '');
  return (method, path, body) =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request({
        socketPath, method, path, timeout: timeoutMs,
        headers: payload === undefined ? {} : { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) },
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
      req.on('error', (e) => reject(new Unreachable(socketPath, e)));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('error', (e) => reject(new Unreachable(socketPath, e)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let parsed: unknown = text;
          try {
            parsed = text.trim() ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: the text is the answer (an error page of something that is not ctrnetd)
          }
          resolve({ status: res.statusCode ?? 500, body: parsed });
        });
      });
      req.end(payload);
    });
}

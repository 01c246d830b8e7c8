/**
 * Docker's JSON message stream (pull, push, load, import answers): one JSON object per line,
 * `{"status","progressDetail","progress","id"}` for progress, `{"stream"}` for text, `{"aux"}`
 * for results, `{"errorDetail","error"}` for a failure after the answer began. The answer's
 * status and headers are sent with the first message, so that a failure before any (a missing
 * manifest, refused credentials) is still an HTTP error with Docker's status, as Docker does;
 * `load` begins at once and reports every failure in the stream (Docker's too).
 */
import http from 'node:http';
import { describe } from '../base/errors';
import { ProgressEvent } from '../images/image-store';
import { progressText } from '../view/progress';

/** Go's JSON escaping of <, > and & (what the CLI's decoder sees from Docker). */
const goJson = (v: unknown): string => JSON.stringify(v).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Statuses that Docker sends as plain messages (no progressDetail) though they carry an id. */
const MESSAGE_ONLY = /^Pulling from /;

export function messageJson(e: ProgressEvent): Record<string, unknown> {
  if (e.stream !== undefined) return { stream: e.stream };
  if (e.aux) return { progressDetail: {}, aux: e.aux };
  const m: Record<string, unknown> = { status: e.status };
  if (e.id !== undefined && !MESSAGE_ONLY.test(e.status)) {
    m.progressDetail = e.current !== undefined ? { current: e.current, total: e.total } : {};
    if (e.current !== undefined) m.progress = progressText(e.current, e.total);
  }
  if (e.id !== undefined) m.id = e.id;
  return m;
}

export class JsonStream {
  private started = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly opts: { quiet?: boolean; /** begin at once: every failure goes in the stream (Docker's load) */ eager?: boolean } = {},
  ) {
    if (opts.eager) this.begin();
  }

  get began(): boolean {
    return this.started;
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
  }

  /** A progress event (left out when quiet, except text and results). */
  send = (e: ProgressEvent): void => {
    if (this.opts.quiet && e.stream === undefined && !e.aux) return;
    this.begin();
    this.res.write(`${goJson(messageJson(e))}\r\n`);
  };

  /** Ends the answer: with an error line when it began, else the error goes back as an HTTP error. */
  async run(fn: (send: (e: ProgressEvent) => void) => Promise<void>): Promise<void> {
    try {
      await fn(this.send);
    } catch (err) {
      if (!this.started) throw err;
      const message = describe(err);
      // The error and the end of the answer in one write: a client that stops reading at the
      // error (docker-py's load) still sees the answer complete and can reuse its connection.
      this.res.end(`${goJson({ errorDetail: { message }, error: message })}\r\n`);
      return;
    }
    this.begin();
    this.res.end();
  }
}

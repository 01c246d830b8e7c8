/**
 * Shows a JSON message stream (pull, push, load) as the docker CLI does: on a terminal one line
 * per layer, redrawn in place with its bar; otherwise each status once per layer (no bars).
 * Resolves when the stream ends; an error message in the stream becomes an Error.
 */
import type { IncomingMessage } from 'node:http';
import { progressText } from '../view/progress';

interface Message {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: unknown;
}

/** Where progress goes: a terminal (redrawn lines) or anything else (one line per status). */
export interface ProgressOut {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export async function showProgress(res: IncomingMessage, out: ProgressOut = process.stdout): Promise<Message[]> {
  const tty = !!out.isTTY;
  const lines: string[] = [];
  const text = new Map<string, string>();
  const all: Message[] = [];
  let buf = '';
  let error: string | undefined;
  const draw = (id: string) => {
    const i = lines.indexOf(id);
    const up = lines.length - i;
    out.write(`\x1b[${up}A\r\x1b[2K${id}: ${text.get(id)}\r\x1b[${up}B`);
  };
  const show = (m: Message) => {
    all.push(m);
    if (m.error || m.errorDetail) {
      error = m.errorDetail?.message ?? m.error;
      return;
    }
    if (m.stream !== undefined) return void out.write(m.stream);
    if (m.aux !== undefined || m.status === undefined) return;
    const d = m.progressDetail;
    if (!m.id) return void out.write(`${m.status}\n`);
    const line = d?.current !== undefined ? `${m.status} ${progressText(d.current, d.total, (out.columns ?? 80) > 110)}` : m.status;
    if (!tty) {
      // No terminal: each status once, without the bars.
      if (d?.current === undefined && text.get(m.id) !== m.status) out.write(`${m.id}: ${m.status}\n`);
      text.set(m.id, m.status);
      return;
    }
    text.set(m.id, line);
    if (!lines.includes(m.id)) {
      lines.push(m.id);
      out.write(`${m.id}: ${line}\n`);
    } else draw(m.id);
  };
  for await (const chunk of res) {
    buf += (chunk as Buffer).toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (l) show(JSON.parse(l) as Message);
    }
  }
  if (buf.trim()) show(JSON.parse(buf) as Message);
  if (error) throw new Error(error);
  return all;
}

/**
 * The CLI's streams: a hijacked connection (attach, exec start) joined to this terminal, and the
 * body of a wait request. Loaded only by the commands that stream (run, start -a, exec, wait).
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { FrameReader, STREAM_STDERR, STREAM_SYSTEMERR } from '../base/frames';
import type { WaitResponse } from './wire';

/**
 * Joins a hijacked stream to this terminal: stdin to the daemon (raw mode with a TTY), output to
 * stdout/stderr (demultiplexed without a TTY). Resolves when the daemon ends the stream.
 */
export function pump(sock: Socket, tty: boolean, stdin: boolean, resize?: (rows: number, cols: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const restore: (() => void)[] = [];
    if (stdin) {
      if (tty && process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        restore.push(() => process.stdin.setRawMode(false));
      }
      process.stdin.on('data', (d: Buffer) => sock.write(d));
      // Half-close: the process sees the end of its input; its output keeps coming.
      process.stdin.on('end', () => sock.end());
      process.stdin.resume();
    } else {
      sock.end();
    }
    if (tty && resize && process.stdout.isTTY) {
      const send = () => resize(process.stdout.rows, process.stdout.columns);
      send();
      process.stdout.on('resize', send);
      restore.push(() => process.stdout.off('resize', send));
    }
    let systemErr = '';
    const reader = new FrameReader((stream, payload) => {
      if (stream === STREAM_SYSTEMERR) systemErr += payload.toString();
      else (stream === STREAM_STDERR ? process.stderr : process.stdout).write(payload);
    });
    sock.on('data', (d: Buffer) => (tty ? process.stdout.write(d) : reader.push(d)));
    const finish = () => {
      for (const r of restore) r();
      process.stdin.pause();
      if (systemErr) reject(new Error(`error from daemon in stream: ${systemErr}`));
      else resolve();
    };
    sock.on('end', finish);
    sock.on('error', (e) => {
      for (const r of restore) r();
      reject(e);
    });
  });
}

/** The exit code in a wait answer; the daemon's error in it becomes an Error. */
export async function waitBody(res: IncomingMessage): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const j = JSON.parse(Buffer.concat(chunks).toString()) as WaitResponse;
  if (j.Error?.Message) throw new Error(j.Error.Message);
  return j.StatusCode;
}

/**
 * The daemon's side of ctrnet-shim (native/ctrnet-shim.c): starting a shim, the two-step
 * ready/go handshake, and connections to its socket.
 *
 * Frames from the shim are Docker's stream framing (core/frames.ts), plus stream 9: the process
 * exited, its exit code in decimal as payload.
 */
import { spawn, ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { readFile } from 'node:fs/promises';

export const SHIM_BIN = path.resolve(__dirname, '../../../build/ctrnet-shim');

export type ShimMode = 'A' | 'O' | 'M' | 'F';

export interface ShimStart {
  dir: string;
  logFile?: string;
  tty: boolean;
  stdin: boolean;
  argv: string[];
}

/** A shim that is listening and waits for `go`. */
export class PendingShim {
  private buf = '';
  private waiters: ((line: string | null) => void)[] = [];
  private ended = false;

  constructor(private readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      this.buf += d;
      this.flush();
    });
    child.stdout!.on('end', () => {
      this.ended = true;
      this.flush();
    });
    child.stdin!.on('error', () => {}); // a shim that died is reported by its missing "started" line
  }

  private flush(): void {
    while (this.waiters.length) {
      const i = this.buf.indexOf('\n');
      if (i < 0 && !this.ended) return;
      const w = this.waiters.shift()!;
      if (i < 0) {
        const rest = this.buf;
        this.buf = '';
        w(rest.length ? rest : null);
      } else {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        w(line);
      }
    }
  }

  line(): Promise<string | null> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.flush();
    });
  }

  /** The rest of the shim's output, once it closed stdout. */
  private async rest(): Promise<string> {
    const parts: string[] = [];
    for (let l = await this.line(); l !== null; l = await this.line()) parts.push(l);
    return parts.join('\n');
  }

  /** Tells the shim to run; resolves with the process id, or rejects with what the runtime said. */
  async go(): Promise<number> {
    this.child.stdin!.end('go\n');
    const line = await this.line();
    const m = line ? /^started (\d+)$/.exec(line) : null;
    if (m) {
      this.child.unref();
      return Number(m[1]);
    }
    const detail = line?.startsWith('failed') ? await this.rest() : `shim said: ${line ?? '(nothing)'}`;
    throw new Error(detail.trim() || line || 'the runtime failed');
  }

  /** Gives up before `go`: the shim exits without running anything. */
  abort(): void {
    this.child.stdin!.end();
    this.child.unref();
  }
}

export async function startShim(s: ShimStart): Promise<PendingShim> {
  const child = spawn(SHIM_BIN, [s.dir, s.logFile ?? '-', s.tty ? '1' : '0', s.stdin ? '1' : '0', '--', ...s.argv], {
    detached: true,
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const pending = new PendingShim(child);
  const first = await new Promise<string | null>((resolve, reject) => {
    child.once('error', reject);
    pending.line().then(resolve, reject);
  });
  if (first !== 'ready') throw new Error(`ctrnet-shim did not start: ${first ?? 'no output'}`);
  return pending;
}

/** Connects to a shim's socket in a mode: A(ttach, with stdin), O(utput only), M(onitor: exit only), F(ollow: output after an ack with the log's size). */
export function connectShim(dir: string, mode: ShimMode): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(`${dir}/sock`);
    sock.once('error', reject);
    sock.once('connect', () => {
      sock.removeListener('error', reject);
      // A shim that is already gone closes the socket: the write's EPIPE must not be an uncaught
      // 'error' that ends the daemon (callers see the close; their own 'error' listeners still run).
      sock.on('error', () => {});
      sock.write(mode);
      resolve(sock);
    });
  });
}

/** Sends a terminal size to a shim. */
export async function resizeShim(dir: string, rows: number, cols: number): Promise<void> {
  const sock = await connectShim(dir, 'W' as ShimMode);
  const b = Buffer.alloc(4);
  b.writeUInt16BE(rows, 0);
  b.writeUInt16BE(cols, 2);
  sock.end(b);
}

/** The exit code a shim left behind, if it finished. */
export async function readExitFile(dir: string): Promise<number | undefined> {
  const s = await readFile(`${dir}/exit`, 'utf8').catch(() => undefined);
  return s === undefined ? undefined : Number(s.trim());
}

/**
 * The daemon's side of ctrnet-kernel (native/kernel/): one long-lived process that speaks
 * rtnetlink in any namespace and applies nft scripts through libnftables, so a kernel operation
 * is one pipe round trip (~0.1 ms) instead of a process spawn (~5 ms, ~15 ms more for `nft`).
 *
 * Requests are answered in order: an answer is zero or more data lines `ID + FIELDS` (reads) and
 * then `ID ok` or `ID err ERRNO MESSAGE` (native/kernel/main.c has the protocol). The helper is
 * started on first use and again after it died; a request in flight when it dies, or unanswered
 * after REQUEST_TIMEOUT_MS (the helper is then killed), fails with a KernelError saying so.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KernelError } from './kernel';

export const KERNEL_HELPER_BIN = path.resolve(__dirname, '../../../build/ctrnet-kernel');
/** Kernel operations take micro- to milliseconds; one stuck this long means the helper is. */
const REQUEST_TIMEOUT_MS = 10_000;

const ERRNOS: Record<string, KernelError['errno']> = {
  EEXIST: 'EEXIST',
  ENOENT: 'ENOENT',
  ENODEV: 'ENOENT',
  EBUSY: 'EBUSY',
  EPERM: 'EPERM',
  EINVAL: 'EINVAL',
  EADDRINUSE: 'EADDRINUSE',
  EACCES: 'EACCES',
  EOPNOTSUPP: 'EOPNOTSUPP',
  ENETUNREACH: 'ENETUNREACH',
  ENETDOWN: 'ENETDOWN',
  EHOSTUNREACH: 'EHOSTUNREACH',
};

interface Pending {
  id: number;
  /** data lines received so far (their `ID + ` cut off) */
  lines: string[];
  resolve: (lines: string[]) => void;
  reject: (e: Error) => void;
}

/** One running helper process and what it owes. */
interface Conversation {
  child: ChildProcess;
  pending: Pending[];
  buf: string;
  timer?: NodeJS.Timeout;
}

export class KernelHelper {
  private conv?: Conversation;
  private nextId = 1;

  /** `wrap`: argv the helper runs under, e.g. `nsenter --net=PATH` to make another namespace its own. */
  constructor(
    private readonly bin = KERNEL_HELPER_BIN,
    private readonly wrap: string[] = [],
  ) {}

  /** True when the helper binary was built (`npm run build`). */
  static available(bin = KERNEL_HELPER_BIN): boolean {
    return existsSync(bin);
  }

  /** Sends one request (header line and optional body); resolves on "ok", rejects with KernelError. */
  async request(header: string, body = ''): Promise<void> {
    await this.query(header, body);
  }

  /**
   * Sends one request and resolves with the data lines of its answer (a read verb's rows).
   * @example await helper.query('links -') // ['index=1 name=lo mtu=65536 up=1 mac=00:00:00:00:00:00']
   */
  query(header: string, body = ''): Promise<string[]> {
    const conv = this.conv ?? this.start();
    const id = this.nextId++;
    if (conv.pending.length === 0) this.hold(conv, true);
    return new Promise<string[]>((resolve, reject) => {
      conv.pending.push({ id, lines: [], resolve, reject });
      conv.child.stdin!.write(`${id} ${header}\n${body}`);
    });
  }

  /** The running helper's PID, if one runs. */
  get pid(): number | undefined {
    return this.conv?.child.pid;
  }

  /** Stops the helper (the daemon's shutdown); requests still in flight fail. */
  stop(): void {
    const conv = this.conv;
    if (!conv) return;
    conv.child.stdin!.end();
    this.end(conv, 'was stopped');
  }

  private start(): Conversation {
    const argv = [...this.wrap, this.bin];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, CTRNET_KERNEL_PARENT: String(process.pid) } });
    const conv: Conversation = { child, pending: [], buf: '' };
    this.conv = conv;
    let stderr = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => this.onData(conv, d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin!.on('error', () => {}); // a dead helper is reported by 'close'
    child.on('error', (e) => this.end(conv, `failed: ${e.message}`));
    // 'close', not 'exit': answers written just before dying are read first.
    child.on('close', (code, sig) => this.end(conv, `exited ${code ?? sig}${stderr ? `: ${stderr.trim()}` : ''}`));
    return conv;
  }

  /** An idle helper must not keep a process alive; one with requests in flight must, within a bound. */
  private hold(conv: Conversation, on: boolean): void {
    for (const h of [conv.child, conv.child.stdin, conv.child.stdout, conv.child.stderr] as unknown as { ref(): void; unref(): void }[]) {
      if (on) h.ref();
      else h.unref();
    }
    clearTimeout(conv.timer);
    conv.timer = on ? setTimeout(() => this.timedOut(conv), REQUEST_TIMEOUT_MS) : undefined;
  }

  private timedOut(conv: Conversation): void {
    this.end(conv, `did not answer within ${REQUEST_TIMEOUT_MS / 1000} s (killed)`);
    conv.child.kill('SIGKILL');
  }

  private onData(conv: Conversation, d: string): void {
    conv.buf += d;
    // One cut at the end, not one per line: a dump of thousands of lines must stay linear.
    let start = 0;
    for (let i = conv.buf.indexOf('\n'); i >= 0; i = conv.buf.indexOf('\n', start)) {
      this.onLine(conv, conv.buf.slice(start, i));
      start = i + 1;
    }
    conv.buf = conv.buf.slice(start);
  }

  private onLine(conv: Conversation, line: string): void {
    const m = /^(\d+) (?:\+ (.*)|ok|err (\S+) (.*))$/.exec(line);
    if (!m) return;
    const id = Number(m[1]);
    // Answers come in order: a request older than this answer will never get one.
    while (conv.pending.length && conv.pending[0].id < id) conv.pending.shift()!.reject(new KernelError('ctrnet-kernel did not answer this request', 'UNKNOWN'));
    const p = conv.pending[0];
    if (!p || p.id !== id) return;
    if (m[2] !== undefined) {
      p.lines.push(m[2]);
      return;
    }
    conv.pending.shift();
    if (conv.pending.length === 0) this.hold(conv, false);
    else this.hold(conv, true); // a new bound for the next request
    if (m[3] === undefined) p.resolve(p.lines);
    else p.reject(new KernelError(m[4], ERRNOS[m[3]] ?? 'UNKNOWN'));
  }

  /** The conversation is over: everything it still owes fails, and the next request starts anew. */
  private end(conv: Conversation, why: string): void {
    if (this.conv === conv) this.conv = undefined;
    clearTimeout(conv.timer);
    const pending = conv.pending;
    conv.pending = [];
    for (const p of pending) p.reject(new KernelError(`ctrnet-kernel ${why}`, 'UNKNOWN'));
  }
}

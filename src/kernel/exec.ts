/**
 * Running external programs: the one place ctrnet spawns a process and waits for it. Only kernel/,
 * firewall/nft/ and runtime/ call it. Every run has a timeout; a non-zero exit becomes
 * CommandFailedError carrying argv, exit code and stderr.
 */
import { spawn } from 'node:child_process';

export class CommandFailedError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${argv.join(' ')} failed (exit ${exitCode ?? 'signal'}): ${stderr.trim() || '(no output)'}`);
    this.name = 'CommandFailedError';
  }
}

export interface RunOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  signal?: AbortSignal;
}

const debug = process.env.CTRNET_DEBUG === '1';

/**
 * Runs argv to completion and returns its stdout.
 * @example await run(['ip', '-j', 'link', 'show'])
 */
export function run(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  if (debug) process.stderr.write(`[exec] ${argv.join(' ')}${opts.input ? ` <<< ${String(opts.input).trim()}` : ''}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), {
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: opts.timeoutMs ?? 30_000,
      signal: opts.signal,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.on('error', (e) => reject(new CommandFailedError(argv, null, e.message)));
    child.on('close', (code) => {
      const stdout = Buffer.concat(out).toString();
      if (code === 0) resolve(stdout);
      else reject(new CommandFailedError(argv, code, Buffer.concat(err).toString() || stdout));
    });
    // A child that exits without reading its stdin makes the write fail with EPIPE; the exit code
    // already tells what happened, so that write error carries no extra information.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

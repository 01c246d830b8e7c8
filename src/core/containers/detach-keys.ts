/**
 * Detach keys: a key sequence in a TTY client's input that detaches the client (its connection is
 * closed, the process goes on running), as Docker's escape proxy does. Keys are Docker's spelling:
 * a comma-separated list of single characters and ctrl-@, ctrl-a … ctrl-z, ctrl-[, ctrl-\,
 * ctrl-], ctrl-^, ctrl-_ ; the default is ctrl-p,ctrl-q. The docker CLI sends the keys of its
 * config file (`detachKeys`) or of --detach-keys in the attach query or the exec create body.
 */
import { EngineError } from '../../base/errors';

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

const CTRL = ['@', ...'abcdefghijklmnopqrstuvwxyz', '[', '\\', ']', '^', '_'];

/** Docker's key spelling → bytes; INVALID_PARAMETER with Docker's words when a key is unknown. */
export function parseDetachKeys(spec: string): Buffer {
  const bytes: number[] = [];
  for (const key of spec.split(',')) {
    if (key.length === 1) {
      bytes.push(key.charCodeAt(0));
      continue;
    }
    const m = /^ctrl-(.)$/i.exec(key);
    const code = m ? CTRL.indexOf(m[1].toLowerCase()) : -1;
    if (code < 0) throw new EngineError('INVALID_PARAMETER', `Invalid detach keys (${spec}) provided`, { hint: 'e.g. ctrl-p,ctrl-q, ctrl-x or a,b' });
    bytes.push(code);
  }
  if (!bytes.length || bytes.some((b) => b > 255)) throw new EngineError('INVALID_PARAMETER', `Invalid detach keys (${spec}) provided`);
  return Buffer.from(bytes);
}

/**
 * Watches input for the sequence: `push` returns the bytes to pass on and whether the sequence
 * is complete (then the client detaches; the sequence itself is not passed on). Bytes that start
 * the sequence are held until it completes or breaks off (then they are passed on), also across
 * chunks.
 */
export class DetachWatcher {
  private held = 0;

  constructor(private readonly keys: Buffer) {}

  push(chunk: Buffer): { pass: Buffer; detach: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.held]) {
        this.held++;
        if (this.held === this.keys.length) return { pass: Buffer.from(out), detach: true };
        continue;
      }
      // The sequence broke off: what was held goes on, and this byte may start it again.
      for (let i = 0; i < this.held; i++) out.push(this.keys[i]);
      this.held = b === this.keys[0] ? 1 : 0;
      if (this.held === 0) out.push(b);
      else if (this.keys.length === 1) return { pass: Buffer.from(out), detach: true };
    }
    return { pass: Buffer.from(out), detach: false };
  }
}

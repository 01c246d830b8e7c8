/**
 * `docker top`: the host's `ps` with the caller's options (Docker's default `-ef`), narrowed to the
 * processes of one container (`-q PIDS`, or, for options `-q` cannot go with, every process
 * filtered by the PID column afterwards), parsed into titles and rows as Docker does: the last
 * column keeps its spaces.
 */
import { EngineError } from '../base/errors';
import { CommandFailedError, run } from '../kernel/exec';

export interface Top {
  titles: string[];
  processes: string[][];
}

/** Rows of `ps` output whose PID column is one of `pids`. */
export function parsePs(output: string, pids: number[]): Top {
  const lines = output.split('\n').filter((l) => l.trim());
  if (!lines.length) return { titles: [], processes: [] };
  const titles = lines[0].trim().split(/\s+/);
  const pidCol = titles.indexOf('PID');
  if (pidCol < 0) throw new EngineError('INVALID_PARAMETER', `Couldn't find PID field in ps output`, { hint: 'give ps options that print the PID column (e.g. -o pid,args)' });
  const want = new Set(pids);
  const processes: string[][] = [];
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/);
    // The last title's column (the command) keeps its spaces.
    const row = [...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')];
    if (want.has(Number(row[pidCol]))) processes.push(row);
  }
  return { titles, processes };
}

/** Runs `ps ARGS` for the container's processes (their host PIDs). */
export async function top(pids: number[], psArgs: string): Promise<Top> {
  const args = (psArgs || '-ef').split(' ').filter(Boolean);
  let out: string;
  try {
    out = await run(['ps', ...args, '-q', pids.join(',')]);
  } catch {
    // Some ps options (f, for one) cannot be combined with -q: all processes, filtered below.
    try {
      out = await run(['ps', ...args]);
    } catch (e) {
      const first = e instanceof CommandFailedError ? e.stderr.split('\n')[0].trim() : '';
      throw new EngineError('RUNTIME_FAILED', first || `ps ${args.join(' ')} failed`, { cause: e });
    }
  }
  return parsePs(out, pids);
}

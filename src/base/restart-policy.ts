/**
 * Restart policies (`--restart no|always|unless-stopped|on-failure[:N]`): parsing and Docker's
 * checks in Docker's words, and the decisions of Docker's restart manager as pure functions: whether
 * an exit is followed by a start, and after how long (100 ms, doubling with each restart, at most
 * a minute, back to 100 ms once a run lasted 10 s).
 */
import { EngineError } from './errors';

export type RestartPolicyName = 'no' | 'always' | 'unless-stopped' | 'on-failure';

export interface RestartPolicy {
  name: RestartPolicyName;
  /** on-failure only: how many restarts at most; 0: no limit */
  maxRetries: number;
}

export const NO_RESTART: RestartPolicy = { name: 'no', maxRetries: 0 };

const NAMES: readonly string[] = ['no', 'always', 'unless-stopped', 'on-failure'];

/** Docker's checks of HostConfig.RestartPolicy ("" is "no"). */
export function restartPolicy(name: string, maxRetries: number, autoRemove = false): RestartPolicy {
  const n = name === '' ? 'no' : name;
  if (!NAMES.includes(n)) throw new EngineError('INVALID_PARAMETER', `invalid restart policy '${name}'`, { hint: 'use no, always, unless-stopped or on-failure[:N]' });
  if (!Number.isInteger(maxRetries)) throw new EngineError('INVALID_PARAMETER', `invalid maximum retry count ${maxRetries}`);
  if (n !== 'on-failure' && maxRetries !== 0) throw new EngineError('INVALID_PARAMETER', `maximum retry count cannot be used with restart policy '${n}'`, { hint: 'a count goes with on-failure only' });
  if (maxRetries < 0) throw new EngineError('INVALID_PARAMETER', 'maximum retry count cannot be negative');
  if (autoRemove && n !== 'no') throw new EngineError('CONFLICTING_OPTIONS', "can't create 'AutoRemove' container with restart policy", { hint: 'drop --rm or --restart' });
  return { name: n as RestartPolicyName, maxRetries };
}

/** `--restart on-failure:3` → the policy. */
export function parseRestartFlag(s: string): RestartPolicy {
  const [name, count, ...rest] = s.split(':');
  if (rest.length || (count !== undefined && !/^-?\d+$/.test(count))) throw new EngineError('INVALID_PARAMETER', `invalid restart policy format: ${s}`, { hint: 'e.g. on-failure:3' });
  return restartPolicy(name, count === undefined ? 0 : Number(count));
}

/** What an exit leads to, by the policy (Docker's ShouldRestart). */
export function shouldRestart(p: RestartPolicy, exitCode: number, restartCount: number, manuallyStopped: boolean): boolean {
  switch (p.name) {
    case 'always':
      return true;
    case 'unless-stopped':
      return !manuallyStopped;
    case 'on-failure':
      return exitCode !== 0 && (p.maxRetries === 0 || restartCount < p.maxRetries);
    default:
      return false;
  }
}

export const BACKOFF_START_MS = 100;
export const BACKOFF_MAX_MS = 60_000;
/** a run this long resets the delay */
export const BACKOFF_RESET_MS = 10_000;

/** The delay before the next restart, from the previous delay (0: none yet) and how long the run lasted. */
export function nextDelay(previousMs: number, ranForMs: number): number {
  const prev = ranForMs >= BACKOFF_RESET_MS ? 0 : previousMs;
  return prev === 0 ? BACKOFF_START_MS : Math.min(prev * 2, BACKOFF_MAX_MS);
}

/**
 * Health checks: the configuration (HEALTHCHECK of an image, `--health-*` of a container), the
 * state inspect shows (State.Health) and Docker's rules as pure functions: which configuration
 * applies, and how one probe's result moves the state (healthy after one success, unhealthy after
 * `retries` failures in a row, failures inside the start period not counted while starting).
 */
import { EngineError } from './errors';

/** Durations in nanoseconds, as Docker's JSON has them; 0: the default (or the image's). */
export interface HealthConfig {
  /** ["CMD", args…], ["CMD-SHELL", "cmd"], ["NONE"]; [] inherits the image's */
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  retries: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthResult {
  /** ISO times */
  start: string;
  end: string;
  /** 0 healthy, 1 unhealthy, -1 the probe could not run or timed out */
  exitCode: number;
  output: string;
}

export interface HealthState {
  status: HealthStatus;
  failingStreak: number;
  /** the last five results, oldest first */
  log: HealthResult[];
}

export const HEALTH_DEFAULTS = { intervalNs: 30e9, timeoutNs: 30e9, startPeriodNs: 0, retries: 3 };
/** how many results State.Health.Log keeps, and how much of a probe's output */
export const HEALTH_LOG_ENTRIES = 5;
export const HEALTH_OUTPUT_MAX = 4096;

/** Docker's checks of Config.Healthcheck, in Docker's words. */
export function checkHealthConfig(h: HealthConfig): void {
  const ms = 1e6;
  for (const [v, name] of [[h.intervalNs, 'Interval'], [h.timeoutNs, 'Timeout'], [h.startPeriodNs, 'StartPeriod']] as const) {
    if (v !== 0 && v < ms) throw new EngineError('INVALID_PARAMETER', `${name} in Healthcheck cannot be less than 1ms`);
  }
  if (h.retries < 0) throw new EngineError('INVALID_PARAMETER', 'Retries in Healthcheck cannot be negative');
  const kind = h.test[0];
  if (h.test.length && !['CMD', 'CMD-SHELL', 'NONE'].includes(kind)) {
    throw new EngineError('INVALID_PARAMETER', `unknown healthcheck type "${kind}"`, { hint: 'Test starts with CMD, CMD-SHELL or NONE' });
  }
}

/** The configuration in force: the container's, its unset parts from the image's (Docker's merge). */
export function effectiveHealth(own: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!own || !image) return own ?? image;
  return {
    test: own.test.length ? own.test : image.test,
    intervalNs: own.intervalNs || image.intervalNs,
    timeoutNs: own.timeoutNs || image.timeoutNs,
    startPeriodNs: own.startPeriodNs || image.startPeriodNs,
    retries: own.retries || image.retries,
  };
}

/** The process a probe runs, or undefined when checks are off (NONE, or no test). */
export function probeArgs(h: HealthConfig | undefined): string[] | undefined {
  if (!h || h.test.length === 0 || h.test[0] === 'NONE') return undefined;
  if (h.test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', h.test.slice(1).join(' ')];
  return h.test[0] === 'CMD' ? h.test.slice(1) : h.test;
}

export const STARTING: HealthState = { status: 'starting', failingStreak: 0, log: [] };

/** The state after one probe (Docker's handleProbeResult). `startedAt`: when the container's run began (ms). */
export function afterProbe(s: HealthState, r: HealthResult, h: HealthConfig, startedAtMs: number): HealthState {
  const log = [...s.log, r].slice(-HEALTH_LOG_ENTRIES);
  if (r.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  const startPeriodMs = (h.startPeriodNs || HEALTH_DEFAULTS.startPeriodNs) / 1e6;
  // While starting (never healthy yet), failures inside the start period are not counted.
  if (s.status === 'starting' && Date.parse(r.start) - startedAtMs < startPeriodMs) return { ...s, log };
  const failingStreak = s.failingStreak + 1;
  const retries = h.retries || HEALTH_DEFAULTS.retries;
  return { status: failingStreak >= retries ? 'unhealthy' : s.status, failingStreak, log };
}

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * Go's duration syntax, as the docker CLI takes `--health-interval`: "30s", "1m30s", "500ms".
 * @example parseDuration('1m30s') // 90e9 (nanoseconds)
 */
export function parseDuration(s: string, flag = 'duration'): number {
  if (s === '0') return 0;
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== s) {
    throw new EngineError('INVALID_PARAMETER', `invalid argument "${s}" for ${flag}: time: invalid duration "${s}"`, { hint: 'e.g. 30s, 1m30s, 500ms' });
  }
  return Math.round(parts.reduce((ns, p) => ns + Number(p[1]) * UNITS[p[2]], 0));
}

/** Go's rendering of a duration, as Docker writes it in "Health check exceeded timeout (300ms)". */
export function formatDuration(ns: number): string {
  if (ns < 1e6) return `${ns / 1e3}µs`;
  if (ns < 1e9) return `${+(ns / 1e6).toFixed(6)}ms`;
  let s = ns / 1e9;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s = +(s - m * 60).toFixed(9);
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

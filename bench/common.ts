/**
 * Shared pieces of the benchmark suite (`npm run bench`): the row every section returns, statistics,
 * and installing a Debian package a section needs (peers such as netavark are installed on demand).
 */

export interface Row {
  /** section title, e.g. "1. Endpoint" */
  section: string;
  /** what was measured, e.g. "netavark setup+teardown (median)" */
  what: string;
  /** the figure, already formatted with its unit, e.g. "4.1 ms" or "97 %" */
  value: string;
  /** the target as the issue states it, e.g. "≤ 0.05× netavark"; empty for reference rows */
  target?: string;
  /** whether the target is met; undefined for reference rows */
  met?: boolean;
  note?: string;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Nearest-rank percentile of xs (p in 0..100). */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

export const ms = (x: number): string => (x < 10 ? `${x.toFixed(2)} ms` : `${x.toFixed(1)} ms`);

/** Milliseconds since an arbitrary origin, sub-millisecond. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Installs missing Debian packages without letting a service start (scripts/lab-docker.ts). */
export { installDebs } from '../scripts/lab-docker';
import { installDebs } from '../scripts/lab-docker';

/** Installs Debian packages that are missing; false when that fails. */
export function ensureDebs(pkgs: string[]): boolean {
  return installDebs(pkgs).ok;
}

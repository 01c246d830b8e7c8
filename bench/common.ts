/**
 * Shared pieces of the benchmark suite (`npm run bench`): the row every section returns, statistics,
 * and installing a Debian package a section needs (peers such as netavark are installed on demand).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';

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

/**
 * Installs missing Debian packages. Like ensureDebs (bench/common.ts), but waits for the dpkg lock
 * (other sessions on this machine may be installing at the same time) and never lets a package's
 * maintainer scripts start a service: a policy-rc.d that answers 101 ("action forbidden") is put in
 * place for the install when none exists, and removed again afterwards.
 */
export function installDebs(pkgs: string[]): { ok: boolean; error?: string } {
  const missing = pkgs.filter((p) => !/ok installed/.test(spawnSync('dpkg-query', ['-W', '-f=${Status}', p]).stdout?.toString() ?? ''));
  if (missing.length === 0) return { ok: true };
  process.stderr.write(`bench: installing ${missing.join(' ')}\n`);
  const policy = '/usr/sbin/policy-rc.d';
  const ours = !existsSync(policy);
  if (ours) writeFileSync(policy, '#!/bin/sh\n# temporary, from ctrnet bench/peers.ts: no service starts during the install\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const lock = ['-o', 'DPkg::Lock::Timeout=300'];
    spawnSync('apt-get', [...lock, 'update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 300_000 });
    const r = spawnSync('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 540_000 });
    if (r.status !== 0) return { ok: false, error: `apt-get install ${missing.join(' ')} failed: ${r.stderr?.toString().trim().split('\n').slice(-3).join(' / ') || `status ${r.status}`}` };
    return { ok: true };
  } finally {
    if (ours) spawnSync('rm', ['-f', policy]);
  }
}

/** Installs Debian packages that are missing; false when that fails. */
export function ensureDebs(pkgs: string[]): boolean {
  return installDebs(pkgs).ok;
}

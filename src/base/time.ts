/** Docker's time strings: human durations (`Up 5 minutes`) and RFC3339 with nanoseconds. */

/** Docker's units.HumanDuration: truncates, except hours, which it rounds. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(ms / 3_600_000);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** RFC3339 with nanoseconds, as Docker prints timestamps. */
export function rfc3339Nano(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const iso = new Date(ms).toISOString(); // 2026-11-29T07:24:52.543Z
  return `${iso.slice(0, 19)}.${(ns % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

const DURATION_UNITS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** A Go duration ("10m", "1h30m", "1.5s") in nanoseconds; undefined when it is none. */
export function parseDuration(s: string): bigint | undefined {
  if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return undefined;
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * DURATION_UNITS[m[2]];
  return BigInt(Math.round(total));
}

/**
 * Docker's timestamps in queries (since, until of events, logs and prune filters): Unix seconds
 * with an optional fraction ("1700000000.123456789"), an RFC3339 time, or a Go duration counted
 * back from `nowNs`. Returns nanoseconds since the epoch; undefined when it is none of these.
 */
export function parseTimestamp(s: string, nowNs: bigint = BigInt(Date.now()) * 1_000_000n): bigint | undefined {
  const t = s.trim();
  const unix = /^(-?\d+)(?:\.(\d{1,9}))?$/.exec(t);
  if (unix) return BigInt(unix[1]) * 1_000_000_000n + BigInt((unix[2] ?? '').padEnd(9, '0') || '0');
  const d = parseDuration(t);
  if (d !== undefined) return nowNs - d;
  if (/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/.test(t)) {
    // Without a zone it is local time, as Docker reads it.
    const ms = Date.parse(t);
    if (Number.isNaN(ms)) return undefined;
    const frac = /\.(\d+)/.exec(t)?.[1] ?? '';
    return BigInt(Math.floor(ms / 1000)) * 1_000_000_000n + BigInt(frac.slice(0, 9).padEnd(9, '0') || '0');
  }
  return undefined;
}

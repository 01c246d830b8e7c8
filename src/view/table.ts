/**
 * Tables as the docker CLI prints them (its tabwriter: every column padded to its widest cell plus
 * three spaces, the last one not padded, trailing blanks cut) and the cell formats they share:
 * `ps`, `images`, `network ls`.
 */
import { humanDuration } from '../base/time';

/** The header line and one line per row, joined by newlines (no trailing newline). */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** A time in seconds since the epoch as docker shows it: "5 minutes ago". */
export function ago(unixSec: number, now = Date.now()): string {
  return `${humanDuration(now - unixSec * 1000)} ago`;
}

/** At most `n` characters, the cut marked with an ellipsis. */
export function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** HOST:PORT as docker prints it, an IPv6 host in brackets: 0.0.0.0:8080, [::]:8080. */
export const hostAndPort = (host: string, port: string | number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/**
 * Transfer progress as Docker draws it: sizes in decimal units with four significant digits
 * (go-units HumanSize: 184B, 32.77kB, 1.065MB) and the 50-column bar of its JSON messages'
 * `progress` field. Shared by the daemon (which sends the text, as Docker's does) and the CLI
 * (which draws its own per-layer lines).
 */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

export function humanSize(bytes: number): string {
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(4))}${UNITS[i]}`;
}

/** Docker's `progress` text: "[=====>      ]  1.2MB/3.4MB" (the bar only when the line is wide enough). */
export function progressText(current: number, total: number | undefined, wide = true): string {
  if (!total || total <= 0) return current > 0 ? humanSize(current).padStart(8) : '';
  const pct = Math.min(50, Math.floor(Math.floor((current / total) * 100) / 2));
  const bar = wide ? `[${'='.repeat(pct)}>${' '.repeat(Math.max(0, 50 - pct))}] ` : '';
  const numbers = current > total ? humanSize(current).padStart(8) : `${humanSize(current).padStart(8)}/${humanSize(total)}`;
  return bar + numbers;
}

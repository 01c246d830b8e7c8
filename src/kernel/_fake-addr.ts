/**
 * Addresses as FakeKernel needs them: parsed strictly (what inet_pton accepts), printed as
 * inet_ntop prints them (what `ip` and ctrnet-kernel report), prefixes masked and compared, and
 * routes ordered the way the kernel dumps them.
 */
import net from 'node:net';

export interface Ip {
  family: 4 | 6;
  /** the address as a 32- or 128-bit number */
  n: bigint;
}

export const bitsOf = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** Parses an IPv4 (dotted, no leading zeros) or IPv6 address; undefined when it is neither. */
export function parseIp(s: string): Ip | undefined {
  if (net.isIPv4(s)) {
    const parts = s.split('.');
    if (parts.some((p) => p.length > 1 && p.startsWith('0'))) return undefined;
    return { family: 4, n: parts.reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  }
  if (!net.isIPv6(s) || s.includes('%')) return undefined;
  // An address may end in dotted IPv4 (::ffff:10.0.0.1): two groups
  let text = s;
  const tail: number[] = [];
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const v4 = parseIp(dotted[2]);
    if (!v4) return undefined;
    tail.push(Number(v4.n >> 16n), Number(v4.n & 0xffffn));
    text = dotted[1].endsWith('::') ? dotted[1] : dotted[1].slice(0, -1);
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const hs = head ? head.split(':').map((h) => parseInt(h, 16)) : [];
  const rs = rest ? rest.split(':').map((h) => parseInt(h, 16)) : [];
  const groups = rest === undefined ? [...hs, ...tail] : [...hs, ...Array<number>(8 - tail.length - hs.length - rs.length).fill(0), ...rs, ...tail];
  if (groups.length !== 8) return undefined;
  return { family: 6, n: groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n) };
}

/** inet_ntop's text: IPv6 with the longest run (of two or more) of zero groups as "::". */
export function formatIp(ip: Ip): string {
  if (ip.family === 4) return [24n, 16n, 8n, 0n].map((s) => String((ip.n >> s) & 255n)).join('.');
  const g = Array.from({ length: 8 }, (_, i) => Number((ip.n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  if (bestLen < 2) best = -1;
  // IPv4-compatible and IPv4-mapped addresses end in dotted form, as glibc prints them
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    const v4 = formatIp({ family: 4, n: ip.n & 0xffffffffn });
    return bestLen === 6 ? `::${v4}` : `::ffff:${v4}`;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function mask(family: 4 | 6, len: number): bigint {
  const bits = BigInt(bitsOf(family));
  return len === 0 ? 0n : ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(len))) - 1n);
}

/** True when `ip` lies in the prefix `net`/`len` of the same family. */
export function contains(net: Ip, len: number, ip: Ip): boolean {
  return net.family === ip.family && (net.n & mask(net.family, len)) === (ip.n & mask(ip.family, len));
}

/** The scope the kernel sorts a device's IPv6 addresses by: global before site before link. */
export function scope6(ip: Ip): number {
  if (ip.n === 1n) return 1; // ::1, host
  const top10 = Number(ip.n >> 118n);
  if (top10 === 0x3fa) return 2; // fe80::/10, link
  if (top10 === 0x3fb) return 5; // fec0::/10, site
  return 14; // global
}

/** A route's place in a dump (two routes of one family). */
export interface RouteKey {
  family: 4 | 6;
  dst: bigint;
  len: number;
  metric: number;
}

/**
 * The kernel's dump order. IPv4 walks the FIB trie in order of the network address, a longer
 * prefix first where two share one. IPv6 walks its radix tree children first (post-order): a
 * prefix after every prefix it contains, otherwise by the first bits they differ in. Within
 * one prefix: by metric.
 */
export function compareRoutes(a: RouteKey, b: RouteKey): number {
  if (a.family === 4) {
    if (a.dst !== b.dst) return a.dst < b.dst ? -1 : 1;
  } else {
    const l = Math.min(a.len, b.len);
    const ma = a.dst & mask(6, l);
    const mb = b.dst & mask(6, l);
    if (ma !== mb) return ma < mb ? -1 : 1;
  }
  if (a.len !== b.len) return b.len - a.len;
  return a.metric - b.metric;
}

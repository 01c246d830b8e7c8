/**
 * IPv6 address management: arithmetic on 128-bit addresses (bigint), subnets, the lowest free
 * address, and the addresses derived from a MAC (EUI-64 link-local) or from an address (the MAC of
 * an IPv6-only endpoint). Pure, like ipam.ts for IPv4; the caller records a pick in the same
 * transaction in which it read what is in use.
 *
 * An IPv6 subnet has no broadcast address; its first address (the subnet-router anycast address,
 * RFC 4291 2.6.1) is never given to a container, as in Docker.
 */
import { EngineError } from '../base/errors';
import { isIPv6 } from '../base/ip';

export { isIPv6 };

export interface Subnet6 {
  /** network address */
  base: bigint;
  prefixLen: number;
  /** "fd00:1::/64", in RFC 5952 form */
  cidr: string;
}

const ALL = (1n << 128n) - 1n;

/** Parses any text form of an IPv6 address. */
export function ip6ToBig(ip: string): bigint {
  if (!isIPv6(ip)) throw new EngineError('INVALID_PARAMETER', `invalid IPv6 address "${ip}"`);
  let text = ip;
  if (ip.includes('.')) {
    const i = ip.lastIndexOf(':');
    const v4 = ip.slice(i + 1).split('.').map(Number);
    text = `${ip.slice(0, i + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** The RFC 5952 text of an address: lower case, leading zeros dropped, the longest run of two or more zero groups as "::". */
export function bigToIp6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The canonical (RFC 5952) form of an address given in any form. */
export const canonical6 = (ip: string): string => bigToIp6(ip6ToBig(ip));

export function parseCidr6(cidr: string): Subnet6 & { ip: bigint } {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(cidr);
  if (!m || Number(m[2]) > 128 || !isIPv6(m[1])) throw new EngineError('INVALID_PARAMETER', `invalid CIDR "${cidr}"`, { hint: 'write an IPv6 subnet as fd00:1::/64' });
  const ip = ip6ToBig(m[1]);
  const prefixLen = Number(m[2]);
  const base = ip & maskOf(prefixLen);
  return { ip, base, prefixLen, cidr: `${bigToIp6(base)}/${prefixLen}` };
}

const maskOf = (len: number): bigint => (len === 0 ? 0n : (ALL << BigInt(128 - len)) & ALL);
export const size6 = (s: Pick<Subnet6, 'prefixLen'>): bigint => 1n << BigInt(128 - s.prefixLen);
export const last6 = (s: Subnet6): bigint => s.base + size6(s) - 1n;
export const contains6 = (s: Subnet6, ip: string): boolean => {
  const n = ip6ToBig(ip);
  return n >= s.base && n <= last6(s);
};
export const overlaps6 = (a: Subnet6, b: Subnet6): boolean => a.base <= last6(b) && b.base <= last6(a);

/** The first host address of a subnet (the default gateway, as Docker chooses it). */
export const firstHost6 = (s: Subnet6): string => bigToIp6(s.base + 1n);

/**
 * The lowest free address of `subnet` (inside `range` when given): never the subnet-router
 * anycast address (the first), the gateway, nor one in `used` (compared in canonical form).
 */
export function pickAddress6(subnet: Subnet6, gateway: string, used: ReadonlySet<string>, range?: Subnet6): string | undefined {
  const first = subnet.base + 1n;
  const lastAddr = last6(subnet);
  const lo = range && range.base > first ? range.base : first;
  const hi = range && last6(range) < lastAddr ? last6(range) : lastAddr;
  const gw = ip6ToBig(gateway);
  const taken = new Set([...used].filter((u) => u.includes(':')).map((u) => ip6ToBig(u)));
  // At most |taken| + 2 steps: the scan stops at the first gap.
  for (let n = lo; n <= hi; n++) if (n !== gw && !taken.has(n)) return bigToIp6(n);
  return undefined;
}

/** Checks a requested address (--ip6): inside the subnet, not its first address nor the gateway. */
export function checkRequested6(subnet: Subnet6, gateway: string, ip: string, netName: string): void {
  const n = ip6ToBig(ip);
  if (!contains6(subnet, ip)) throw new EngineError('INVALID_PARAMETER', `address ${ip} is not in network ${netName} (${subnet.cidr})`);
  if (n === subnet.base || n === ip6ToBig(gateway)) throw new EngineError('INVALID_PARAMETER', `address ${ip} is reserved in network ${netName} (the subnet-router or gateway address)`);
}

/** 02:42 and the last four bytes of the address: the MAC of an endpoint without IPv4 (stable for its address, like macFromIp). */
export function macFromIp6(ip: string): string {
  const n = ip6ToBig(ip) & 0xffffffffn;
  const b = [0x02, 0x42, Number((n >> 24n) & 255n), Number((n >> 16n) & 255n), Number((n >> 8n) & 255n), Number(n & 255n)];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * The link-local address the kernel makes from a MAC (modified EUI-64, RFC 4291 appendix A):
 * fe80:: with the MAC split by ff:fe and its universal/local bit flipped.
 * 02:42:ac:11:00:02 → fe80::42:acff:fe11:2
 */
export function linkLocalOf(mac: string): string {
  const b = mac.split(':').map((x) => parseInt(x, 16));
  const id = [b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  const iid = id.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
  return bigToIp6((0xfe80n << 112n) | iid);
}

/** The reverse-lookup name of an address: nibbles in reverse order under ip6.arpa. */
export function reverseName6(ip: string): string {
  const hex = ip6ToBig(ip).toString(16).padStart(32, '0');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

/** The address of an ip6.arpa name of 32 nibbles; undefined for anything else. */
export function fromReverseName6(name: string): string | undefined {
  const m = /^((?:[0-9a-f]\.){32})ip6\.arpa$/.exec(name);
  if (!m) return undefined;
  const hex = m[1].split('.').filter(Boolean).reverse().join('');
  return bigToIp6(BigInt(`0x${hex}`));
}

/** The 16 bytes of an address (AAAA record data). */
export function ip6Bytes(ip: string): Buffer {
  const n = ip6ToBig(ip);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = Number((n >> BigInt(120 - 8 * i)) & 0xffn);
  return out;
}

/** Whether an address is a unique local one (fc00::/7, RFC 4193). */
export const isUla = (ip: string): boolean => (ip6ToBig(ip) >> 121n) === 0x7en;

/**
 * IPv4 address management: address arithmetic and a pure allocator. The allocator only picks; the
 * caller records the pick in the same SQLite transaction in which it read what is in use
 * (state/store.ts `leaseAddress`), so two allocations can never hand out one address.
 */
import { EngineError } from '../base/errors';

export interface Subnet {
  /** network address as an integer */
  base: number;
  prefixLen: number;
  /** "172.17.0.0/16" */
  cidr: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new EngineError('INVALID_PARAMETER', `invalid IPv4 address "${ip}"`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export { isIPv4 } from '../base/ip';

export function parseCidr(cidr: string): Subnet & { ip: number } {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  if (!m || Number(m[2]) > 32) throw new EngineError('INVALID_PARAMETER', `invalid CIDR "${cidr}"`, { hint: 'write it as A.B.C.D/N' });
  const ip = ipToInt(m[1]);
  const prefixLen = Number(m[2]);
  const size = 2 ** (32 - prefixLen);
  const base = ip - (ip % size);
  return { ip, base, prefixLen, cidr: `${intToIp(base)}/${prefixLen}` };
}

export const subnetSize = (s: Subnet): number => 2 ** (32 - s.prefixLen);
export const contains = (s: Subnet, ip: string): boolean => {
  const n = ipToInt(ip);
  return n >= s.base && n < s.base + subnetSize(s);
};
export const overlaps = (a: Subnet, b: Subnet): boolean =>
  a.base < b.base + subnetSize(b) && b.base < a.base + subnetSize(a);

/**
 * Docker 20.10's MAC for an address: 02:42 then the four address bytes (172.17.0.2 → 02:42:ac:11:00:02).
 * Locally administered, stable for an address: a reused address keeps its MAC, so neighbours' ARP
 * caches never go stale and no gratuitous ARP is needed.
 */
export function macFromIp(ip: string): string {
  const n = ipToInt(ip);
  const b = [0x02, 0x42, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/**
 * Picks the lowest free host address of `subnet` (inside `range` when given), never the network,
 * broadcast or gateway address, nor one in `used`.
 */
export function pickAddress(subnet: Subnet, gateway: string, used: ReadonlySet<string>, range?: Subnet): string | undefined {
  const first = subnet.base + 1;
  const last = subnet.base + subnetSize(subnet) - 2;
  const lo = range ? Math.max(first, range.base) : first;
  const hi = range ? Math.min(last, range.base + subnetSize(range) - 1) : last;
  const gw = ipToInt(gateway);
  for (let n = lo; n <= hi; n++) {
    if (n === gw) continue;
    const ip = intToIp(n);
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

/**
 * Checks a requested address: inside the subnet, not network/broadcast/gateway. Anywhere in the
 * subnet: an --ip-range limits only the addresses chosen automatically (Docker's rule).
 */
export function checkRequested(subnet: Subnet, gateway: string, ip: string, netName: string): void {
  const n = ipToInt(ip);
  if (!contains(subnet, ip)) throw new EngineError('INVALID_PARAMETER', `address ${ip} is not in network ${netName} (${subnet.cidr})`);
  if (n === subnet.base || n === subnet.base + subnetSize(subnet) - 1 || ip === gateway) {
    throw new EngineError('INVALID_PARAMETER', `address ${ip} is reserved in network ${netName} (network, broadcast or gateway address)`);
  }
}

/** Checks IPAM's auxiliary addresses (`--aux-address NAME=IP`): each in the subnet, none the gateway. */
export function checkAuxAddresses(subnet: Subnet, gateway: string, aux: Record<string, string>): void {
  for (const [name, ip] of Object.entries(aux)) {
    ipToInt(ip);
    if (!contains(subnet, ip)) throw new EngineError('INVALID_PARAMETER', `auxiliary address: (${name}:${ip}) must belong to the master pool: ${subnet.cidr}`);
    if (ip === gateway) throw new EngineError('INVALID_PARAMETER', `auxiliary address ${name}=${ip} is the gateway of the network`, { hint: 'choose another address' });
  }
}

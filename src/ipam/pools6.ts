/**
 * IPv6 subnets for new networks: the pools (`--default-address-pool` with IPv6 bases, or, as in
 * Docker 27+, a unique local /48 of this daemon's own cut in /64s), the choice of a free subnet,
 * and the checks of a requested subnet, gateway and ip-range. Pure: the caller says which
 * subnets are taken.
 *
 * The ULA /48 is fdXX:XXXX:XXXX::/48 with a 40-bit global ID (RFC 4193 3.2) taken from the
 * daemon's random engine id, so two hosts' networks get different prefixes with high probability.
 */
import { createHash } from 'node:crypto';
import { EngineError } from '../base/errors';
import { bigToIp6, contains6, firstHost6, ip6ToBig, last6, overlaps6, parseCidr6, size6, Subnet6 } from './ipam6';
import type { AddressPool } from './pools';

/** A subnet a new network must not overlap, and what holds it (named in the error). */
export interface Taken6 {
  what: string;
  subnet: Subnet6;
}

export const isPool6 = (p: AddressPool): boolean => p.base.includes(':');

/** The ULA pool of an engine: fd + 40 bits of a hash of its id, /48, cut in /64s. */
export function ulaPool(engineId: string): AddressPool {
  const h = createHash('sha256').update(engineId).digest();
  const g = (0xfdn << 40n) | BigInt(`0x${h.subarray(0, 5).toString('hex')}`);
  return { base: bigToIp6(g << 80n) + '/48', size: 64 };
}

/** `--default-address-pool base=fd…::/N,size=M`: M from N to 124 (at least 16 addresses a subnet). */
export function parsePool6(s: string, base: string, size: number): AddressPool {
  const b = parseCidr6(base);
  if (!Number.isInteger(size) || size < 1 || size > 124) throw new Error(`--default-address-pool ${s}: write it as base=CIDR,size=N (N from the base's prefix to 124 for IPv6)`);
  if (size < b.prefixLen) throw new Error(`--default-address-pool ${s}: size /${size} is larger than the base ${b.cidr}`);
  return { base: b.cidr, size };
}

/** The first subnet of the pools that overlaps nothing taken (jumping over taken ranges: a pool may hold 2^64 subnets). */
export function pickSubnet6(taken: readonly Taken6[], pools: readonly AddressPool[]): Subnet6 {
  for (const pool of pools.filter(isPool6)) {
    const base = parseCidr6(pool.base);
    const step = size6({ prefixLen: pool.size });
    for (let n = base.base; n <= last6(base); ) {
      const candidate = parseCidr6(`${bigToIp6(n)}/${pool.size}`);
      const clash = taken.find((t) => overlaps6(t.subnet, candidate));
      if (!clash) return candidate;
      // Past the end of what it overlaps, on the pool's grid.
      const end = last6(clash.subnet) + 1n;
      n = end > n + step ? n + ((end - n + step - 1n) / step) * step : n + step;
    }
  }
  throw new EngineError('ADDRESS_EXHAUSTED', 'all predefined IPv6 address pools have been fully subnetted', {
    hint: 'give an IPv6 --subnet, remove unused networks, or start ctrnetd with --default-address-pool base=fd…::/48,size=64',
  });
}

export interface SubnetRequest6 {
  subnet6?: string;
  gateway6?: string;
  ipRange6?: string;
}

/**
 * Settles a network's IPv6 addressing: the requested subnet (at most /127 wide, overlapping
 * nothing taken) or the first free one of the pools; the gateway (given: inside, not the first
 * address; or the first host address); the ip-range (inside the subnet).
 */
export function settleSubnet6(req: SubnetRequest6, taken: readonly Taken6[], pools: readonly AddressPool[]): { subnet: Subnet6; gateway: string; ipRange?: Subnet6 } {
  let subnet: Subnet6;
  if (req.subnet6) {
    subnet = parseCidr6(req.subnet6);
    if (subnet.prefixLen > 126) throw new EngineError('INVALID_PARAMETER', `subnet ${subnet.cidr} is too small`, { hint: 'use a /64 (or at least a /126)' });
    const clash = taken.find((t) => overlaps6(t.subnet, subnet));
    if (clash) throw new EngineError('CONFLICTING_OPTIONS', `subnet ${subnet.cidr} overlaps ${clash.what} (${clash.subnet.cidr})`, { hint: 'choose a subnet that does not overlap it' });
  } else {
    if (req.gateway6 || req.ipRange6) throw new EngineError('INVALID_PARAMETER', 'an IPv6 --gateway or --ip-range needs an IPv6 --subnet');
    subnet = pickSubnet6(taken, pools);
  }
  let gateway = firstHost6(subnet);
  if (req.gateway6) {
    if (!contains6(subnet, req.gateway6)) throw new EngineError('INVALID_PARAMETER', `gateway ${req.gateway6} is not in subnet ${subnet.cidr}`);
    if (ip6ToBig(req.gateway6) === subnet.base) throw new EngineError('INVALID_PARAMETER', `gateway ${req.gateway6} is the subnet-router address of ${subnet.cidr}`, { hint: 'choose another address' });
    gateway = bigToIp6(ip6ToBig(req.gateway6));
  }
  let ipRange: Subnet6 | undefined;
  if (req.ipRange6) {
    ipRange = parseCidr6(req.ipRange6);
    if (ipRange.base < subnet.base || last6(ipRange) > last6(subnet)) throw new EngineError('INVALID_PARAMETER', `--ip-range ${ipRange.cidr} is not inside subnet ${subnet.cidr}`);
  }
  return { subnet, gateway, ipRange };
}

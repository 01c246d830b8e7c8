/**
 * Subnets for new networks: Docker's address pools, the choice of a free subnet, and the checks of
 * a requested subnet, gateway and ip-range. Pure: the caller says which subnets are taken.
 *
 * Address pools, as Docker's defaults: the first free /16 of 172.17–172.31, then the /20s of
 * 192.168.0.0/16; `--default-address-pool base=CIDR,size=N` replaces them. Overlays take /24s of
 * 10.0.0.0/8 (swarm's default). IPv6 pools and their choice are in pools6.ts.
 */
import { EngineError } from '../base/errors';
import { contains, intToIp, overlaps, parseCidr, Subnet, subnetSize } from './ipam';
import { parsePool6 } from './pools6';

export interface AddressPool {
  base: string;
  size: number;
}

export const DEFAULT_POOLS: AddressPool[] = [
  ...Array.from({ length: 15 }, (_, i) => ({ base: `172.${17 + i}.0.0/16`, size: 16 })),
  { base: '192.168.0.0/16', size: 20 },
];

export const OVERLAY_POOLS: AddressPool[] = [{ base: '10.0.0.0/8', size: 24 }];

/** A subnet a new network must not overlap, and what holds it (named in the error). */
export interface Taken {
  what: string;
  subnet: Subnet;
}

/** Parses `--default-address-pool base=CIDR,size=N` (an IPv4 or an IPv6 base). */
export function parsePool(s: string): AddressPool {
  const kv = Object.fromEntries(s.split(',').map((p) => p.split('=') as [string, string]));
  const size = Number(kv.size);
  if (kv.base?.includes(':')) return parsePool6(s, kv.base, size);
  if (!kv.base || !Number.isInteger(size) || size < 8 || size > 30) throw new Error(`--default-address-pool ${s}: write it as base=CIDR,size=N (N from 8 to 30)`);
  const base = parseCidr(kv.base);
  if (size < base.prefixLen) throw new Error(`--default-address-pool ${s}: size /${size} is larger than the base ${base.cidr}`);
  return { base: base.cidr, size };
}

/** The first subnet of the pools that overlaps nothing taken. */
export function pickSubnet(taken: readonly Taken[], pools: readonly AddressPool[]): Subnet {
  for (const pool of pools) {
    if (pool.base.includes(':')) continue; // an IPv6 pool (pools6.ts)
    const base = parseCidr(pool.base);
    const step = 2 ** (32 - pool.size);
    for (let n = base.base; n < base.base + subnetSize(base); n += step) {
      const candidate = parseCidr(`${intToIp(n)}/${pool.size}`);
      if (!taken.some((t) => overlaps(t.subnet, candidate))) return candidate;
    }
  }
  throw new EngineError('ADDRESS_EXHAUSTED', 'all predefined address pools have been fully subnetted', {
    hint: 'give --subnet, remove unused networks (`ctrnet network prune`), or start ctrnetd with --default-address-pool',
  });
}

export interface SubnetRequest {
  subnet?: string;
  gateway?: string;
  ipRange?: string;
}

/**
 * Settles a network's addressing: the requested subnet (checked: not too small, overlapping
 * nothing taken) or the first free one of the pools; the gateway (given: inside, not the network
 * or broadcast address; or the first host address); the ip-range (inside the subnet).
 */
export function settleSubnet(req: SubnetRequest, taken: readonly Taken[], pools: readonly AddressPool[]): { subnet: Subnet; gateway: string; ipRange?: Subnet } {
  let subnet: Subnet;
  if (req.subnet) {
    subnet = parseCidr(req.subnet);
    if (subnet.prefixLen > 30) throw new EngineError('INVALID_PARAMETER', `subnet ${subnet.cidr} is too small`, { hint: 'use a /30 or larger' });
    const clash = taken.find((t) => overlaps(t.subnet, subnet));
    if (clash) throw new EngineError('CONFLICTING_OPTIONS', `subnet ${subnet.cidr} overlaps ${clash.what} (${clash.subnet.cidr})`, { hint: 'choose a subnet that does not overlap it' });
  } else {
    if (req.gateway || req.ipRange) throw new EngineError('INVALID_PARAMETER', '--gateway and --ip-range need --subnet');
    subnet = pickSubnet(taken, pools);
  }
  let gateway = intToIp(subnet.base + 1);
  if (req.gateway) {
    if (!contains(subnet, req.gateway)) throw new EngineError('INVALID_PARAMETER', `gateway ${req.gateway} is not in subnet ${subnet.cidr}`);
    const n = parseCidr(`${req.gateway}/32`).base;
    if (n === subnet.base || n === subnet.base + subnetSize(subnet) - 1) throw new EngineError('INVALID_PARAMETER', `gateway ${req.gateway} is the network or broadcast address of ${subnet.cidr}`);
    gateway = req.gateway;
  }
  let ipRange: Subnet | undefined;
  if (req.ipRange) {
    ipRange = parseCidr(req.ipRange);
    if (!contains(subnet, intToIp(ipRange.base)) || !contains(subnet, intToIp(ipRange.base + subnetSize(ipRange) - 1))) {
      throw new EngineError('INVALID_PARAMETER', `--ip-range ${ipRange.cidr} is not inside subnet ${subnet.cidr}`);
    }
  }
  return { subnet, gateway, ipRange };
}

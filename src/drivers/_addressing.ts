/**
 * A new network's addressing in both families, as every driver with endpoints settles it: IPv4
 * (unless `--ipv4=false`) from the request or the pools, IPv6 (with `--ipv6`, or when an IPv6
 * subnet is given) from the request or the IPv6 pools, IPAM's auxiliary addresses each checked in
 * the subnet of its family. Pure: the caller says what is taken.
 */
import { EngineError } from '../base/errors';
import { Network } from '../base/model';
import { checkAuxAddresses } from '../ipam/ipam';
import { contains6, ip6ToBig } from '../ipam/ipam6';
import { AddressPool, settleSubnet } from '../ipam/pools';
import { settleSubnet6 } from '../ipam/pools6';
import { NetworkRequest, TakenSubnet, TakenSubnet6 } from './driver';

export type Addressing = Pick<Network, 'subnet' | 'gateway' | 'ipRange' | 'subnet6' | 'gateway6' | 'ipRange6' | 'ipv4'>;

/** Whether a request asks for IPv6 (EnableIPv6, or an IPv6 subnet given). */
export const wantsIpv6 = (req: NetworkRequest): boolean => req.ipv6 === true || !!req.subnet6;

export function settleAddressing(req: NetworkRequest, taken: readonly TakenSubnet[], taken6: readonly TakenSubnet6[], pools: readonly AddressPool[], pools6: readonly AddressPool[]): Addressing {
  const v4 = req.ipv4 !== false;
  const v6 = wantsIpv6(req);
  if (!v4 && !v6) throw new EngineError('INVALID_PARAMETER', 'a network needs IPv4 or IPv6: --ipv4=false goes with --ipv6', { hint: 'add --ipv6 (and an IPv6 --subnet, or one comes from the pools)' });
  if (!v4 && (req.subnet || req.gateway || req.ipRange)) {
    throw new EngineError('INVALID_PARAMETER', `network ${req.name} has no IPv4 (--ipv4=false), but an IPv4 ${req.subnet ? `subnet ${req.subnet}` : req.gateway ? `gateway ${req.gateway}` : `ip-range ${req.ipRange}`} was given`, { hint: 'drop the IPv4 options or --ipv4=false' });
  }
  const out: Addressing = {};
  const aux = Object.entries(req.auxAddresses ?? {});
  if (v4) {
    const { subnet, gateway, ipRange } = settleSubnet(req, taken, pools);
    out.subnet = subnet.cidr;
    out.gateway = gateway;
    if (ipRange) out.ipRange = ipRange.cidr;
    checkAuxAddresses(subnet, gateway, Object.fromEntries(aux.filter(([, ip]) => !ip.includes(':'))));
  } else {
    out.ipv4 = false;
  }
  if (v6) {
    const { subnet, gateway, ipRange } = settleSubnet6(req, taken6, pools6);
    out.subnet6 = subnet.cidr;
    out.gateway6 = gateway;
    if (ipRange) out.ipRange6 = ipRange.cidr;
    for (const [name, ip] of aux.filter(([, a]) => a.includes(':'))) {
      if (!contains6(subnet, ip)) throw new EngineError('INVALID_PARAMETER', `auxiliary address: (${name}:${ip}) must belong to the master pool: ${subnet.cidr}`);
      if (ip6ToBig(ip) === ip6ToBig(gateway)) throw new EngineError('INVALID_PARAMETER', `auxiliary address ${name}=${ip} is the gateway of the network`, { hint: 'choose another address' });
    }
  } else {
    const v6aux = aux.find(([, ip]) => ip.includes(':'));
    if (v6aux) throw new EngineError('INVALID_PARAMETER', `auxiliary address ${v6aux[0]}=${v6aux[1]} is IPv6, and network ${req.name} has no IPv6`, { hint: 'add --ipv6' });
  }
  return out;
}

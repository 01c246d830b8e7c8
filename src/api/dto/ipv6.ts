/**
 * Docker's JSON for IPv6 (and what dual-stack changes in the IPv4 fields): a network's IPAM
 * configs (one per family), EnableIPv6/EnableIPv4, the create request's per-family subnets,
 * an endpoint's IPv6 fields, IPAMConfig.IPv6Address, and IPv6 host addresses of port bindings.
 * Kept apart so that the container and network DTOs only call it.
 */
import { EngineError } from '../../base/errors';
import { isIPv4, isIPv6 } from '../../base/ip';
import { Endpoint, Network, PortMapping } from '../../base/model';
import { Json, obj, str, stringMap } from './common';

const prefixOf = (cidr: string | undefined): number => Number(cidr?.split('/')[1] ?? 0);

/**
 * IPAM.Config: the IPv4 config, then the IPv6 one, each with its range, gateway (Docker 20.10
 * shows none for the default bridge) and auxiliary addresses of its family.
 */
export function ipamConfigs(n: Network, predefined: boolean): Json[] {
  const aux = Object.entries(n.auxAddresses ?? {});
  const auxOf = (v6: boolean) => {
    const mine = aux.filter(([, ip]) => ip.includes(':') === v6);
    return mine.length ? { AuxiliaryAddresses: Object.fromEntries(mine) } : {};
  };
  const out: Json[] = [];
  if (n.subnet) out.push({ Subnet: n.subnet, ...(n.ipRange ? { IPRange: n.ipRange } : {}), ...(predefined ? {} : { Gateway: n.gateway }), ...auxOf(false) });
  if (n.subnet6) out.push({ Subnet: n.subnet6, ...(n.ipRange6 ? { IPRange: n.ipRange6 } : {}), Gateway: n.gateway6, ...auxOf(true) });
  return out;
}

/** EnableIPv6, and EnableIPv4 (API 1.48): whether the network has each family. */
export const enableFlags = (n: Network): { EnableIPv6: boolean; EnableIPv4: boolean } => ({ EnableIPv6: !!n.subnet6, EnableIPv4: n.ipv4 !== false });

/** A member's IPv4Address and IPv6Address in a network's Containers, with their prefixes. */
export function memberAddresses(n: Network, ep: Endpoint): { IPv4Address: string; IPv6Address: string } {
  return { IPv4Address: ep.ip ? `${ep.ip}/${prefixOf(n.subnet) || 32}` : '', IPv6Address: ep.ip6 ? `${ep.ip6}/${prefixOf(n.subnet6)}` : '' };
}

/** An endpoint's IPv6 fields in a container's NetworkSettings (zero values without IPv6). */
export function endpointIpv6(n: Network | undefined, ep: Endpoint | undefined): { IPv6Gateway: string; GlobalIPv6Address: string; GlobalIPv6PrefixLen: number } {
  if (!n || !ep?.ip6) return { IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0 };
  return { IPv6Gateway: n.gateway6 ?? '', GlobalIPv6Address: ep.ip6, GlobalIPv6PrefixLen: prefixOf(n.subnet6) };
}

/**
 * What a network create body asks of addressing: IPAM.Config entries sorted by family (one each
 * at most), EnableIPv6 (an IPv6 config implies it) and EnableIPv4 (false: IPv6 only), auxiliary
 * addresses of both configs together.
 */
export function createAddressing(body: Json): {
  subnet?: string; gateway?: string; ipRange?: string;
  subnet6?: string; gateway6?: string; ipRange6?: string;
  ipv6?: boolean; ipv4?: boolean; auxAddresses?: Record<string, string>;
} {
  const ipam = obj(body.IPAM, 'IPAM');
  const configs = Array.isArray(ipam.Config) ? (ipam.Config as unknown[]).map((c) => obj(c, 'IPAM.Config[]')) : [];
  const v4: Json[] = [];
  const v6: Json[] = [];
  for (const c of configs) {
    const subnet = str(c.Subnet, 'Subnet');
    const probe = (subnet.split('/')[0] || str(c.Gateway, 'Gateway') || str(c.IPRange, 'IPRange').split('/')[0]);
    if (probe.includes(':')) v6.push(c);
    else v4.push(c);
  }
  if (v4.length > 1 || v6.length > 1) {
    throw new EngineError('NOT_IMPLEMENTED', 'one IPAM config (one subnet) per address family per network is supported', { hint: 'give at most one IPv4 and one IPv6 subnet' });
  }
  const [c4 = {}, c6 = {}] = [v4[0], v6[0]];
  const aux = { ...stringMap(c4.AuxiliaryAddresses, 'AuxiliaryAddresses'), ...stringMap(c6.AuxiliaryAddresses, 'AuxiliaryAddresses') };
  for (const [k, ip] of Object.entries(stringMap(c4.AuxiliaryAddresses, 'AuxiliaryAddresses'))) if (ip.includes(':')) throw new EngineError('INVALID_PARAMETER', `auxiliary address ${k}=${ip} is IPv6, in the IPv4 config`);
  if (body.EnableIPv6 !== undefined && body.EnableIPv6 !== null && typeof body.EnableIPv6 !== 'boolean') throw new EngineError('INVALID_PARAMETER', 'EnableIPv6 must be a boolean');
  if (body.EnableIPv4 !== undefined && body.EnableIPv4 !== null && typeof body.EnableIPv4 !== 'boolean') throw new EngineError('INVALID_PARAMETER', 'EnableIPv4 must be a boolean');
  const subnet6 = str(c6.Subnet, 'Subnet') || undefined;
  return {
    subnet: str(c4.Subnet, 'Subnet') || undefined,
    gateway: str(c4.Gateway, 'Gateway') || undefined,
    ipRange: str(c4.IPRange, 'IPRange') || undefined,
    ...(v6.length ? { subnet6, gateway6: str(c6.Gateway, 'Gateway') || undefined, ipRange6: str(c6.IPRange, 'IPRange') || undefined } : {}),
    ...(body.EnableIPv6 === true || v6.length ? { ipv6: true } : {}),
    ...(body.EnableIPv4 === false ? { ipv4: false } : {}),
    ...(Object.keys(aux).length ? { auxAddresses: aux } : {}),
  };
}

/** IPAMConfig.IPv6Address of an endpoint config (checked), or undefined. */
export function ipv6AddressOf(ipam: Json): string | undefined {
  const ip6 = str(ipam.IPv6Address, 'IPv6Address') || undefined;
  if (ip6 && !isIPv6(ip6)) throw new EngineError('INVALID_PARAMETER', `invalid IPv6 address: ${ip6}`);
  return ip6;
}

/** An endpoint's IPAMConfig as Docker echoes it: the addresses asked for. */
export function ipamConfigJson(cfg: { ipv4?: string; ipv6?: string; linkLocalIps?: string[] } | undefined): Json | undefined {
  if (!cfg?.ipv4 && !cfg?.ipv6 && !cfg?.linkLocalIps?.length) return undefined;
  return { ...(cfg.ipv4 ? { IPv4Address: cfg.ipv4 } : {}), ...(cfg.ipv6 ? { IPv6Address: cfg.ipv6 } : {}), ...(cfg.linkLocalIps?.length ? { LinkLocalIPs: cfg.linkLocalIps } : {}) };
}

/** A link-local address of --link-local-ip: IPv4 in 169.254.0.0/16 or IPv6 in fe80::/10. */
export const isLinkLocal = (ip: string): boolean => (isIPv4(ip) && /^169\.254\./.test(ip)) || (isIPv6(ip) && /^fe[89ab][0-9a-f]:/i.test(ip));

/** A port binding's HostIp: "" (every address of both families), an IPv4 address, or an IPv6 one (lower case). */
export function hostIpOf(v: string, port: string): string {
  if (v === '') return '';
  if (isIPv4(v)) return v;
  const bare = v.replace(/^\[(.*)\]$/, '$1');
  if (isIPv6(bare)) return bare.toLowerCase();
  throw new EngineError('INVALID_PORT_SPEC', `invalid host address "${v}" for port ${port}`, { hint: 'give an IPv4 or IPv6 address' });
}

/**
 * A published port in NetworkSettings.Ports: { HostIp, HostPort }. A routed IPv6 port (opened on
 * the container's own address) has no host port: Docker shows it as { "::", "" }.
 */
export function portBindingJson(r: PortMapping): Json {
  return r.hostIp === r.containerIp ? { HostIp: '::', HostPort: '' } : { HostIp: r.hostIp, HostPort: String(r.hostPort) };
}

/** A published port in the container list's Ports (a routed one without PublicPort). */
export function portSummaryJson(r: PortMapping): { IP: string; PrivatePort: number; PublicPort: number; Type: string } {
  if (r.hostIp === r.containerIp) return { IP: '::', PrivatePort: r.containerPort, Type: r.proto } as { IP: string; PrivatePort: number; PublicPort: number; Type: string };
  return { IP: r.hostIp, PrivatePort: r.containerPort, PublicPort: r.hostPort, Type: r.proto };
}

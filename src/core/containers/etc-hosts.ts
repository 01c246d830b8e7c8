/**
 * What a container's /etc/hosts holds after localhost, and the environment its legacy links
 * give it, as Docker 20.10 writes them:
 *   --add-host NAME:IP      "IP\tNAME" (IP "host-gateway": the host's address, see hostGateway)
 *   --link TARGET:ALIAS     on the default bridge: "IP\tALIAS SHORTID TARGET" and ALIAS_PORT,
 *                           ALIAS_PORT_80_TCP(_ADDR|_PORT|_PROTO), ALIAS_NAME, ALIAS_ENV_*;
 *                           on other networks a name the embedded resolver answers (dns-names.ts)
 *   its own address          "IP\tHOSTNAME"
 *
 * Limitations: contiguous exposed port ranges do not get Docker's *_START / *_END variables.
 */
import { ContainerSpec, Link } from '../../base/container-spec';
import { EngineError } from '../../base/errors';
import { isIPv6 } from '../../base/ip';
import { Container, Endpoint, Network } from '../../base/model';
import { shortId } from '../../base/names';

/** The word Docker accepts in place of an address in --add-host. */
export const HOST_GATEWAY = 'host-gateway';

/** "NAME:IP" (IPv4, or host-gateway) → its parts; Docker's words when it is malformed. */
export function parseExtraHost(entry: string): { name: string; ip: string } {
  const i = entry.indexOf(':');
  if (i <= 0) throw new EngineError('INVALID_PARAMETER', `bad format for add-host: ${JSON.stringify(entry)}`, { hint: 'write it as NAME:IP, e.g. db:10.0.0.5 or gw:host-gateway' });
  const name = entry.slice(0, i);
  // An IPv6 address as it is or in brackets (NAME:2001:db8::1, NAME:[2001:db8::1]), as Docker takes it.
  const ip = entry.slice(i + 1).replace(/^\[(.*)\]$/, '$1');
  if (ip !== HOST_GATEWAY && !/^(\d{1,3})(\.\d{1,3}){3}$/.test(ip) && !isIPv6(ip)) throw new EngineError('INVALID_PARAMETER', `invalid IP address in add-host: ${JSON.stringify(ip)}`);
  if (/\s/.test(name)) throw new EngineError('INVALID_PARAMETER', `bad format for add-host: ${JSON.stringify(entry)}`);
  return { name, ip };
}

/** "TARGET[:ALIAS]" → its parts (the target as given: resolved to an id by the caller). */
export function parseLink(entry: string): { target: string; alias: string } {
  const [target, alias, extra] = entry.split(':');
  if (!target || extra !== undefined || alias === '') throw new EngineError('INVALID_PARAMETER', `invalid link: ${JSON.stringify(entry)}`, { hint: 'write it as NAME[:ALIAS]' });
  const t = target.replace(/^\//, '');
  return { target: t, alias: (alias ?? t).replace(/^\/[^/]*\//, '').replace(/^\//, '') };
}

/** A legacy link as start resolves it: the target and its address on the default bridge. */
export interface ResolvedLink {
  link: Link;
  target: Container;
  ip: string;
}

/** The lines of /etc/hosts after localhost's. `hostGateway`: the address host-gateway stands for. */
export function hostsLines(spec: ContainerSpec, eps: Endpoint[], links: ResolvedLink[], hostGateway: string): string[] {
  const lines: string[] = [];
  for (const e of spec.extraHosts ?? []) {
    const { name, ip } = parseExtraHost(e);
    lines.push(`${ip === HOST_GATEWAY ? hostGateway : ip}\t${name}`);
  }
  for (const l of links) lines.push(`${l.ip}\t${l.link.alias} ${shortId(l.target.id)} ${l.target.name}`);
  const names = spec.domainname ? `${spec.hostname}.${spec.domainname} ${spec.hostname}` : spec.hostname;
  for (const e of eps) {
    if (e.ip) lines.push(`${e.ip}\t${names}`);
    if (e.ip6) lines.push(`${e.ip6}\t${names}`);
  }
  return lines;
}

/** The ports a container exposes, "80/tcp", sorted as Docker sorts them for links (number, then tcp before udp). */
export function exposedOf(spec: ContainerSpec): { port: number; proto: string }[] {
  const keys = new Set([...spec.exposedPorts, ...spec.portBindings.map((b) => `${b.containerPort}/${b.proto}`)]);
  return [...keys]
    .map((k) => {
      const [port, proto = 'tcp'] = k.split('/');
      return { port: Number(port), proto };
    })
    .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
}

/** Docker's legacy link variables for one link of container `self`. */
export function linkEnv(self: Container, l: ResolvedLink): string[] {
  const alias = l.link.alias.toUpperCase().replace(/-/g, '_');
  const ports = exposedOf(l.target.spec);
  const env: string[] = [];
  if (ports.length) env.push(`${alias}_PORT=${ports[0].proto}://${l.ip}:${ports[0].port}`);
  for (const p of ports) {
    const k = `${alias}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env.push(`${k}=${p.proto}://${l.ip}:${p.port}`, `${k}_ADDR=${l.ip}`, `${k}_PORT=${p.port}`, `${k}_PROTO=${p.proto}`);
  }
  env.push(`${alias}_NAME=/${self.name}/${l.link.alias}`);
  for (const v of l.target.spec.env) {
    const i = v.indexOf('=');
    if (i <= 0) continue;
    const name = v.slice(0, i);
    // Docker leaves out what every image sets and means nothing to the linking container.
    if (name === 'HOME' || name === 'PATH') continue;
    env.push(`${alias}_ENV_${name}=${v.slice(i + 1)}`);
  }
  return env;
}

/**
 * The address `host-gateway` stands for: the host's address on the container's first network that
 * has one (a bridge holding its gateway, the way out), else the default bridge's gateway. Docker
 * always uses the default bridge's; ctrnet's isolation drops traffic from a user-defined network
 * to another network's gateway, so the container's own gateway is the host address it can reach.
 */
export function hostGateway(eps: Endpoint[], netOf: (id: string) => Network | undefined, isOwnWayOut: (n: Network) => boolean, defaultGateway: string): string {
  for (const e of eps) {
    const n = netOf(e.networkId);
    if (n?.bridge && n.gateway && isOwnWayOut(n)) return n.gateway;
  }
  return defaultGateway;
}

/**
 * A container's /etc/resolv.conf, as Docker decides it: --dns when given; on a network whose
 * driver serves DNS, the embedded resolver at that network's gateway (Docker's 127.0.0.11), also
 * for an overlay through its way-out network; otherwise the host's, filtered as Docker does.
 */
import { readFile } from 'node:fs/promises';
import { attachments, ContainerSpec } from '../../base/container-spec';
import { Networks } from '../networks';

export async function resolvConf(spec: ContainerSpec, hostNet: boolean, networks: Networks): Promise<string> {
  if (spec.dns.length) return spec.dns.map((d) => `nameserver ${d}`).join('\n') + '\n';
  const first = attachments(spec)[0];
  let net = first ? networks.find(first) : undefined;
  // A network without a resolver of its own (an overlay) is served on its way-out network.
  const out = net && networks.driver(net).wayOut(net);
  if (net && !networks.driver(net).servesDns(net) && out?.kind === 'via') net = networks.find(out.network.name);
  if (net && networks.driver(net).servesDns(net)) return `nameserver ${net.gateway}\noptions ndots:0\n`;
  return hostResolvConf(hostNet);
}

/**
 * The host's resolv.conf as Docker hands it to bridge containers: loopback name servers cannot be
 * reached from another namespace, so they are dropped, and Google's servers stand in when none is left.
 */
export async function hostResolvConf(hostNet: boolean): Promise<string> {
  const host = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
  if (hostNet) return host;
  const lines = host.split('\n').filter((l) => !/^\s*nameserver\s+(127\.|::1)/.test(l));
  if (!lines.some((l) => /^\s*nameserver\s/.test(l))) lines.push('nameserver 8.8.8.8', 'nameserver 8.8.4.4');
  return lines.join('\n').trim() + '\n';
}

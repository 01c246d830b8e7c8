/**
 * A container's /etc/resolv.conf, as Docker writes it. With embedded DNS (one of its networks has
 * it): `nameserver 127.0.0.11` (the resolver inside the sandbox, which forwards to the --dns
 * servers), and `options ndots:0` unless an ndots option is given. Otherwise the --dns servers, or
 * the host's (loopback ones dropped outside host mode: they cannot be reached from another
 * namespace, and Google's stand in when none is left). --dns-search and --dns-option replace the
 * host's search domains and options; without them the host's are kept.
 */
import { readFile } from 'node:fs/promises';
import { ContainerSpec } from '../../base/container-spec';
import { EMBEDDED_DNS } from '../../dns/resolver';

interface Parsed {
  nameservers: string[];
  search: string[];
  options: string[];
}

function parse(text: string): Parsed {
  const out: Parsed = { nameservers: [], search: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.nameservers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.search = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}

function render(p: Parsed): string {
  const lines: string[] = [];
  if (p.search.length) lines.push(`search ${p.search.join(' ')}`);
  for (const n of p.nameservers) lines.push(`nameserver ${n}`);
  if (p.options.length) lines.push(`options ${p.options.join(' ')}`);
  return lines.join('\n') + '\n';
}

export async function resolvConf(spec: ContainerSpec, hostNet: boolean, embedded: boolean, hostFile = '/etc/resolv.conf'): Promise<string> {
  const text = await readFile(hostFile, 'utf8').catch(() => '');
  const host = parse(text);
  const search = spec.dnsSearch?.length ? spec.dnsSearch : host.search;
  const given = spec.dnsOptions?.length ? spec.dnsOptions : host.options;
  if (embedded) {
    const options = given.some((o) => o.startsWith('ndots:')) ? given : [...given, 'ndots:0'];
    return render({ nameservers: [EMBEDDED_DNS], search, options });
  }
  if (hostNet && !spec.dns.length && !spec.dnsSearch?.length && !spec.dnsOptions?.length) return text;
  let nameservers = spec.dns.length ? spec.dns : host.nameservers;
  if (!hostNet && !spec.dns.length) {
    nameservers = nameservers.filter((n) => !/^(127\.|::1$)/.test(n));
    if (!nameservers.length) nameservers = ['8.8.8.8', '8.8.4.4'];
  }
  return render({ nameservers, search, options: given });
}

/**
 * `ctrnet explain`: every kernel object that gives a container its network, read from the kernel
 * (links, addresses, routes, bridge ports, nftables rules and counters, VXLAN FDB and neighbours),
 * then compared with the state store: any difference is reported as a mismatch (a bug or a
 * tampering). Facts are plain data (`--json`, the types in base/explanation.ts); view/explain-text.ts
 * says them in English or Chinese.
 */
import { readFile } from 'node:fs/promises';
import { modeOf } from '../base/container-spec';
import { EngineError } from '../base/errors';
import { Container } from '../base/model';
import { Paths, paths } from '../base/names';
import { Firewall } from '../firewall/firewall';
import { Kernel } from '../kernel/kernel';
import { FastPath } from '../kernel/fast-path';
import { OPT_ICC } from '../base/network-options';
import { Repos } from '../state/repos';
import { Networks } from './networks';
import { Sandboxes } from './sandbox';
import { Attachment } from '../base/attachment';
import { Explanation } from '../base/explanation';
import { Endpoint, PublishedPort } from '../base/model';

/** What explain reads: the records (through the services), the kernel and the firewall. */
export interface ExplainDeps {
  p: Paths;
  repo: Pick<Repos, 'containers' | 'endpoints' | 'ports' | 'attachments'>;
  networks: Networks;
  sandboxes: Sandboxes;
  firewall: Firewall;
  kernel: Kernel;
  /** whether iptables' FORWARD policy drops what is not accepted (dockerd's), checked for sandboxes of other runtimes */
  forwardDrop?: () => Promise<boolean>;
  /** the fast path between endpoints (absent: none to describe) */
  fastPath?: FastPath;
  /** br_netfilter's switches in the daemon's namespace, read from the kernel */
  bridgeNetfilter?: () => Promise<{ present: boolean; on: boolean; why: string }>;
}

export async function explain(d: ExplainDeps, idOrName: string): Promise<Explanation> {
  const c = d.repo.containers.get(idOrName);
  if (!c) {
    const a = d.repo.attachments.get(idOrName);
    if (a) return explainAttachment(d, a);
    throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${idOrName}`);
  }
  const mode = modeOf(c.spec.networkMode);
  const x: Explanation = {
    container: { id: c.id, name: c.name, status: c.status },
    mode: mode.kind === 'network' ? (mode.network === 'bridge' ? 'bridge' : 'network') : mode.kind,
    interfaces: [],
    routes: [],
    dns: [],
    nat: { rules: [], ports: [] },
    overlays: [],
    mismatches: [],
  };
  if (c.status !== 'running') return x;
  if (mode.kind === 'container') x.joinedTo = d.repo.containers.get(mode.target)?.name ?? mode.target;
  const resolv = await readFile(`${paths.bundle(d.p, c.id)}/resolv.conf`, 'utf8').catch(() => '');
  x.dns = [...resolv.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);
  if (mode.kind === 'host') return x;

  const ns = d.sandboxes.netnsOf(c);
  const running = d.repo.containers.list().filter((o) => o.status === 'running');
  const owner: Container | undefined = running.find((o) => d.sandboxes.netnsOf(o) === ns && modeOf(o.spec.networkMode).kind !== 'container');
  x.namespace = { path: ns, sharedWith: running.filter((o) => o.id !== c.id && d.sandboxes.netnsOf(o) === ns).map((o) => o.name) };
  const endpoints = owner ? d.repo.endpoints.list({ containerId: owner.id }) : [];
  await readSandbox(d, x, ns, endpoints, owner ? d.repo.ports.list(owner.id) : []);
  return x;
}

/**
 * A sandbox ctrnet did not make (attached through the CNI or Docker plugin): the same reading of
 * its namespace, its endpoints and ports from the attachment's records.
 */
async function explainAttachment(d: ExplainDeps, a: Attachment): Promise<Explanation> {
  const x: Explanation = {
    container: { id: a.id, name: a.name, status: 'running' },
    mode: 'network', external: { kind: a.kind, ref: a.ref },
    interfaces: [], routes: [], dns: [], nat: { rules: [], ports: [] }, overlays: [], mismatches: [],
  };
  if (!a.netns) return x;
  x.namespace = { path: a.netns, sharedWith: [] };
  // dockerd moves the Docker plugin's veths in itself: those endpoints are never fast-pathed (drivers: runtimeMoves).
  await readSandbox(d, x, a.netns, d.repo.endpoints.list({ containerId: a.id }), d.repo.ports.list(a.id), a.kind === 'docker');
  if (d.forwardDrop && (await d.forwardDrop())) {
    x.mismatches.push('the iptables FORWARD policy is DROP (dockerd sets it when it turned on ip_forward itself) and the kernel applies it to bridged traffic (br_netfilter): run `iptables -P FORWARD ACCEPT`, or start ctrnetd before dockerd');
  }
  return x;
}

/** Reads a namespace's interfaces, routes, firewall elements and overlay entries into `x`, and compares them with the records. */
async function readSandbox(d: ExplainDeps, x: Explanation, ns: string, endpoints: Endpoint[], ports: PublishedPort[], runtimeMoved = false): Promise<void> {
  const inside = d.kernel.at(ns);
  // IPv6 is read where the sandbox has it (a sandbox without IPv6 networks has it off).
  const six = endpoints.some((ep) => !!ep.ip6);
  const [links, addrs4, routes4, hostLinks, addrs6, routes6] = await Promise.all([
    inside.linkList(), inside.addrList(), inside.routeList(), d.kernel.linkList(),
    six ? inside.addrList(6) : [], six ? inside.routeList(6) : [],
  ]);
  // Link-local and multicast routes of IPv6 say nothing a container's user needs.
  const routes = [...routes4, ...routes6.filter((r) => !/^(fe80|ff00)::/.test(r.dst))];
  const addrs = [...addrs4, ...addrs6];
  x.routes = routes.map((r) => ({ dst: r.dst, via: r.gateway, dev: r.dev }));
  const netOf = (networkId: string) => d.networks.find(networkId);
  for (const l of links) {
    if (l.name === 'lo' && addrs.filter((a) => a.dev === 'lo').length === 0 && !l.up) continue;
    // An interface its runtime moved in and renamed (Docker's plugin path) is found by its MAC.
    const ep = endpoints.find((p) => p.ifName === l.name) ?? endpoints.find((p) => p.mac === l.mac && !links.some((o) => o.name === p.ifName));
    const peer = ep ? hostLinks.find((h) => h.name === ep.hostIf) : undefined;
    x.interfaces.push({
      name: l.name,
      mac: l.mac,
      mtu: l.mtu,
      up: l.up,
      addresses: addrs.filter((a) => a.dev === l.name).map((a) => `${a.address}/${a.prefixLen}`),
      network: ep ? netOf(ep.networkId)?.name : undefined,
      hostPeer: peer ? { name: peer.name, bridge: peer.master, up: peer.up } : undefined,
    });
  }

  // The store against the kernel.
  for (const ep of endpoints) {
    const net = netOf(ep.networkId);
    const i = x.interfaces.find((f) => f.name === ep.ifName) ?? x.interfaces.find((f) => f.mac === ep.mac);
    if (!i) {
      x.mismatches.push(`the store has ${ep.ifName} (${[ep.ip, ep.ip6].filter(Boolean).join(", ")}) on ${net?.name}, the namespace has no such interface`);
      continue;
    }
    for (const ip of [ep.ip, ep.ip6]) if (ip && !i.addresses.some((a) => a.startsWith(`${ip}/`))) x.mismatches.push(`${ep.ifName} should have ${ip}, it has ${i.addresses.join(', ') || 'no address'}`);
    if (i.mac !== ep.mac) x.mismatches.push(`${ep.ifName} should have MAC ${ep.mac}, it has ${i.mac}`);
    // Only bridge-like networks have a host end (a macvlan or ipvlan link has none).
    if (!net?.bridge) continue;
    if (!i.hostPeer) x.mismatches.push(`the host end ${ep.hostIf} of ${ep.ifName} is missing`);
    else if (i.hostPeer.bridge !== net.bridge) x.mismatches.push(`${ep.hostIf} should be a port of ${net.bridge}, it is ${i.hostPeer.bridge ? `a port of ${i.hostPeer.bridge}` : 'on no bridge'}`);
  }

  const fw = await d.firewall.describe();
  const subnets = endpoints.flatMap((ep) => [netOf(ep.networkId)?.subnet, netOf(ep.networkId)?.subnet6]).filter((s): s is string => !!s);
  x.nat.rules = fw.rules.filter((r) => subnets.some((s) => r.includes(s)));
  const ips = new Set(endpoints.flatMap((ep) => [ep.ip, ep.ip6 ?? '']).filter(Boolean));
  x.nat.ports = fw.ports.filter((p) => ips.has(p.containerIp)).map((p) => ({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, target: p.containerIp.includes(':') ? `[${p.containerIp}]:${p.containerPort}` : `${p.containerIp}:${p.containerPort}`, packets: p.packets }));
  for (const p of ports) {
    // A routed IPv6 port is a set element, not a map one: it has no host port to find.
    if (p.hostIp === p.containerIp) continue;
    if (!x.nat.ports.some((k) => k.hostPort === p.hostPort && k.proto === p.proto && k.hostIp === p.hostIp)) {
      x.mismatches.push(`published port ${p.hostIp}:${p.hostPort}/${p.proto} → ${p.containerIp}:${p.containerPort} is in the store but not in nftables`);
    }
  }
  if (!fw.present && fw.expected) x.mismatches.push('the nftables table ip ctrnet is missing');

  if (d.bridgeNetfilter && endpoints.some((ep) => netOf(ep.networkId)?.bridge)) {
    const b = await d.bridgeNetfilter();
    if (b.present) x.bridgeNetfilter = { on: b.on, why: b.why };
  }
  // The fast path: bridge networks that let containers talk to each other, and overlays; IPv4 endpoints only.
  const bridged = runtimeMoved ? [] : endpoints.filter((ep) => ['bridge', 'overlay'].includes(netOf(ep.networkId)?.driver ?? '') && !!ep.ip);
  if (d.fastPath && bridged.length) {
    const f = await d.fastPath.describe(bridged.map((ep) => ep.hostIf));
    x.fastPath = { active: f.active, why: f.why, redirected: f.redirected, ports: bridged.map((ep) => ({ hostIf: ep.hostIf, attached: f.attached.includes(ep.hostIf) })) };
    for (const ep of bridged) {
      const icc = netOf(ep.networkId)?.options[OPT_ICC] !== 'false';
      const on = f.attached.includes(ep.hostIf);
      if (f.active && icc && !on) x.mismatches.push(`the fast-path program is missing on ${ep.hostIf}`);
      if (!icc && on) x.mismatches.push(`${ep.hostIf} carries the fast-path program, but its network has inter-container traffic off`);
    }
  }

  for (const ep of endpoints) {
    const net = netOf(ep.networkId);
    const facts = net && (await d.networks.driver(net).describe(net));
    if (net && facts) x.overlays.push({ network: net.name, vxlan: facts.device, vni: facts.vni, fdb: facts.fdb, neighbours: facts.neighbours });
  }
}

/**
 * `ctrnet explain`: every kernel object that gives a container its network, read from the kernel
 * (links, addresses, routes, bridge ports, nftables rules and counters, VXLAN FDB and neighbours),
 * then compared with the state store: any difference is reported as a mismatch (a bug or a
 * tampering). Facts are plain data (`--json`, the types in base/explanation.ts); view/explain-text.ts
 * says them in English or Chinese.
 */
import { readFile } from 'node:fs/promises';
import { ContainerSpec } from '../base/container-spec';
import { Engine } from './engine';
import { paths, vxlanName } from '../base/names';
import { modeOf } from './sandbox';
import { Kernel } from '../kernel/kernel';
import { OPT_VNI } from './overlay';
import { Explanation } from '../base/explanation';

export async function explain(e: Engine, kernel: Kernel, idOrName: string): Promise<Explanation> {
  const c = e.containers.get(idOrName);
  const spec = JSON.parse(c.spec) as ContainerSpec;
  const mode = modeOf(spec.networkMode);
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
  if (mode.kind === 'container') x.joinedTo = e.store.container(mode.target)?.name ?? mode.target;
  const resolv = await readFile(`${paths.bundle({ root: e.info.root, execRoot: e.info.execRoot }, c.id)}/resolv.conf`, 'utf8').catch(() => '');
  x.dns = [...resolv.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]);
  if (mode.kind === 'host') return x;

  const ns = e.sandboxes.netnsOf(c);
  const owner = e.store.containers().find((o) => o.status === 'running' && e.sandboxes.netnsOf(o) === ns && modeOf((JSON.parse(o.spec) as ContainerSpec).networkMode).kind !== 'container');
  x.namespace = {
    path: ns,
    sharedWith: e.store.containers().filter((o) => o.id !== c.id && o.status === 'running' && e.sandboxes.netnsOf(o) === ns).map((o) => o.name),
  };
  const inside = kernel.at(ns);
  const [links, addrs, routes, hostLinks] = await Promise.all([inside.linkList(), inside.addrList(), inside.routeList(), kernel.linkList()]);
  x.routes = routes.map((r) => ({ dst: r.dst, via: r.gateway, dev: r.dev }));
  const endpoints = owner ? e.store.endpoints({ containerId: owner.id }) : [];
  for (const l of links) {
    if (l.name === 'lo' && addrs.filter((a) => a.dev === 'lo').length === 0 && !l.up) continue;
    const ep = endpoints.find((p) => p.if_name === l.name);
    const peer = ep ? hostLinks.find((h) => h.name === ep.host_if) : undefined;
    x.interfaces.push({
      name: l.name,
      mac: l.mac,
      mtu: l.mtu,
      up: l.up,
      addresses: addrs.filter((a) => a.dev === l.name).map((a) => `${a.address}/${a.prefixLen}`),
      network: ep ? e.store.network(ep.network_id)?.name : undefined,
      hostPeer: peer ? { name: peer.name, bridge: peer.master, up: peer.up } : undefined,
    });
  }

  // The store against the kernel.
  for (const ep of endpoints) {
    const net = e.store.network(ep.network_id);
    const i = x.interfaces.find((f) => f.name === ep.if_name);
    if (!i) {
      x.mismatches.push(`the store has ${ep.if_name} (${ep.ip}) on ${net?.name}, the namespace has no such interface`);
      continue;
    }
    if (!i.addresses.some((a) => a.startsWith(`${ep.ip}/`))) x.mismatches.push(`${ep.if_name} should have ${ep.ip}, it has ${i.addresses.join(', ') || 'no address'}`);
    if (i.mac !== ep.mac) x.mismatches.push(`${ep.if_name} should have MAC ${ep.mac}, it has ${i.mac}`);
    if (!i.hostPeer) x.mismatches.push(`the host end ${ep.host_if} of ${ep.if_name} is missing`);
    else if (net?.bridge && i.hostPeer.bridge !== net.bridge) x.mismatches.push(`${ep.host_if} should be a port of ${net.bridge}, it is ${i.hostPeer.bridge ? `a port of ${i.hostPeer.bridge}` : 'on no bridge'}`);
  }

  const fw = await e.firewall.describe();
  const subnets = endpoints.map((ep) => e.store.network(ep.network_id)?.subnet).filter((s): s is string => !!s);
  x.nat.rules = fw.rules.filter((r) => subnets.some((s) => r.includes(s)));
  const ips = new Set(endpoints.map((ep) => ep.ip));
  x.nat.ports = fw.ports.filter((p) => ips.has(p.containerIp)).map((p) => ({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, target: `${p.containerIp}:${p.containerPort}`, packets: p.packets }));
  if (owner) {
    for (const p of e.store.ports(owner.id)) {
      if (!x.nat.ports.some((k) => k.hostPort === p.host_port && k.proto === p.proto && k.hostIp === p.host_ip)) {
        x.mismatches.push(`published port ${p.host_ip}:${p.host_port}/${p.proto} → ${p.container_ip}:${p.container_port} is in the store but not in nftables`);
      }
    }
  }
  if (!fw.present && endpoints.some((ep) => e.store.network(ep.network_id)?.driver === 'bridge')) x.mismatches.push('the nftables table ip ctrnet is missing');

  for (const ep of endpoints) {
    const net = e.store.network(ep.network_id);
    if (net?.driver !== 'overlay') continue;
    const vx = vxlanName(net.id);
    const [fdb, neighbours] = await Promise.all([kernel.fdbList(vx).catch(() => []), kernel.neighList(vx).catch(() => [])]);
    x.overlays.push({ network: net.name, vxlan: vx, vni: Number(JSON.parse(net.options)[OPT_VNI]), fdb, neighbours });
  }
  return x;
}

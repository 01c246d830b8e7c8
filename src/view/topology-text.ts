/**
 * The topology as a terminal picture (`ctrnet topology`, the default format): one tree per network
 * (bridge → ports → containers), then host-mode and none-mode containers, then the published ports.
 * Lanes come in the same order as in the SVG picture (view/topology-layout.ts).
 */
import type { TopoContainer, TopoNetwork, Topology } from '../base/topology';
import { addressesText, hostPortText, laneNetworks, portText } from './topology-layout';

function ifaceText(c: TopoContainer, n: TopoNetwork): string {
  const i = c.interfaces.find((x) => x.networkId === n.id);
  if (!i) return c.status === 'running' ? '(no interface on it)' : `(${c.status}: no interface)`;
  const warn = i.onBridge ? '' : '  !! host end not on the bridge';
  return `${i.name} ${addressesText(i)}  ${i.mac}  ${i.hostIf}${warn}`;
}

function portsText(c: TopoContainer): string {
  return c.ports.length ? `  ports ${c.ports.map(portText).join(', ')}` : '';
}

export function renderText(t: Topology): string {
  const byId = new Map(t.containers.map((c) => [c.id, c]));
  const joiners = (owner: string) => t.containers.filter((c) => c.mode === 'container' && c.netnsOwner === owner && c.id !== owner);
  const owned = (c: TopoContainer) => c.mode === 'container' && !!c.netnsOwner && byId.has(c.netnsOwner) && c.netnsOwner !== c.id;
  const width = Math.max(8, ...t.containers.map((c) => c.name.length), ...t.networks.flatMap((n) => n.ports.map((p) => p.name.length))) + 2;
  const lines: string[] = [];
  const running = t.containers.filter((c) => c.status === 'running').length;
  lines.push(`host ${t.host.name}  (ctrnetd ${t.host.version}${t.host.advertise ? `, advertise ${t.host.advertise}` : ''})`);
  lines.push(`${t.containers.length} containers (${running} running)`);

  const tree = (items: string[][]) => {
    items.forEach((sub, i) => {
      const last = i === items.length - 1;
      lines.push(`${last ? '└── ' : '├── '}${sub[0]}`);
      for (const s of sub.slice(1)) lines.push(`${last ? '    ' : '│   '}${s}`);
    });
  };
  const sharedLines = (c: TopoContainer) => joiners(c.id).map((j) => `└ shares its namespace: ${j.name} (${j.status}, container mode)`);

  for (const n of laneNetworks(t)) {
    const head = [`bridge ${n.bridge ?? '?'} ${!n.bridgePresent ? (n.driver === 'overlay' ? '(none yet: no container here)' : 'MISSING') : n.bridgeUp ? 'up' : 'DOWN'}`];
    if (n.driver === 'overlay') head.push(`vxlan ${n.vxlan} VNI ${n.vni}`);
    if (n.subnet) head.push(n.subnet);
    if (n.gateway) head.push(`gw ${n.gateway}`);
    if (n.subnet6) head.push(n.subnet6, `gw ${n.gateway6}`);
    if (n.internal) head.push('internal');
    if (!n.icc) head.push('icc off');
    head.push(`${n.ports.length} port${n.ports.length === 1 ? '' : 's'}`);
    lines.push('', `network ${n.name} (${n.driver})  ${head.join(', ')}`);
    const items: string[][] = [];
    const claimed = new Set(t.containers.flatMap((c) => c.interfaces.map((i) => i.hostIf)));
    for (const p of n.ports.filter((x) => !claimed.has(x.name))) {
      items.push([`${p.name.padEnd(width)}${p.kind === 'vxlan' ? `VXLAN device (VNI ${n.vni})` : `${p.kind ?? 'link'} on the bridge, no container`}${p.up ? '' : ', down'}`]);
    }
    for (const c of t.containers.filter((x) => x.mode === 'network' && x.networks.includes(n.id))) {
      items.push([`${c.name.padEnd(width)}${ifaceText(c, n)}${portsText(c)}`, ...sharedLines(c)]);
    }
    if (n.remoteHosts.length) {
      items.push(['remote hosts (VXLAN)', ...n.remoteHosts.map((h) => `${h.address}: ${h.containers.map((c) => `${c.name} ${[c.ip, c.ip6].filter(Boolean).join(' ')}`).join(', ')}`)]);
    }
    if (!items.length) items.push(['(no containers)']);
    tree(items);
  }

  const host = t.containers.filter((c) => c.mode === 'host');
  if (host.length) {
    lines.push('', "host network  (the host's own namespace)");
    tree(host.map((c) => [`${c.name.padEnd(width)}${c.status}`, ...sharedLines(c)]));
  }
  const lanes = new Set(laneNetworks(t).map((n) => n.id));
  const none = t.containers.filter((c) => c.mode === 'none' || (c.mode === 'container' && !owned(c)) || (c.mode === 'network' && !c.networks.some((id) => lanes.has(id))));
  if (none.length) {
    lines.push('', 'no network  (own namespace, loopback only)');
    tree(none.map((c) => [`${c.name.padEnd(width)}${c.status}${c.mode === 'container' ? ` (its namespace's owner ${c.joins?.slice(0, 12)} is gone)` : ''}`, ...sharedLines(c)]));
  }

  const ports = t.containers.flatMap((c) => c.ports.map((p) => ({ c, p })));
  if (ports.length) {
    lines.push('', 'published ports');
    for (const { c, p } of ports.sort((a, b) => a.p.hostPort - b.p.hostPort)) {
      lines.push(`  ${`${hostPortText(p.hostIp, p.hostPort)}/${p.proto}`.padEnd(24)} -> ${c.name} ${hostPortText(p.containerIp, p.containerPort)}`);
    }
  }
  return lines.join('\n') + '\n';
}

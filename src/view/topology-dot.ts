/**
 * The topology as a Graphviz graph (`ctrnet topology --format dot`), for users who lay it out with
 * their own tools: networks as ellipses, containers as boxes, one edge per interface.
 */
import type { Topology } from '../base/topology';
import { laneNetworks, PALETTE, portText } from './topology-layout';

const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Graphviz: networks as ellipses, containers as boxes, one edge per interface. */
export function renderDot(t: Topology): string {
  const out: string[] = ['graph ctrnet {', '  graph [rankdir=LR, fontname="sans-serif", label=' + q(`host ${t.host.name}`) + '];', '  node [fontname="sans-serif", fontsize=10];', '  edge [fontname="sans-serif", fontsize=9];'];
  const lanes = laneNetworks(t);
  const byId = new Map(t.containers.map((c) => [c.id, c]));
  lanes.forEach((n, i) => {
    const color = PALETTE[i % PALETTE.length];
    const label = [`${n.name} (${n.driver})`, `bridge ${n.bridge ?? '?'}`, n.subnet ?? '', n.subnet6 ?? '', n.driver === 'overlay' ? `VNI ${n.vni}` : ''].filter(Boolean).join('\n');
    out.push(`  ${q(`net:${n.id}`)} [shape=ellipse, style=filled, fillcolor=${q(color + '22')}, color=${q(color)}, label=${q(label)}];`);
    for (const h of n.remoteHosts) {
      const id = `remote:${n.id}:${h.address}`;
      out.push(`  ${q(id)} [shape=box, style=dashed, label=${q(`host ${h.address}\n${h.containers.map((c) => `${c.name} ${[c.ip, c.ip6].filter(Boolean).join(' ')}`).join('\n')}`)}];`);
      out.push(`  ${q(`net:${n.id}`)} -- ${q(id)} [style=dashed, label="VXLAN"];`);
    }
  });
  if (t.containers.some((c) => c.mode === 'host')) out.push(`  "host" [shape=house, label=${q("host network\n(the host's namespace)")}];`);
  for (const c of t.containers) {
    const label = [c.name, c.status, ...c.ports.map(portText)].join('\n');
    out.push(`  ${q(`ctr:${c.id}`)} [shape=box, style=${c.status === 'running' ? '"rounded"' : '"rounded,dashed"'}, label=${q(label)}];`);
    for (const netId of c.networks) {
      if (!lanes.some((n) => n.id === netId)) continue;
      const i = c.interfaces.find((x) => x.networkId === netId);
      const attrs = i ? `label=${q(`${i.name} ${[i.ip, i.ip6].filter(Boolean).join(' ')}\n${i.hostIf}`)}${i.onBridge ? '' : ', color="red"'}` : 'style=dashed';
      out.push(`  ${q(`ctr:${c.id}`)} -- ${q(`net:${netId}`)} [${attrs}];`);
    }
    if (c.mode === 'host') out.push(`  ${q(`ctr:${c.id}`)} -- "host";`);
    if (c.mode === 'container' && c.joins && byId.has(c.joins)) out.push(`  ${q(`ctr:${c.id}`)} -- ${q(`ctr:${c.joins}`)} [style=dotted, label="shares netns"];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

/**
 * `ctrnet topology [--format text|json|dot|svg] [--width PX]`: the host's network picture, from the
 * daemon's GET /ctrnet/topology. Text is a tree per network (bridge → ports → containers), for
 * the terminal; dot is for Graphviz users; svg is our own layout (ui/layout.ts), with no external
 * tool needed; json is the model itself (core/topology.ts).
 */
import { Client } from './client';
import { parseArgs, str, UsageError } from './args';
import { TopoContainer, TopoNetwork, Topology } from '../core/topology';
import { laneNetworks, MIN_WIDTH, PALETTE } from '../ui/layout';
import { portText, renderSvg } from '../ui/svg';

export { renderSvg };

const FORMATS = ['text', 'json', 'dot', 'svg'];

export async function topologyCommand(client: Client, args: string[]): Promise<number> {
  const p = parseArgs(args, { format: { kind: 'string', short: 'f' }, width: { kind: 'string' } });
  const format = str(p, 'format') ?? 'text';
  if (!FORMATS.includes(format)) throw new UsageError(`--format ${format}: choose one of ${FORMATS.join(', ')}`);
  const width = Number(str(p, 'width') ?? 1400);
  if (!Number.isInteger(width) || width < MIN_WIDTH) throw new UsageError(`--width ${str(p, 'width')}: give a whole number of pixels, at least ${MIN_WIDTH}`);
  if (p.args.length) throw new UsageError('"topology" takes no arguments: ctrnet topology [--format text|json|dot|svg]');
  const t = (await client.call<Topology>('GET', '/ctrnet/topology')).data;
  const outText = format === 'json' ? JSON.stringify(t, null, 2) : format === 'dot' ? renderDot(t) : format === 'svg' ? renderSvg(t, width) : renderText(t);
  process.stdout.write(outText.endsWith('\n') ? outText : outText + '\n');
  return 0;
}

// ------------------------------------------------------------------ text

function ifaceText(c: TopoContainer, n: TopoNetwork): string {
  const i = c.interfaces.find((x) => x.networkId === n.id);
  if (!i) return c.status === 'running' ? '(no interface on it)' : `(${c.status}: no interface)`;
  const warn = i.onBridge ? '' : '  !! host end not on the bridge';
  return `${i.name} ${i.ip}/${i.prefixLen ?? '?'}  ${i.mac}  ${i.hostIf}${warn}`;
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
      items.push(['remote hosts (VXLAN)', ...n.remoteHosts.map((h) => `${h.address}: ${h.containers.map((c) => `${c.name} ${c.ip}`).join(', ')}`)]);
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
      lines.push(`  ${`${p.hostIp}:${p.hostPort}/${p.proto}`.padEnd(24)} -> ${c.name} ${p.containerIp}:${p.containerPort}`);
    }
  }
  return lines.join('\n') + '\n';
}

// ------------------------------------------------------------------ dot

const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

/** Graphviz: networks as ellipses, containers as boxes, one edge per interface. */
export function renderDot(t: Topology): string {
  const out: string[] = ['graph ctrnet {', '  graph [rankdir=LR, fontname="sans-serif", label=' + q(`host ${t.host.name}`) + '];', '  node [fontname="sans-serif", fontsize=10];', '  edge [fontname="sans-serif", fontsize=9];'];
  const lanes = laneNetworks(t);
  const byId = new Map(t.containers.map((c) => [c.id, c]));
  lanes.forEach((n, i) => {
    const color = PALETTE[i % PALETTE.length];
    const label = [`${n.name} (${n.driver})`, `bridge ${n.bridge ?? '?'}`, n.subnet ?? '', n.driver === 'overlay' ? `VNI ${n.vni}` : ''].filter(Boolean).join('\n');
    out.push(`  ${q(`net:${n.id}`)} [shape=ellipse, style=filled, fillcolor=${q(color + '22')}, color=${q(color)}, label=${q(label)}];`);
    for (const h of n.remoteHosts) {
      const id = `remote:${n.id}:${h.address}`;
      out.push(`  ${q(id)} [shape=box, style=dashed, label=${q(`host ${h.address}\n${h.containers.map((c) => `${c.name} ${c.ip}`).join('\n')}`)}];`);
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
      const attrs = i ? `label=${q(`${i.name} ${i.ip}\n${i.hostIf}`)}${i.onBridge ? '' : ', color="red"'}` : 'style=dashed';
      out.push(`  ${q(`ctr:${c.id}`)} -- ${q(`net:${netId}`)} [${attrs}];`);
    }
    if (c.mode === 'host') out.push(`  ${q(`ctr:${c.id}`)} -- "host";`);
    if (c.mode === 'container' && c.joins && byId.has(c.joins)) out.push(`  ${q(`ctr:${c.id}`)} -- ${q(`ctr:${c.joins}`)} [style=dotted, label="shares netns"];`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}

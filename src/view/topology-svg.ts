/**
 * SVG markup of a topology layout (view/topology-layout.ts): a self-contained picture (its own
 * <style>, no external fonts or scripts) for `ctrnet topology --format svg`, and the picture the
 * web UI puts in its page. Elements carry data-* attributes (container id and name, network name) so the page can
 * find, highlight and open them; <title> children give hover tooltips with the full details.
 */
import { addressesText, BoxLayout, FrameLayout, hostPortText, LaneLayout, Layout, layout, portText } from './topology-layout';
import type { TopoContainer, Topology } from '../base/topology';

const STYLE = `
.tp-root{font-family:system-ui,-apple-system,"Segoe UI","DejaVu Sans",sans-serif;font-size:12px;fill:#0f172a}
.tp-mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:11px}
.tp-muted{fill:#64748b}.tp-small{font-size:10px}.tp-bold{font-weight:600}
.tp-title{font-size:16px;font-weight:600}.tp-lane-title{font-size:14px;font-weight:600}
.tp-box rect.tp-card{fill:#fff;stroke:#cbd5e1;stroke-width:1}
.tp-box.tp-stopped rect.tp-card{fill:#f8fafc;stroke-dasharray:4 3}.tp-box.tp-stopped text{fill:#94a3b8}
.tp-remote rect.tp-card{fill:#f8fafc;stroke-dasharray:6 3}
.tp-device rect.tp-card{fill:#fffbeb;stroke:#f59e0b}
.tp-frame{fill:none;stroke:#64748b;stroke-dasharray:3 3}
.tp-badge{font-size:10px;font-weight:600}
.tp-warn{fill:#dc2626}
`;

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Cuts a string to about `px` pixels at `charPx` per character, marking the cut. */
function fit(s: string, px: number, charPx: number): string {
  const n = Math.floor(px / charPx);
  return s.length > n ? s.slice(0, Math.max(1, n - 1)) + '…' : s;
}

/** the widest a stub's label (a veth or device name) is drawn */
const STUB_LABEL_PX = 150;

const STATUS_COLOR: Record<string, string> = { running: '#16a34a', created: '#94a3b8', exited: '#94a3b8', removing: '#f59e0b' };

function text(x: number, y: number, s: string, cls = '', anchor = ''): string {
  return `<text x="${x}" y="${y}"${cls ? ` class="${cls}"` : ''}${anchor ? ` text-anchor="${anchor}"` : ''}>${esc(s)}</text>`;
}

function laneSvg(l: LaneLayout, t: Topology): string {
  const n = l.network;
  let title: string;
  let sub: string;
  const badges: string[] = [];
  if (n) {
    title = n.name;
    badges.push(n.driver);
    if (n.internal) badges.push('internal');
    if (!n.icc) badges.push('icc off');
    const bits = [`bridge ${n.bridge ?? '?'}`];
    if (n.driver === 'overlay') bits.push(`vxlan ${n.vxlan} VNI ${n.vni}`);
    if (n.subnet) bits.push(n.subnet);
    if (n.gateway) bits.push(`gw ${n.gateway}`);
    if (n.subnet6) bits.push(n.subnet6);
    bits.push(`${n.ports.length} port${n.ports.length === 1 ? '' : 's'}`);
    if (n.driver === 'overlay') bits.push(`${n.remoteHosts.length} remote host${n.remoteHosts.length === 1 ? '' : 's'}`);
    sub = bits.join(' · ');
    if (!n.bridgePresent) sub += n.driver === 'overlay' ? ' · no local bridge (no container here)' : ' · BRIDGE MISSING';
    else if (!n.bridgeUp) sub += ' · bridge down';
  } else if (l.kind === 'host') {
    title = 'host network';
    sub = "the host's own network namespace: no isolation, ports are the host's";
  } else {
    title = 'no network';
    sub = 'own namespace with loopback only (none mode, or nothing left to join)';
  }
  const count = t.containers.filter((c) => (n ? c.networks.includes(n.id) : false)).length;
  const parts = [
    `<g class="tp-lane" data-lane="${esc(l.key)}"${n ? ` data-network="${esc(n.name)}" data-network-id="${n.id}"` : ''}>`,
    `<rect x="${l.x}" y="${l.y}" width="${l.w}" height="${l.h}" rx="8" fill="${l.color}" fill-opacity="0.05" stroke="${l.color}" stroke-opacity="0.35"/>`,
    `<rect x="${l.x}" y="${l.y}" width="5" height="${l.h}" rx="2" fill="${l.color}"/>`,
    text(l.x + 16, l.y + 20, title, 'tp-lane-title'),
  ];
  let bx = l.x + 24 + title.length * 8.6;
  for (const b of badges) {
    const w = b.length * 6.4 + 12;
    parts.push(`<rect x="${bx}" y="${l.y + 8}" width="${w}" height="16" rx="8" fill="${l.color}" fill-opacity="0.14"/>`, `<text x="${bx + w / 2}" y="${l.y + 20}" class="tp-badge" text-anchor="middle" fill="${l.color}">${esc(b)}</text>`);
    bx += w + 6;
  }
  if (n) parts.push(text(l.x + l.w - 14, l.y + 20, `${count} container${count === 1 ? '' : 's'}`, 'tp-muted tp-small', 'end'));
  parts.push(text(l.x + 16, l.y + 37, fit(sub, l.w - 40, 6), `tp-muted ${n && !n.bridgePresent && n.driver !== 'overlay' ? 'tp-warn' : ''}`.trim()));
  if (l.spineX !== undefined && l.buses.length) {
    const last = l.buses[l.buses.length - 1].y;
    parts.push(`<line x1="${l.spineX}" y1="${l.bodyY - 4}" x2="${l.spineX}" y2="${last}" stroke="${l.color}" stroke-width="4" stroke-linecap="round"/>`);
    for (const b of l.buses) parts.push(`<line x1="${b.x1}" y1="${b.y}" x2="${b.x2}" y2="${b.y}" stroke="${l.color}" stroke-width="3" stroke-linecap="round"/>`);
  }
  if (l.empty) parts.push(text(l.x + 64, l.bodyY + 4, 'no containers', 'tp-muted'));
  parts.push('</g>');
  return parts.join('');
}

function stubSvg(b: BoxLayout, color: string): string {
  const s = b.stub;
  if (!s) return '';
  const dash = s.state === 'ok' ? '' : ' stroke-dasharray="4 3"';
  const stroke = s.state === 'off-bridge' ? '#dc2626' : s.state === 'down' ? '#94a3b8' : color;
  const label = s.state === 'off-bridge' ? `${s.label} off bridge!` : s.label;
  return `<line x1="${s.x}" y1="${s.y1}" x2="${s.x}" y2="${s.y2}" stroke="${stroke}" stroke-width="2"${dash}/>` + (label ? text(s.x + 5, s.y2 - 7, fit(label, STUB_LABEL_PX, 6), `tp-mono tp-small ${s.state === 'off-bridge' ? 'tp-warn' : 'tp-muted'}`) : '');
}

function containerLines(b: BoxLayout & { kind: 'container' }, byId: Map<string, TopoContainer>): { title: string; line2: string; line3: string; tip: string } {
  const c = b.container;
  let line2: string;
  if (b.iface) line2 = `${b.iface.name} ${addressesText(b.iface)}`;
  else if (c.mode === 'container') line2 = `netns of ${byId.get(c.joins ?? '')?.name ?? c.joins?.slice(0, 12) ?? '?'}`;
  else if (c.mode === 'host') line2 = 'host network';
  else if (c.mode === 'none') line2 = 'lo only';
  else line2 = c.status === 'running' ? 'no interface here' : `${c.status}: no interface`;
  const line3 = c.ports.length ? c.ports.map(portText).join(' ') : c.image;
  const tip = [
    `${c.name} (${c.id.slice(0, 12)}) ${c.status}, image ${c.image}`,
    `mode ${c.mode}${c.joins ? ` → ${byId.get(c.joins)?.name ?? c.joins.slice(0, 12)}` : ''}`,
    ...c.interfaces.map((i) => `${i.name} ${addressesText(i)} ${i.mac} on ${i.networkName} (${i.hostIf})`),
    ...c.ports.map((p) => `published ${hostPortText(p.hostIp, p.hostPort)} → ${hostPortText(p.containerIp, p.containerPort)}/${p.proto}`),
  ].join('\n');
  return { title: c.name, line2, line3, tip };
}

function boxSvg(b: BoxLayout, color: string, t: Topology, byId: Map<string, TopoContainer>): string {
  let cls: string;
  let attrs: string;
  let title: string;
  let line2: string;
  let line3: string;
  let tip: string;
  let dot = '';
  let corner = '';
  if (b.kind === 'container') {
    const c = b.container;
    ({ title, line2, line3, tip } = containerLines(b, byId));
    cls = `tp-box tp-ctr ${c.status === 'running' ? 'tp-running' : 'tp-stopped'}`;
    attrs = ` data-id="${c.id}" data-name="${esc(c.name)}" data-status="${c.status}"`;
    dot = `<circle cx="${b.x + 14}" cy="${b.y + 17}" r="4.5" fill="${STATUS_COLOR[c.status] ?? '#94a3b8'}"/>`;
    // Drawn once per network: say so, the other boxes are in the other lanes.
    if (c.networks.length > 1) corner = `${c.networks.length} networks`;
  } else if (b.kind === 'remote') {
    const h = b.remote;
    cls = 'tp-box tp-remote';
    attrs = ` data-remote="${esc(h.address)}"`;
    title = `⇢ host ${h.address}`;
    line2 = `${h.containers.length} container${h.containers.length === 1 ? '' : 's'} via VXLAN`;
    line3 = h.containers.map((c) => c.name).join(', ');
    tip = [`remote host ${h.address}`, ...h.containers.map((c) => `${c.name} ${[c.ip, c.ip6].filter(Boolean).join(' ')} ${c.mac}`)].join('\n');
  } else {
    const p = b.port;
    const net = t.networks.find((n) => `net:${n.id}` === b.lane);
    cls = 'tp-box tp-device';
    attrs = ` data-port="${esc(p.name)}"`;
    title = p.name;
    line2 = p.kind === 'vxlan' ? `VXLAN VNI ${net?.vni ?? '?'} UDP 4789` : `unclaimed ${p.kind ?? 'link'}`;
    line3 = p.up ? 'up' : 'down';
    tip = `${p.name} (${p.kind ?? 'link'}) on ${net?.bridge ?? '?'}, ${p.up ? 'up' : 'down'}`;
  }
  const tx = b.x + (dot ? 24 : 10);
  return [
    `<g class="${cls}"${attrs} data-lane="${esc(b.lane)}"><title>${esc(tip)}</title>`,
    stubSvg(b, color),
    `<rect class="tp-card" x="${b.x}" y="${b.y}" width="${b.w}" height="${b.h}" rx="6"/>`,
    `<rect x="${b.x}" y="${b.y}" width="${b.w}" height="3" rx="1.5" fill="${color}" fill-opacity="0.8"/>`,
    dot,
    text(tx, b.y + 21, fit(title, b.x + b.w - tx - 8, 7.2), 'tp-bold tp-name'),
    text(b.x + 10, b.y + 37, fit(line2, b.w - 18, 6.7), 'tp-mono'),
    text(b.x + 10, b.y + 51, fit(line3, b.w - 18 - corner.length * 6, 6), 'tp-muted tp-small'),
    corner ? text(b.x + b.w - 8, b.y + 51, corner, 'tp-muted tp-small', 'end') : '',
    '</g>',
  ].join('');
}

function frameSvg(f: FrameLayout, byId: Map<string, TopoContainer>): string {
  const owner = byId.get(f.ownerId)?.name ?? f.ownerId.slice(0, 12);
  // The label shares the row's edge zone with the owner's stub label, on its left: keep clear of it.
  const room = f.w - 30 - STUB_LABEL_PX - 12;
  return `<g class="tp-shared" data-owner="${f.ownerId}"><rect class="tp-frame" x="${f.x}" y="${f.y}" width="${f.w}" height="${f.h}" rx="9"/>${text(f.x + f.w - 6, f.y - 4, fit(`shared netns of ${owner}`, room, 5.6), 'tp-muted tp-small', 'end')}</g>`;
}

/** The picture as SVG markup; `width` in pixels (the page passes its own width). */
export function renderSvg(t: Topology, width = 1400): string {
  return svgOf(t, layout(t, width));
}

export function svgOf(t: Topology, l: Layout): string {
  const byId = new Map(t.containers.map((c) => [c.id, c]));
  const colorOf = new Map(l.lanes.map((x) => [x.key, x.color]));
  const running = t.containers.filter((c) => c.status === 'running').length;
  const nets = t.networks.filter((n) => n.driver === 'bridge' || n.driver === 'overlay').length;
  const ports = t.containers.reduce((a, c) => a + c.ports.length, 0);
  const sub = `ctrnetd ${t.host.version}${t.host.advertise ? ` · advertise ${t.host.advertise}` : ''} · ${t.containers.length} containers (${running} running) · ${nets} networks · ${ports} published ports`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="tp-root" width="${l.width}" height="${l.height}" viewBox="0 0 ${l.width} ${l.height}">`,
    `<style>${STYLE}</style>`,
    `<rect width="${l.width}" height="${l.height}" fill="#ffffff"/>`,
    text(16, 30, `host ${t.host.name}`, 'tp-title'),
    text(16, 48, sub, 'tp-muted'),
    ...l.lanes.map((x) => laneSvg(x, t)),
    ...l.frames.map((f) => frameSvg(f, byId)),
    ...l.boxes.map((b) => boxSvg(b, colorOf.get(b.lane) ?? '#64748b', t, byId)),
    '</svg>',
  ].join('\n');
}

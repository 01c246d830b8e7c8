/**
 * Our own layered layout of a Topology (base/topology.ts), shared by `ctrnet topology --format svg`
 * and the web UI: one horizontal lane per network (its bridge drawn as a bus: a spine on the left and one bus line
 * above each row of boxes), containers as boxes hanging from the bus by one edge per interface.
 *
 * Choices that keep it readable with many containers, without a graph-layout tool:
 * - a container on several networks appears in each of their lanes (same id, so the page can
 *   highlight all of them), instead of long edges crossing other lanes;
 * - containers sharing a namespace (container mode) are drawn side by side inside one dashed frame,
 *   hanging from the bus by the owner's edge only: they have no interface of their own;
 * - host-mode and none-mode containers get a lane of their own, without a bus;
 * - an overlay lane also holds its VXLAN device and one box per remote host it reaches.
 * Boxes are packed into rows left to right; nothing overlaps by construction (unit-tested).
 * The lane order (laneNetworks) and port labels (portText) are those of the text and dot pictures too.
 */
import type { TopoBridgePort, TopoContainer, TopoNetwork, TopoRemoteHost, Topology } from '../base/topology';

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface LaneLayout extends Rect {
  key: string;
  kind: 'network' | 'host' | 'none';
  network?: TopoNetwork;
  color: string;
  /** x of the spine; undefined for lanes without a bridge (host, none) */
  spineX?: number;
  /** one bus line per row of boxes */
  buses: { y: number; x1: number; x2: number }[];
  /** y where the rows start (below the header) */
  bodyY: number;
  /** nothing to draw in it: no container, device or remote host */
  empty: boolean;
}

export interface Stub {
  x: number;
  y1: number;
  y2: number;
  /** the bridge port (host end of the veth, device name) */
  label: string;
  state: 'ok' | 'off-bridge' | 'down' | 'tunnel';
}

/** What a box shows: a container (with its interface on the lane's network), a remote host, a device. */
export type BoxContent =
  | { kind: 'container'; container: TopoContainer; iface?: TopoContainer['interfaces'][number] }
  | { kind: 'remote'; remote: TopoRemoteHost }
  | { kind: 'device'; port: TopoBridgePort };

export type BoxLayout = Rect & BoxContent & { lane: string; stub?: Stub };

export interface FrameLayout extends Rect {
  lane: string;
  ownerId: string;
}

export interface Layout {
  width: number;
  height: number;
  lanes: LaneLayout[];
  boxes: BoxLayout[];
  frames: FrameLayout[];
}

export const BOX_W = 188;
export const BOX_H = 58;
const STUB = 18;
const GAP = 14;
/** between the boxes of one shared-namespace frame */
const INNER = 8;
const ROW_GAP = 16;
const MARGIN = 16;
const TITLE_H = 46;
const LANE_HEADER = 46;
const LANE_GAP = 14;
const LANE_PAD_LEFT = 30;
const LANE_PAD_RIGHT = 14;
const LANE_PAD_BOTTOM = 12;
export const MIN_WIDTH = 480;

export const PALETTE = ['#2563eb', '#059669', '#d97706', '#7c3aed', '#db2777', '#0891b2', '#65a30d', '#dc2626', '#4f46e5', '#0d9488'];
const HOST_COLOR = '#475569';
const NONE_COLOR = '#94a3b8';

/** What a lane holds before packing: units of one or more boxes laid side by side. */
interface Unit {
  boxes: BoxContent[];
  stub?: Omit<Stub, 'x' | 'y1' | 'y2'>;
  /** a shared-namespace frame around the boxes, owned by this container */
  frameOwner?: string;
}

/** The network lanes in drawing order: the default bridge, user networks, overlays, then the gateway bridge. */
export function laneNetworks(t: Topology): TopoNetwork[] {
  const rank = (n: TopoNetwork) => (n.name === 'bridge' ? 0 : n.driver === 'bridge' && n.name !== 'ctrnet_gwbridge' ? 1 : n.driver === 'overlay' ? 2 : 3);
  return t.networks.filter((n) => n.driver === 'bridge' || n.driver === 'overlay').sort((a, b) => rank(a) - rank(b));
}

/** A published port as every picture labels it: `8080→80/tcp`, with the host address unless 0.0.0.0 (IPv6 in brackets: `[::]:8080→80/tcp`). */
export function portText(p: { proto: string; hostIp: string; hostPort: number; containerPort: number }): string {
  return `${p.hostIp === '0.0.0.0' ? p.hostPort : hostPortText(p.hostIp, p.hostPort)}→${p.containerPort}/${p.proto}`;
}

/** ADDRESS:PORT, an IPv6 address in brackets. */
export const hostPortText = (ip: string, port: number): string => `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

export function layout(t: Topology, width = 1400): Layout {
  width = Math.max(MIN_WIDTH, Math.round(width));
  const byId = new Map(t.containers.map((c) => [c.id, c]));
  // Container mode: members are drawn with the namespace's owner (chains collapse to the end).
  const joinersOf = new Map<string, TopoContainer[]>();
  const owners: TopoContainer[] = [];
  for (const c of t.containers) {
    if (c.mode === 'container' && c.netnsOwner && byId.has(c.netnsOwner) && c.netnsOwner !== c.id) {
      joinersOf.set(c.netnsOwner, [...(joinersOf.get(c.netnsOwner) ?? []), c]);
    } else owners.push(c);
  }
  const unitOf = (owner: TopoContainer, net?: TopoNetwork): Unit => {
    const members = [owner, ...(joinersOf.get(owner.id) ?? [])];
    const iface = net ? owner.interfaces.find((i) => i.networkId === net.id) : undefined;
    let stub: Unit['stub'];
    if (net) {
      const port = iface ? net.ports.find((p) => p.name === iface.hostIf) : undefined;
      stub = iface
        ? { label: iface.hostIf, state: !iface.onBridge ? 'off-bridge' : port && !port.up ? 'down' : 'ok' }
        : { label: '', state: 'down' }; // configured but not running: no interface
    }
    return {
      boxes: members.map((c): BoxContent => ({ kind: 'container', container: c, ...(c === owner && iface ? { iface } : {}) })),
      ...(stub ? { stub } : {}),
      ...(members.length > 1 ? { frameOwner: owner.id } : {}),
    };
  };

  const lanes: { key: string; kind: LaneLayout['kind']; network?: TopoNetwork; color: string; units: Unit[] }[] = [];
  const claimed = new Set(t.containers.flatMap((c) => c.interfaces.map((f) => f.hostIf)));
  laneNetworks(t).forEach((n, i) => {
    const units: Unit[] = [];
    // The VXLAN device and ports nobody claims (left over, or added by hand) are shown as devices.
    for (const p of n.ports) if (!claimed.has(p.name)) units.push({ boxes: [{ kind: 'device', port: p }], stub: { label: p.name, state: p.up ? (p.kind === 'vxlan' ? 'tunnel' : 'ok') : 'down' } });
    for (const c of owners) if (c.mode === 'network' && c.networks.includes(n.id)) units.push(unitOf(c, n));
    for (const h of n.remoteHosts) units.push({ boxes: [{ kind: 'remote', remote: h }], stub: { label: '', state: 'tunnel' } });
    lanes.push({ key: `net:${n.id}`, kind: 'network', network: n, color: PALETTE[i % PALETTE.length], units });
  });
  const hostUnits = owners.filter((c) => c.mode === 'host').map((c) => unitOf(c));
  // Container mode whose owner is gone (forced removal) has no network left: it goes with "none".
  const noneUnits = owners.filter((c) => c.mode === 'none' || c.mode === 'container' || (c.mode === 'network' && !c.networks.some((id) => lanes.some((l) => l.network?.id === id)))).map((c) => unitOf(c));
  if (hostUnits.length) lanes.push({ key: 'host', kind: 'host', color: HOST_COLOR, units: hostUnits });
  if (noneUnits.length) lanes.push({ key: 'none', kind: 'none', color: NONE_COLOR, units: noneUnits });

  // A unit is never split: a namespace shared by many containers widens the picture instead.
  const widest = Math.max(0, ...lanes.flatMap((l) => l.units.map((u) => u.boxes.length * BOX_W + (u.boxes.length - 1) * INNER)));
  width = Math.max(width, widest + 2 * MARGIN + LANE_PAD_LEFT + LANE_PAD_RIGHT);
  const out: Layout = { width, height: 0, lanes: [], boxes: [], frames: [] };
  let y = MARGIN + TITLE_H;
  const laneX = MARGIN;
  const laneW = width - 2 * MARGIN;
  const left = laneX + LANE_PAD_LEFT;
  const right = laneX + laneW - LANE_PAD_RIGHT;
  for (const lane of lanes) {
    const hasBus = lane.kind === 'network';
    const ll: LaneLayout = { key: lane.key, kind: lane.kind, color: lane.color, x: laneX, y, w: laneW, h: 0, buses: [], bodyY: y + LANE_HEADER, empty: lane.units.length === 0, ...(lane.network ? { network: lane.network } : {}) };
    if (hasBus) ll.spineX = laneX + 14;
    let rowTop = ll.bodyY;
    let cx = left;
    let rowEnd = left;
    let rows = 0;
    // Lanes without a bus keep the edge zone too: a shared-namespace frame puts its label there.
    const rowH = STUB + BOX_H + ROW_GAP;
    const closeRow = () => {
      if (hasBus) ll.buses.push({ y: rowTop, x1: ll.spineX!, x2: rowEnd });
      rows++;
      rowTop += rowH;
      cx = left;
      rowEnd = left;
    };
    for (const u of lane.units) {
      const w = u.boxes.length * BOX_W + (u.boxes.length - 1) * INNER;
      if (cx > left && cx + w > right) closeRow();
      const by = rowTop + STUB;
      u.boxes.forEach((b, i) => {
        const box = { ...b, lane: lane.key, x: cx + i * (BOX_W + INNER), y: by, w: BOX_W, h: BOX_H } as BoxLayout;
        if (i === 0 && u.stub && hasBus) box.stub = { ...u.stub, x: box.x + 22, y1: rowTop, y2: by };
        out.boxes.push(box);
      });
      if (u.frameOwner) out.frames.push({ lane: lane.key, ownerId: u.frameOwner, x: cx - 4, y: by - 4, w: w + 8, h: BOX_H + 8 });
      rowEnd = cx + 22;
      cx += w + GAP + (u.frameOwner ? 6 : 0);
    }
    if (lane.units.length) closeRow();
    // An empty network still shows its bus, with room for a "no containers" note.
    const bodyH = lane.units.length ? rows * rowH - ROW_GAP : 22;
    if (!lane.units.length && hasBus) ll.buses.push({ y: rowTop, x1: ll.spineX!, x2: left + 24 });
    ll.h = LANE_HEADER + bodyH + LANE_PAD_BOTTOM;
    out.lanes.push(ll);
    y += ll.h + LANE_GAP;
  }
  out.height = y - LANE_GAP + MARGIN;
  return out;
}

/** Whether two rectangles overlap (touching edges do not count). */
export function overlaps(a: Rect, b: Rect): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** An interface's addresses as the pictures write them: "172.18.0.2/16 fd00:1::2/64". */
export function addressesText(i: { ip: string; prefixLen?: number; ip6?: string; prefixLen6?: number }): string {
  return [i.ip ? `${i.ip}/${i.prefixLen ?? '?'}` : '', i.ip6 ? `${i.ip6}/${i.prefixLen6 ?? '?'}` : ''].filter(Boolean).join(' ');
}

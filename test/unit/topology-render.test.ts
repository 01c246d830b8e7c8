/**
 * Topology renderers on synthetic topologies: text, dot and SVG show what the model holds, the SVG
 * is well-formed, and the layout keeps 50 containers on 5 networks apart (no two boxes overlap).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderDot } from '../../src/view/topology-dot';
import { renderSvg } from '../../src/view/topology-svg';
import { renderText } from '../../src/view/topology-text';
import { TopoContainer, TopoNetwork, Topology } from '../../src/base/topology';
import { BOX_H, BOX_W, layout, overlaps, Rect } from '../../src/view/topology-layout';
import { checkXml } from '../helpers/xml';
import { parseUiAddr } from '../../src/ui/server';
import { parseFlags } from '../../src/daemon/main';

const hex = (n: number, len = 64) => n.toString(16).padStart(len, '0');

function net(i: number, name: string, driver = 'bridge', extra: Partial<TopoNetwork> = {}): TopoNetwork {
  return {
    id: hex(1000 + i), name, driver, subnet: `172.${18 + i}.0.0/16`, gateway: `172.${18 + i}.0.1`, internal: false, icc: true,
    bridge: name === 'bridge' ? 'ctrnet0' : `br-${hex(1000 + i, 12)}`, bridgePresent: true, bridgeUp: true, ports: [], remoteHosts: [], ...extra,
  };
}

/** A container on networks `nets` (primary first), its veths on the bridges. */
function ctr(i: number, name: string, nets: TopoNetwork[], extra: Partial<TopoContainer> = {}): TopoContainer {
  const c: TopoContainer = {
    id: hex(i), name, image: 'busybox', status: 'running', mode: 'network', networks: nets.map((n) => n.id), ports: [],
    interfaces: nets.map((n, k) => ({
      name: `eth${k}`, ip: n.subnet!.replace(/0\.0\/16$/, `0.${(i % 250) + 2}`), prefixLen: 16, mac: `02:42:00:00:00:${(i % 256).toString(16).padStart(2, '0')}`,
      networkId: n.id, networkName: n.name, hostIf: `veth${hex(i, 4)}${k}`, onBridge: true,
    })),
    ...extra,
  };
  for (const f of c.interfaces) nets.find((n) => n.id === f.networkId)!.ports.push({ name: f.hostIf, kind: 'veth', up: true, containerId: c.id });
  return c;
}

/** The small host: every kind of thing the picture draws once. */
function small(): Topology {
  const bridge = net(0, 'bridge');
  const front = net(1, 'front', 'bridge', { internal: true });
  const ov = net(2, 'ov1', 'overlay', { subnet: '10.0.9.0/24', gateway: '10.0.9.1', bridge: `ov-${hex(1002, 12)}`, vni: 4096, vxlan: `vx-${hex(1002, 12)}` });
  ov.ports.push({ name: ov.vxlan!, kind: 'vxlan', up: true });
  ov.remoteHosts.push({ address: '10.1.0.12', containers: [{ id: hex(900), name: 'far', ip: '10.0.9.3', mac: '02:42:0a:00:09:03' }] });
  bridge.ports.push({ name: 'vethstray', kind: 'veth', up: true });
  const web = ctr(1, 'web', [bridge, front], { ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.18.0.3', containerPort: 80 }] });
  const side = ctr(2, 'side', [], { mode: 'container', joins: web.id, netnsOwner: web.id });
  const near = ctr(3, 'near', [ov]);
  const old = ctr(4, 'old', [], { status: 'exited', networks: [front.id] });
  const h = ctr(5, 'hostc', [], { mode: 'host' });
  const iso = ctr(6, 'iso', [], { mode: 'none' });
  web.interfaces[1].onBridge = false;
  return {
    host: { name: 'lab', version: '0.1.0', advertise: '10.1.0.11' }, generated: new Date(0).toISOString(),
    networks: [bridge, front, ov, { ...net(9, 'host', 'host'), bridge: undefined, subnet: undefined, gateway: undefined }, { ...net(10, 'none', 'null'), bridge: undefined }],
    containers: [web, side, near, old, h, iso],
  };
}

/** 50 containers on 5 networks (a few on two of them), plus sidecars sharing namespaces. */
function big(): Topology {
  const nets = ['bridge', 'frontend', 'backend', 'data', 'monitoring'].map((n, i) => net(i, n));
  const containers: TopoContainer[] = [];
  for (let i = 0; i < 50; i++) {
    const primary = nets[i % 5];
    const on = i % 7 === 0 ? [primary, nets[(i + 1) % 5]] : [primary];
    containers.push(ctr(i + 1, `svc-${String(i).padStart(2, '0')}-${primary.name}`, on, i % 3 === 0 ? { ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8000 + i, containerIp: '172.18.0.2', containerPort: 80 }] } : {}));
  }
  containers.push(ctr(100, 'sidecar-a', [], { mode: 'container', joins: containers[3].id, netnsOwner: containers[3].id }));
  containers.push(ctr(101, 'sidecar-b', [], { mode: 'container', joins: containers[100 - 50].id, netnsOwner: containers[3].id }));
  return { host: { name: 'big', version: '0.1.0' }, generated: new Date(0).toISOString(), networks: nets, containers };
}

test('renderText() shows bridges with their ports, containers with interfaces, published ports, shared namespaces, host and none modes, remote hosts', () => {
  const t = renderText(small());
  for (const s of ['ctrnet0', 'front', 'internal', 'web', 'eth0 172.18.0.3/16', 'veth00010', 'side (running, container mode)', '0.0.0.0:8080/tcp', '-> web 172.18.0.3:80',
    'vethstray', 'on the bridge, no container', 'VXLAN device (VNI 4096)', '10.1.0.12: far 10.0.9.3', 'hostc', 'iso', 'old', '(exited: no interface)', 'not on the bridge']) {
    assert.ok(t.includes(s), `missing ${JSON.stringify(s)} in:\n${t}`);
  }
  assert.match(t, /^host network/m);
  assert.match(t, /^no network/m);
});

test('renderDot() is an undirected graph with one edge per interface and quoted ids', () => {
  const t = small();
  const d = renderDot(t);
  assert.match(d, /^graph ctrnet \{\n/);
  assert.match(d, /\}\n$/);
  const web = t.containers.find((c) => c.name === 'web')!;
  for (const i of web.interfaces) assert.ok(d.includes(`"ctr:${web.id}" -- "net:${i.networkId}"`), i.name);
  assert.ok(d.includes('[style=dotted, label="shares netns"]'));
  assert.ok(d.includes('"host" [shape=house'));
  assert.ok(d.includes('host 10.1.0.12'));
  // Balanced braces and quotes on every line: what Graphviz needs to parse it.
  for (const line of d.split('\n')) assert.equal((line.replace(/\\"/g, '').match(/"/g) ?? []).length % 2, 0, line);
  assert.equal((d.match(/\{/g) ?? []).length, (d.match(/\}/g) ?? []).length);
});

test('renderSvg() is well-formed XML with an <svg> root and data attributes for every container and network', () => {
  const t = small();
  t.containers[0].name = 'we<b>&"x"';
  const svg = renderSvg(t);
  assert.equal(checkXml(svg), 'svg');
  for (const c of t.containers) assert.ok(svg.includes(`data-id="${c.id}"`), c.name);
  for (const n of ['bridge', 'front', 'ov1']) assert.ok(svg.includes(`data-network="${n}"`), n);
  assert.ok(svg.includes('data-name="we&lt;b&gt;&amp;&quot;x&quot;"'));
  assert.ok(svg.includes('data-remote="10.1.0.12"'));
  assert.ok(svg.includes('shared netns of'));
});

test('layout() of 50 containers on 5 networks: boxes inside their lanes, no two boxes or lanes overlap, every container drawn', () => {
  const t = big();
  for (const width of [1000, 1400, 1920]) {
    const l = layout(t, width);
    assert.equal(l.lanes.length, 5);
    const inside = (a: Rect, b: Rect) => a.x >= b.x && a.y >= b.y && a.x + a.w <= b.x + b.w && a.y + a.h <= b.y + b.h;
    for (let i = 0; i < l.boxes.length; i++) {
      const b = l.boxes[i];
      assert.equal(b.w, BOX_W);
      assert.equal(b.h, BOX_H);
      const lane = l.lanes.find((x) => x.key === b.lane)!;
      assert.ok(inside(b, lane), `box ${i} outside its lane at width ${width}`);
      assert.ok(b.x + b.w <= l.width && b.y + b.h <= l.height);
      for (let j = i + 1; j < l.boxes.length; j++) assert.ok(!overlaps(b, l.boxes[j]), `boxes ${i} and ${j} overlap at width ${width}`);
      // An edge runs from the bus down to its box, never through another box.
      if (b.stub) for (const o of l.boxes) if (o !== b) assert.ok(!overlaps({ x: b.stub.x - 1, y: b.stub.y1, w: 2, h: b.stub.y2 - b.stub.y1 }, o), 'stub crosses a box');
    }
    for (let i = 0; i < l.lanes.length; i++) for (let j = i + 1; j < l.lanes.length; j++) assert.ok(!overlaps(l.lanes[i], l.lanes[j]));
    for (const f of l.frames) {
      const lane = l.lanes.find((x) => x.key === f.lane)!;
      assert.ok(inside(f, lane));
      for (const o of l.boxes.filter((b) => b.kind === 'container' && !['sidecar-a', 'sidecar-b'].includes(b.container.name) && b.container.id !== f.ownerId)) assert.ok(!overlaps(f, o), 'frame over another box');
    }
    const drawn = new Set(l.boxes.map((b) => (b.kind === 'container' ? b.container.id : '')));
    for (const c of t.containers) assert.ok(drawn.has(c.id), c.name);
    // Multi-homed containers appear once per network: 8 of the 50 are on two.
    assert.equal(l.boxes.filter((b) => b.kind === 'container' && b.container.mode === 'network').length, 50 + 8);
  }
  const l = layout(t, 1600);
  assert.ok(l.height < 1400, `50 containers should fit in about one screen at 1600 px wide, not ${l.height} px`);
  assert.equal(checkXml(renderSvg(t, 1600)), 'svg');
});

test('layout() draws a stopped container in its configured lanes, with a dashed edge and no interface', () => {
  const l = layout(small());
  const old = l.boxes.find((b) => b.kind === 'container' && b.container.name === 'old')!;
  assert.equal(old.stub?.state, 'down');
  assert.equal(l.lanes.find((x) => x.key === old.lane)?.network?.name, 'front');
  const web = l.boxes.filter((b) => b.kind === 'container' && b.container.name === 'web');
  assert.deepEqual(web.map((b) => b.stub?.state).sort(), ['off-bridge', 'ok']);
  assert.deepEqual(l.lanes.map((x) => x.network?.name ?? x.kind), ['bridge', 'front', 'ov1', 'host', 'none']);
});

test('layout() keeps a shared namespace in one frame: many members widen the picture, a frame in the host lane stays below its header', () => {
  const t = small();
  const hostc = t.containers.find((c) => c.name === 'hostc')!;
  for (let i = 0; i < 12; i++) t.containers.push(ctr(200 + i, `j${i}`, [], { mode: 'container', joins: hostc.id, netnsOwner: hostc.id }));
  const l = layout(t, 800);
  const f = l.frames.find((x) => x.ownerId === hostc.id)!;
  const lane = l.lanes.find((x) => x.key === 'host')!;
  assert.ok(l.width >= 13 * BOX_W, `width ${l.width}`);
  assert.ok(f.x + f.w <= lane.x + lane.w);
  assert.ok(f.y - 12 >= lane.y + 40, 'the frame label would cover the lane header');
  assert.equal(checkXml(renderSvg(t, 800)), 'svg');
});

test('parseUiAddr() takes IP:PORT (IPv4, [IPv6], localhost) and refuses the rest; ctrnetd --ui checks it at start', () => {
  assert.deepEqual(parseUiAddr('127.0.0.1:7777'), { host: '127.0.0.1', port: 7777 });
  assert.deepEqual(parseUiAddr('[::1]:80'), { host: '::1', port: 80 });
  assert.deepEqual(parseUiAddr('localhost:8080'), { host: 'localhost', port: 8080 });
  for (const bad of ['7777', ':7777', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'example.com:80', 'http://127.0.0.1:80']) assert.throws(() => parseUiAddr(bad), /IP:PORT/, bad);
  assert.equal(parseFlags(['--ui', '127.0.0.1:7777']).ui, '127.0.0.1:7777');
  assert.equal('ui' in parseFlags([]), false, 'no web UI unless asked for');
  assert.throws(() => parseFlags(['--ui=0.0.0.0']), /IP:PORT/);
});

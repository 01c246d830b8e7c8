/** view/explain-text.ts: an Explanation said in sentences, in English and Chinese, for every mode. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Explanation } from '../../src/base/explanation';
import { sayExplanation } from '../../src/view/explain-text';

function bridged(extra: Partial<Explanation> = {}): Explanation {
  return {
    container: { id: 'a'.repeat(64), name: 'web', status: 'running' },
    mode: 'bridge',
    namespace: { path: '/run/ctrnet/netns/aaaaaaaaaaaa', sharedWith: ['side'] },
    interfaces: [
      { name: 'lo', mac: '00:00:00:00:00:00', mtu: 65536, up: true, addresses: ['127.0.0.1/8'] },
      { name: 'eth0', mac: '02:42:ac:11:00:02', mtu: 1500, up: true, addresses: ['172.17.0.2/16'], network: 'bridge', hostPeer: { name: 'veth1a2b3c', bridge: 'ctrnet0', up: true } },
    ],
    routes: [{ dst: 'default', via: '172.17.0.1', dev: 'eth0' }, { dst: '172.17.0.0/16', dev: 'eth0' }],
    dns: ['172.17.0.1'],
    nat: {
      rules: ['ip saddr 172.17.0.0/16 oifname != "ctrnet0" counter packets 3 bytes 180 masquerade'],
      ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, target: '172.17.0.2:80', packets: 2 }],
    },
    overlays: [],
    mismatches: [],
    ...extra,
  };
}

test('sayExplanation() of a bridge container names its mode, namespace, veth and bridge, routes, DNS, NAT and agreement', () => {
  const t = sayExplanation(bridged());
  for (const s of [
    'Container web (running): bridge mode, the default',
    'Network namespace: /run/ctrnet/netns/aaaaaaaaaaaa.',
    'Shared with: side (container mode).',
    '  eth0: 172.17.0.2/16, MAC 02:42:ac:11:00:02, MTU 1500, up, on network bridge.',
    'the other end, veth1a2b3c on the host, is a port of the bridge ctrnet0',
    '  default via 172.17.0.1 dev eth0: everything else goes to the gateway 172.17.0.1.',
    '  172.17.0.0/16 dev eth0: reached directly on that link.',
    'DNS: 172.17.0.1 (from /etc/resolv.conf).',
    '(masquerade: traffic leaving by another interface',
    '  published 0.0.0.0:8080/tcp → 172.17.0.2:80 (DNAT), 2 connection(s) so far.',
    'Kernel and state agree.',
  ]) assert.ok(t.includes(s), `missing ${JSON.stringify(s)} in:\n${t}`);
  assert.ok(t.endsWith('\n') && !t.endsWith('\n\n'));
});

test('sayExplanation() lists every mismatch under the warning', () => {
  const t = sayExplanation(bridged({ mismatches: ['veth1a2b3c should be a port of ctrnet0, it is on no bridge', 'eth0 should have MAC 02:42:ac:11:00:09, it has 02:42:ac:11:00:02'] }));
  assert.match(t, /!! MISMATCH between the kernel and ctrnet's state[^\n]*\n {3}- veth1a2b3c should be a port of ctrnet0, it is on no bridge\n {3}- eth0 should have MAC/);
  assert.doesNotMatch(t, /Kernel and state agree/);
});

test('sayExplanation() of a stopped container says only that it has no network', () => {
  assert.equal(sayExplanation(bridged({ container: { id: 'b', name: 'old', status: 'exited' } })), 'Container old (exited): bridge mode, the default: its own network namespace, wired to the bridge by a veth pair.\nIt is not running, so it has no network now.\n');
});

test('sayExplanation() of host mode has no routes and no agreement line; none mode says it reaches nothing', () => {
  const host = sayExplanation({ ...bridged(), mode: 'host', namespace: undefined, interfaces: [], routes: [], nat: { rules: [], ports: [] } });
  assert.match(host, /host mode: no network namespace of its own/);
  assert.doesNotMatch(host, /Routes:|Kernel and state agree|MISMATCH/);
  const none = sayExplanation({ ...bridged(), mode: 'none', interfaces: [], routes: [], dns: [], nat: { rules: [], ports: [] } });
  assert.match(none, /none mode: its own network namespace with nothing configured but lo/);
  assert.match(none, /Routes:\n {2}none: it can reach nothing beyond its own interfaces\./);
  assert.match(none, /DNS: none/);
});

test('sayExplanation() of container mode names the namespace it joined; overlays list their remote peers', () => {
  const joined = sayExplanation({ ...bridged(), mode: 'container', joinedTo: 'web' });
  assert.match(joined, /It uses the network namespace of container web/);
  const ov = sayExplanation(bridged({
    mode: 'network',
    overlays: [
      { network: 'ov1', vxlan: 'vx-1234', vni: 4096, fdb: [{ mac: '02:42:0a:00:09:03', dst: '10.1.0.12' }], neighbours: [{ ip: '10.0.9.3', mac: '02:42:0a:00:09:03' }] },
      { network: 'ov2', vxlan: 'vx-5678', vni: 4097, fdb: [], neighbours: [] },
    ],
  }));
  assert.match(ov, /Overlay ov1: VXLAN device vx-1234 \(VNI 4096, UDP 4789\)\.\n {2}remote 10\.0\.9\.3 \(02:42:0a:00:09:03\) is reached through host 10\.1\.0\.12\./);
  assert.match(ov, /Overlay ov2: [^\n]*\n {2}no remote containers yet\./);
});

test("sayExplanation(x, 'zh') says the same facts in Chinese", () => {
  const t = sayExplanation(bridged(), 'zh');
  for (const s of ['容器 web（running）：bridge 桥接模式', 'veth pair 的一端', '网桥 ctrnet0', 'default via 172.17.0.1 dev eth0', '端口映射 0.0.0.0:8080/tcp → 172.17.0.2:80（DNAT），已有 2 个连接', '内核状态与 ctrnet 记录一致。']) {
    assert.ok(t.includes(s), `missing ${JSON.stringify(s)} in:\n${t}`);
  }
  assert.doesNotMatch(t, /Kernel and state agree/);
});

test('sayExplanation() of a sandbox attached through a plugin says which front door and the runtime\'s id, in both languages', () => {
  const x = bridged({ mode: 'network', external: { kind: 'cni', ref: 'c0ffee' } });
  assert.match(sayExplanation(x), /A sandbox of another runtime, attached through ctrnet's CNI plugin \(its id there: c0ffee\)\./);
  assert.match(sayExplanation({ ...x, external: { kind: 'docker', ref: 'e1' } }, 'zh'), /Docker 插件接入（在该引擎中的 ID：e1）/);
});

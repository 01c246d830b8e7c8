import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { NetworkFirewallConfig, PortMapping } from '../../src/firewall/firewall';
import { LoopbackRelay } from '../../src/firewall/loopback-relay';
import { NftFirewall, NftRunner, renderBridgeTable, renderTable, renderTable6 } from '../../src/firewall/nft/nft-firewall';

// Compiled tests run from dist/test/unit/; golden files stay in the source tree.
const GOLDEN = path.resolve(__dirname, '../../../test/unit/golden');

/** Compares with test/unit/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
function assertGolden(name: string, actual: string): void {
  const file = path.join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === '1') fs.writeFileSync(file, actual);
  assert.equal(actual, fs.readFileSync(file, 'utf8'), `${name} differs (UPDATE_GOLDEN=1 rewrites it)`);
}

const defaultNet: NetworkFirewallConfig = { id: 'a1b2c3d4e5f6'.repeat(5) + 'a1b2', bridge: 'ctrnet0', subnet: '172.17.0.0/16', gateway: '172.17.0.1', internal: false };
const internalNet: NetworkFirewallConfig = { id: '0123456789ab'.repeat(5) + '0123', bridge: 'br-0123456789ab', subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: true };
const anyPort: PortMapping = { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.17.0.2', containerPort: 80 };
const loPort: PortMapping = { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerIp: '172.17.0.3', containerPort: 53 };

/** An NftRunner that records scripts; `fail` decides which scripts are rejected. */
/** What reapply() applies: the three tables. */
const full = (nets: NetworkFirewallConfig[], ports: PortMapping[]) => renderTable(nets, ports) + renderTable6(nets, ports) + renderBridgeTable([]);

function fakeNft(fail: (script: string) => boolean = () => false): NftRunner & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    scripts,
    async apply(script: string) {
      scripts.push(script);
      if (fail(script)) throw new Error('Error: Could not process rule: No such file or directory');
    },
    async list() {
      return '';
    },
    monitor() {
      return () => {};
    },
  };
}

test('renderTable() matches golden nft-basic.nft (default + internal network, ports on every address and on 127.0.0.1)', () => {
  assertGolden('nft-basic.nft', renderTable([defaultNet, internalNet], [anyPort, loPort]));
});

test('renderTable() gives an internal network no outbound masquerade', () => {
  const text = renderTable([internalNet], []);
  assert.doesNotMatch(text, /outbound/);
  assert.match(text, /ip saddr 172\.18\.0\.0\/16 oifname "br-0123456789ab" ct status dnat counter masquerade/);
  assert.doesNotMatch(text, /elements/);
});

test('NftFirewall.newNetwork() applies the full table once and not again for the same config', async () => {
  const nft = fakeNft();
  const fw = new NftFirewall(nft);
  await fw.newNetwork(defaultNet);
  await fw.newNetwork({ ...defaultNet });
  assert.equal(nft.scripts.length, 1);
  assert.equal(nft.scripts[0], full([defaultNet], []));
});

test('NftFirewall addPorts() adds map elements only', async () => {
  const nft = fakeNft();
  const net = await new NftFirewall(nft).newNetwork(defaultNet);
  await net.addPorts([anyPort, { ...loPort, proto: 'tcp' }]);
  assert.equal(
    nft.scripts[1],
    'add element ip ctrnet pub_any { tcp . 8080 : 172.17.0.2 . 80 }\n' +
      'add element ip ctrnet pub_ip { 127.0.0.1 . tcp . 5353 : 172.17.0.3 . 53 }\n',
  );
});

test('NftFirewall delPorts() deletes map elements by key', async () => {
  const nft = fakeNft();
  const net = await new NftFirewall(nft).newNetwork(defaultNet);
  await net.addPorts([anyPort]);
  await net.delPorts([anyPort, loPort]);
  assert.equal(nft.scripts[2], 'delete element ip ctrnet pub_any { tcp . 8080 }\ndelete element ip ctrnet pub_ip { 127.0.0.1 . udp . 5353 }\n');
});

test('NftFirewall addPorts() falls back to a full render when the incremental apply fails', async () => {
  const nft = fakeNft((s) => s.startsWith('add element'));
  const net = await new NftFirewall(nft).newNetwork(defaultNet);
  await net.addPorts([anyPort]);
  assert.equal(nft.scripts.length, 3);
  assert.equal(nft.scripts[2], full([defaultNet], [anyPort]));
});

test('NftFirewall delPorts() falls back to a full render without the deleted port', async () => {
  const nft = fakeNft((s) => s.startsWith('delete element'));
  const net = await new NftFirewall(nft).newNetwork(defaultNet);
  await net.addPorts([anyPort, loPort]);
  await net.delPorts([anyPort]);
  assert.equal(nft.scripts.length, 4);
  assert.equal(nft.scripts[3], full([defaultNet], [loPort]));
});

test('NftFirewall addPorts() rejects with AggregateError and forgets the ports when the full render fails too', async () => {
  let broken = false;
  const nft = fakeNft(() => broken);
  const fw = new NftFirewall(nft);
  const net = await fw.newNetwork(defaultNet);
  broken = true;
  await assert.rejects(net.addPorts([anyPort]), AggregateError);
  broken = false;
  await fw.reapply();
  assert.equal(nft.scripts.at(-1), full([defaultNet], []));
});

test('NftFirewall delNetworkRules() re-renders without that network', async () => {
  const nft = fakeNft();
  const fw = new NftFirewall(nft);
  await fw.newNetwork(defaultNet);
  const n2 = await fw.newNetwork(internalNet);
  await n2.delNetworkRules();
  assert.equal(nft.scripts.at(-1), full([defaultNet], []));
});

test('renderTable() never deletes or flushes the table or the user chain, and deletes each of its own chains and maps once', () => {
  const text = renderTable([defaultNet], [anyPort]);
  assert.doesNotMatch(text, /delete table|flush/);
  assert.doesNotMatch(text, /delete chain ip ctrnet user\b/);
  assert.match(text, /^add table ip ctrnet\nadd chain ip ctrnet user\n/);
  const deleted = [...text.matchAll(/^delete (chain|map) ip ctrnet (\w+)$/gm)].map((m) => m[2]);
  const declared = [...text.matchAll(/^\t(?:chain|map) (\w+) \{$/gm)].map((m) => m[1]);
  assert.deepEqual([...deleted].sort(), [...declared].sort(), 'everything declared is replaced, nothing else');
  for (const name of deleted) assert.ok(text.indexOf(`add ${/^pub_/.test(name) ? 'map' : 'chain'} ip ctrnet ${name}`) < text.indexOf(`delete ${/^pub_/.test(name) ? 'map' : 'chain'} ip ctrnet ${name}`), `${name} is added before it is deleted`);
  // Base chains hold the jumps to publish: they go first, or the kernel refuses (EBUSY).
  assert.ok(deleted.indexOf('publish') > deleted.indexOf('prerouting') && deleted.indexOf('publish') > deleted.indexOf('output'));
});

test('renderTable() jumps to the user chain first in forward', () => {
  const text = renderTable([defaultNet, internalNet], []);
  assert.match(text, /chain forward \{\n\t\ttype filter hook forward priority filter; policy accept;\n\t\tjump user\n\t\tiifname/);
  assert.equal(text.match(/jump user/g)?.length, 1);
});

test('NftFirewall removeAll() removes our chains, maps and the bridge table, and keeps the user chain', async () => {
  const nft = fakeNft();
  await new NftFirewall(nft).removeAll();
  assert.equal(nft.scripts.length, 1);
  const script = nft.scripts[0];
  assert.match(script, /\ntable bridge ctrnet\ndelete table bridge ctrnet\n$/);
  assert.doesNotMatch(script, /delete table ip ctrnet|delete chain ip ctrnet user\b/);
  for (const own of ['chain ip ctrnet forward', 'chain ip ctrnet publish', 'map ip ctrnet pub_any', 'map ip ctrnet pub_ip']) assert.match(script, new RegExp(`^delete ${own}$`, 'm'));
  assert.doesNotMatch(script, /^table ip ctrnet \{/m, 'nothing of ours is added back');
});

test('renderBridgeTable() lets each container port pass only its own MAC and address', () => {
  const text = renderBridgeTable([{ port: 'veth1234567', ip: '172.17.0.2', mac: '02:42:ac:11:00:02' }]);
  assert.match(text, /set port_mac \{\n\t\ttype ifname \. ether_addr\n\t\telements = \{ "veth1234567" \. 02:42:ac:11:00:02 \}/);
  assert.match(text, /set port_ip \{\n\t\ttype ifname \. ipv4_addr\n\t\telements = \{ "veth1234567" \. 172\.17\.0\.2 \}/);
  assert.match(text, /iifname != @ports accept\n\t\tiifname \. ether saddr != @port_mac counter drop/);
  // The common case first: a container's own MAC and address pass with one lookup.
  assert.match(text, /elements = \{ "veth1234567" \. 02:42:ac:11:00:02 \. 172\.17\.0\.2 \}/);
  assert.match(text, /policy accept;\n\t\tether type ip iifname \. ether saddr \. ip saddr @port_mac_ip accept\n/);
});

test('NftFirewall addEndpoint() adds the four set elements; delEndpoint() removes them', async () => {
  const nft = fakeNft();
  const fw = new NftFirewall(nft);
  const ep = { port: 'veth1234567', ip: '172.17.0.2', mac: '02:42:ac:11:00:02' };
  await fw.addEndpoint(ep);
  assert.equal(nft.scripts[0], 'add element bridge ctrnet ports { "veth1234567" }\nadd element bridge ctrnet port_mac { "veth1234567" . 02:42:ac:11:00:02 }\nadd element bridge ctrnet port_ip { "veth1234567" . 172.17.0.2 }\nadd element bridge ctrnet port_mac_ip { "veth1234567" . 02:42:ac:11:00:02 . 172.17.0.2 }\n');
  await fw.delEndpoint(ep);
  assert.match(nft.scripts[1], /^delete element bridge ctrnet ports \{ "veth1234567" \}/);
  await fw.delEndpoint(ep);
  assert.equal(nft.scripts.length, 2, 'deleting twice does nothing');
});

// ------------------------------------------------------------------ IPv6

const dualNet: NetworkFirewallConfig = { ...defaultNet, subnet6: 'fd00:17::/64', gateway6: 'fd00:17::1' };
const v6only: NetworkFirewallConfig = { id: 'fedcba987654'.repeat(5) + 'fedc', bridge: 'br-fedcba987654', subnet: '', gateway: '', internal: false, subnet6: 'fd00:69::/64', gateway6: 'fd00:69::1' };
const routedNet: NetworkFirewallConfig = { id: '99887766aabb'.repeat(5) + '9988', bridge: 'br-99887766aabb', subnet: '172.19.0.0/16', gateway: '172.19.0.1', internal: false, subnet6: '2001:db8:19::/64', gateway6: '2001:db8:19::1', routed6: true };
const internal6: NetworkFirewallConfig = { ...internalNet, subnet6: 'fd00:18::/64', gateway6: 'fd00:18::1' };
const ports6: PortMapping[] = [
  anyPort,
  { proto: 'tcp', hostIp: '::', hostPort: 8080, containerIp: 'fd00:17::2', containerPort: 80 },
  { proto: 'udp', hostIp: '2001:db8::1', hostPort: 5353, containerIp: 'fd00:17::3', containerPort: 53 },
  { proto: 'tcp', hostIp: '::1', hostPort: 8081, containerIp: 'fd00:17::2', containerPort: 80 },
  { proto: 'tcp', hostIp: '2001:db8:19::2', hostPort: 80, containerIp: '2001:db8:19::2', containerPort: 80 },
];
const eps6 = [
  { port: 'veth1234567', ip: '172.17.0.2', mac: '02:42:ac:11:00:02', ip6: ['fd00:17::2', 'fe80::42:acff:fe11:2'] },
  { port: 'veth7654321', ip: '', mac: '02:42:00:00:00:02', ip6: ['fd00:69::2', 'fe80::42:ff:fe00:2'] },
];

/** A loopback relay that only records what it is asked (no sockets in unit tests). */
function fakeRelay() {
  const open: string[] = [];
  const relay = {
    open,
    async add(p: PortMapping) {
      if (!open.includes(`${p.proto} ${p.hostPort}`)) open.push(`${p.proto} ${p.hostPort}`);
    },
    remove(p: PortMapping) {
      open.splice(open.indexOf(`${p.proto} ${p.hostPort}`), 1);
    },
    counts: () => new Map<string, number>(),
    closeAll() {
      open.length = 0;
    },
  };
  return { relay: relay as unknown as LoopbackRelay, open };
}

test('renderTable() + renderTable6() + renderBridgeTable() match golden nft-dualstack.nft (dual-stack, IPv6-only, internal and routed networks; ports on ::, an IPv6 address, ::1 and routed; IPv6 endpoints)', () => {
  const nets = [dualNet, internal6, v6only, routedNet];
  assertGolden('nft-dualstack.nft', renderTable(nets, ports6) + renderTable6(nets, ports6) + renderBridgeTable(eps6));
});

test('renderTable6() masquerades each IPv6 subnet but a routed or internal one, never DNATs ::1, and leaves IPv4-only networks out', () => {
  const text = renderTable6([defaultNet, dualNet, routedNet, internal6], ports6);
  assert.match(text, /ip6 saddr fd00:17::\/64 oifname != "ctrnet0" counter masquerade/);
  assert.doesNotMatch(text, /ip6 saddr 2001:db8:19::\/64 oifname != /, 'routed: no NAT66');
  assert.doesNotMatch(text, /ip6 saddr fd00:18::\/64 oifname != /, 'internal: no way out');
  assert.match(text, /fib daddr type local ip6 daddr != ::1 jump publish\n\t\}\n\tchain output \{\n\t\ttype nat hook output priority -100; policy accept;\n\t\tfib daddr type local ip6 daddr != ::1 jump publish/);
  assert.doesNotMatch(text, /::1 \. tcp \. 8081/, 'a ::1 port is the relay\'s, not an element');
  assert.match(text, /set routed \{\n\t\ttype ipv6_addr \. inet_proto \. inet_service\n\t\telements = \{ 2001:db8:19::2 \. tcp \. 80 \}/);
  assert.match(text, /iifname "br-0123456789ab" icmpv6 type \{ nd-neighbor-solicit, nd-neighbor-advert \} accept/);
  assert.match(renderTable([defaultNet, v6only], []), /^table ip ctrnet \{(?![\s\S]*fedcba987654)/m, 'the IPv4 table knows nothing of an IPv6-only network');
});

test('NftFirewall addPorts() puts IPv6 ports in the ip6 table, routed ones in the set, and ::1 (and :: for the host itself) on the loopback relay', async () => {
  const nft = fakeNft();
  const { relay, open } = fakeRelay();
  const net = await new NftFirewall(nft, relay).newNetwork(dualNet);
  await net.addPorts(ports6.slice(1));
  assert.equal(
    nft.scripts[1],
    'add element ip6 ctrnet pub_any { tcp . 8080 : fd00:17::2 . 80 }\n' +
      'add element ip6 ctrnet pub_ip { 2001:db8::1 . udp . 5353 : fd00:17::3 . 53 }\n' +
      'add element ip6 ctrnet routed { 2001:db8:19::2 . tcp . 80 }\n',
  );
  assert.deepEqual(open, ['tcp 8080', 'tcp 8081']);
  await net.delPorts(ports6.slice(1));
  assert.match(nft.scripts[2], /^delete element ip6 ctrnet pub_any \{ tcp \. 8080 \}\n/);
  assert.deepEqual(open, []);
});

test('NftFirewall addEndpoint() adds an IPv6-only endpoint\'s IPv6 sets (sources, MAC and source, ND targets) and no IPv4 ones', async () => {
  const nft = fakeNft();
  await new NftFirewall(nft, fakeRelay().relay).addEndpoint(eps6[1]);
  assert.equal(
    nft.scripts[0],
    'add element bridge ctrnet ports { "veth7654321" }\n' +
      'add element bridge ctrnet port_mac { "veth7654321" . 02:42:00:00:00:02 }\n' +
      'add element bridge ctrnet port_ip6 { "veth7654321" . fd00:69::2, "veth7654321" . fe80::42:ff:fe00:2 }\n' +
      'add element bridge ctrnet port_mac_ip6 { "veth7654321" . 02:42:00:00:00:02 . fd00:69::2, "veth7654321" . 02:42:00:00:00:02 . fe80::42:ff:fe00:2 }\n' +
      'add element bridge ctrnet port_nd { "veth7654321" . 0xfd000069000000000000000000000002, "veth7654321" . 0xfe80000000000000004200fffe000002 }\n',
  );
});

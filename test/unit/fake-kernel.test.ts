/**
 * FakeKernel's semantics without root: what it makes, what the kernel does on its own when
 * things change, and how it fails. (test/e2e/kernel.test.ts holds the same behaviour to the
 * real kernel through both adapters.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { Kernel, KernelError } from '../../src/kernel/kernel';

const errno = (e: KernelErrnoLike) => (err: unknown) => err instanceof KernelError && err.errno === e;
type KernelErrnoLike = KernelError['errno'];
const names = async (k: Kernel) => (await k.linkList()).map((l) => l.name);
const link = async (k: Kernel, name: string) => (await k.linkList()).find((l) => l.name === name);

test('new FakeKernel() is a host with lo up, reported with the adapters\' fields', async () => {
  const k = new FakeKernel();
  assert.deepEqual(await k.linkList(), [{ name: 'lo', index: 1, mtu: 65536, mac: '00:00:00:00:00:00', up: true, kind: undefined, master: undefined }]);
  assert.deepEqual(await k.addrList(), [{ dev: 'lo', address: '127.0.0.1', prefixLen: 8 }]);
  assert.deepEqual(await k.addrList(6), [{ dev: 'lo', address: '::1', prefixLen: 128 }]);
  assert.deepEqual([await k.routeList(), await k.routeList(6)], [[], []], 'lo\'s routes are in table local');
});

test('batch.commit() fails with EEXIST for a second link of a name and stops at the first failure', async () => {
  const k = new FakeKernel();
  await k.batch().linkAddBridge('br0').commit();
  await assert.rejects(k.batch().linkAddBridge('ok0').linkAddBridge('br0').linkAddBridge('never0').commit(), (e: KernelError) => e.errno === 'EEXIST' && /in: linkAddBridge br0/.test(e.message));
  assert.deepEqual(await names(k), ['lo', 'br0', 'ok0']);
  await assert.rejects(k.batch().linkAddVeth('v0', 'br0', { mtu: 1500 }).commit(), errno('EEXIST'), 'a peer name taken too');
});

test('missing devices, masters and namespaces fail with ENOENT', async () => {
  const k = new FakeKernel();
  await k.batch().linkAddBridge('br0').linkAddVeth('v0', 'v1', { mtu: 1500 }).commit();
  await assert.rejects(k.batch().linkSetUp('nosuch').commit(), errno('ENOENT'));
  await assert.rejects(k.batch().linkSetMaster('v0', 'nosuch').commit(), errno('ENOENT'));
  await assert.rejects(k.batch().addrReplace('nosuch', '10.0.0.1/24').commit(), errno('ENOENT'));
  await assert.rejects(k.neighList('nosuch'), errno('ENOENT'));
  await assert.rejects(k.fdbList('nosuch'), errno('ENOENT'));
  await assert.rejects(k.at('/run/nosuch').batch().linkSetUp('lo').commit(), errno('ENOENT'));
  await assert.rejects(k.at('/run/nosuch').linkList(), errno('ENOENT'));
  await assert.rejects(k.batch().linkAddVeth('v2', 'eth0', { mtu: 1500, peerNetns: '/run/nosuch' }).commit(), errno('ENOENT'));
  await assert.rejects(k.batch().routeReplace('10.9.0.0/16', {}).commit(), errno('ENOENT'));
});

test('a veth pair spans namespaces; deleting either end, or the namespace, deletes both', async () => {
  const k = new FakeKernel();
  const sb = k.at('/run/x/sb1');
  await k.netnsAdd('/run/x/sb1');
  await assert.rejects(k.netnsAdd('/run/x/sb1'), errno('EEXIST'));
  assert.deepEqual(await k.netnsList('/run/x'), ['/run/x/sb1']);
  assert.deepEqual(await sb.linkList(), [{ name: 'lo', index: 1, mtu: 65536, mac: '00:00:00:00:00:00', up: false, kind: undefined, master: undefined }]);
  assert.equal(k.at('/run/x/sb1') instanceof FakeKernel && (k.at('/run/x/sb1') as FakeKernel).sysctl('net.ipv6.conf.all.disable_ipv6'), '1');
  await k.batch().linkAddVeth('veth1', 'eth0', { mtu: 1450, peerNetns: '/run/x/sb1', peerMac: '02:42:AC:11:00:02' }).commit();
  assert.deepEqual(await link(sb, 'eth0'), { name: 'eth0', index: 2, mtu: 1450, mac: '02:42:ac:11:00:02', up: false, kind: 'veth', master: undefined });
  assert.match((await link(k, 'veth1'))!.mac, /^[0-9a-f][26ae](:[0-9a-f]{2}){5}$/, 'a random unicast, locally administered MAC');
  await sb.batch().linkDel('eth0').commit();
  assert.deepEqual(await names(k), ['lo'], 'the peer went with it');
  await k.batch().linkAddVeth('veth2', 'eth0', { mtu: 1500, peerNetns: '/run/x/sb1' }).linkAddVeth('a0', 'a1', { mtu: 1500 }).commit();
  assert.deepEqual((await k.linkList()).map((l) => `${l.index}:${l.name}`), ['1:lo', '3:veth2', '4:a1', '5:a0'], 'indexes are not reused; a peer in the same namespace is registered first');
  await k.netnsDel('/run/x/sb1');
  await k.netnsDel('/run/x/sb1'); // already gone: fine
  assert.deepEqual(await names(k), ['lo', 'a1', 'a0'], 'the namespace\'s links took their peers with them');
  assert.deepEqual(await k.netnsList('/run/x'), []);
});

test('a bridge follows its ports: lowest MTU, lowest MAC unless given; deleting it frees them', async () => {
  const k = new FakeKernel();
  await k.batch().linkAddBridge('br0', { mtu: 1450 }).linkAddBridge('br1', { mac: '02:00:00:00:00:01' }).commit();
  await k.batch().linkAddVeth('v0', 'p0', { mtu: 1400 }).linkAddVeth('v1', 'p1', { mtu: 1500 }).commit();
  await assert.rejects(k.batch().linkSetIsolated('v0').commit(), errno('EOPNOTSUPP'), 'isolated needs a bridge port');
  await assert.rejects(k.batch().linkSetMaster('v0', 'v1').commit(), errno('EOPNOTSUPP'), 'a veth is no master');
  await assert.rejects(k.batch().linkSetMaster('lo', 'br0').commit(), errno('EINVAL'));
  await assert.rejects(k.batch().linkDel('lo').commit(), errno('EOPNOTSUPP'));
  await k.batch().linkSetMaster('v0', 'br0').linkSetMaster('v1', 'br0').linkSetIsolated('v1').linkSetMaster('p0', 'br1').commit();
  const [v0, v1, br0, br1] = await Promise.all(['v0', 'v1', 'br0', 'br1'].map((n) => link(k, n)));
  assert.equal(br0!.mtu, 1400);
  assert.equal(br0!.mac, [v0!.mac, v1!.mac].sort()[0]);
  assert.equal(br1!.mac, '02:00:00:00:00:01');
  assert.equal(v1!.master, 'br0');
  await k.batch().linkDel('v0').commit();
  assert.equal((await link(k, 'br0'))!.mtu, 1500);
  await k.batch().linkDel('v1').commit();
  assert.deepEqual([(await link(k, 'br0'))!.mtu, (await link(k, 'br0'))!.mac], [1500, '00:00:00:00:00:00'], 'without ports: 1500 and no MAC');
  assert.deepEqual(await names(k), ['lo', 'br0', 'br1'], 'the peers went with v0 and v1');
  await k.batch().linkAddVeth('v2', 'p2', { mtu: 1500 }).linkSetMaster('v2', 'br1').linkSetMaster('p2', 'br0').linkSetMaster('p2', 'br1').commit();
  assert.equal((await link(k, 'br0'))!.mac, '00:00:00:00:00:00', 'a port that moved to another bridge left this one');
  await k.batch().linkDel('br1').commit();
  assert.deepEqual([(await link(k, 'v2'))!.master, (await link(k, 'p2'))!.master], [undefined, undefined]);
});

test('addresses and routes: a connected route when the link is up, gateways must be on-link', async () => {
  const k = new FakeKernel();
  await k.batch().linkAddBridge('br0').addrReplace('br0', '10.1.0.1/24').addrReplace('br0', '10.1.0.5/24').addrReplace('br0', '10.2.0.1/32').addrReplace('br0', '10.1.0.1/16').commit();
  assert.deepEqual((await k.addrList()).filter((a) => a.dev === 'br0').map((a) => `${a.address}/${a.prefixLen}`), ['10.1.0.1/24', '10.2.0.1/32', '10.1.0.1/16', '10.1.0.5/24'], 'primaries, then secondaries');
  assert.deepEqual(await k.routeList(), [], 'no route while the link is down');
  await assert.rejects(k.batch().routeReplace('10.9.0.0/16', { dev: 'br0' }).commit(), errno('ENETDOWN'));
  await assert.rejects(k.batch().routeReplace('10.9.0.0/16', { via: '10.1.0.254' }).commit(), errno('ENETUNREACH'));
  await k.batch().linkSetUp('br0').routeReplace('10.9.0.0/16', { via: '10.1.0.254' }).routeReplace('10.8.0.7', { dev: 'br0' }).routeReplace('default', { via: '10.1.0.254', dev: 'br0' }).commit();
  assert.deepEqual(await k.routeList(), [
    { dst: 'default', dev: 'br0', gateway: '10.1.0.254' },
    { dst: '10.1.0.0/24', dev: 'br0', gateway: undefined },
    { dst: '10.1.0.0/16', dev: 'br0', gateway: undefined },
    { dst: '10.8.0.7', dev: 'br0', gateway: undefined },
    { dst: '10.9.0.0/16', dev: 'br0', gateway: '10.1.0.254' },
  ]);
  await assert.rejects(k.batch().routeReplace('10.9.1.0/16', { dev: 'br0' }).commit(), errno('EINVAL'), 'host bits in an IPv4 destination');
  await assert.rejects(k.batch().routeReplace('10.7.0.0/16', { via: '10.50.0.1' }).commit(), errno('ENETUNREACH'), 'only reached through the default route');
  await k.batch().routeReplace('10.9.0.0/16', { dev: 'br0' }).commit();
  assert.deepEqual((await k.routeList()).filter((r) => r.dst === '10.9.0.0/16'), [{ dst: '10.9.0.0/16', dev: 'br0', gateway: undefined }], 'replaced, not added');
  await k.batch().linkDel('br0').commit();
  assert.deepEqual([await k.addrList(), await k.routeList()], [[{ dev: 'lo', address: '127.0.0.1', prefixLen: 8 }], []]);
});

test('IPv6: off in new namespaces (EACCES), on per link; addresses, routes and neighbours in kernel order', async () => {
  const host = new FakeKernel();
  await host.netnsAdd('/run/sb');
  const k = host.at('/run/sb') as FakeKernel;
  await k.batch().linkAddBridge('br0').commit();
  await assert.rejects(k.batch().addrReplace('br0', 'fd00::1/64').commit(), errno('EACCES'));
  await assert.rejects(k.batch().neighReplace('br0', 'fd00::9', '02:00:00:00:00:09').commit(), errno('EINVAL'));
  await assert.rejects(k.sysctlSet('net.ipv6.conf.nosuch.disable_ipv6', '0'), errno('ENOENT'));
  await k.sysctlSet('net.ipv6.conf.br0.disable_ipv6', '0');
  await k.batch().addrReplace('br0', 'fd00:0::1/64').addrReplace('br0', 'fe80::5/64').addrReplace('br0', 'fd01::1/128').commit();
  assert.deepEqual((await k.addrList(6)).map((a) => `${a.address}/${a.prefixLen}`), ['fd01::1/128', 'fd00::1/64', 'fe80::5/64']);
  assert.deepEqual(await k.addrList(4), []);
  await assert.rejects(k.batch().routeReplace('fd05::/64', { dev: 'br0' }).commit(), errno('ENETDOWN'));
  await k.batch().linkSetUp('br0').routeReplace('fd05::/64', { via: 'fd00::fe' }).routeReplace('default', { via: 'fd00::fe' }).routeReplace('fd00::/48', { dev: 'br0' }).commit();
  await assert.rejects(k.batch().routeReplace('fd06::/64', { via: 'fd07::1' }).commit(), errno('EHOSTUNREACH'));
  await assert.rejects(k.batch().routeReplace('fd06::/64', { via: 'fd00::1' }).commit(), errno('EINVAL'), 'a local address is no gateway');
  assert.deepEqual((await k.routeList(6)).map((r) => `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}`), ['fd00::/64', 'fd00::/48', 'fd01::1', 'fd05::/64 via fd00::fe', 'fe80::/64', 'default via fd00::fe']);
  await k.batch().neighReplace('br0', 'fd00::9', '02:00:00:00:00:09').neighReplace('br0', '10.1.0.9', '02:00:00:00:00:0a').commit();
  assert.deepEqual(await k.neighList('br0', 6), [{ ip: 'fd00::9', mac: '02:00:00:00:00:09' }]);
  assert.deepEqual(await k.neighList('br0'), [{ ip: '10.1.0.9', mac: '02:00:00:00:00:0a' }]);
  await k.sysctlSet('net.ipv6.conf.br0.disable_ipv6', '1');
  assert.deepEqual([await k.addrList(6), await k.routeList(6), await k.neighList('br0', 6)], [[], [], []], 'IPv6 off: its state is gone');
  assert.equal((await k.neighList('br0')).length, 1);
});

test('vxlan: one VNI per port, FDB entries with a remote, neighbours; deleting what is not there is ENOENT', async () => {
  const k = new FakeKernel();
  await k.batch().linkAddVxlan('vx0', { vni: 42, local: '10.1.0.1', port: 4789, mtu: 1450 }).commit();
  await assert.rejects(k.batch().linkAddVxlan('vx1', { vni: 42, local: '10.1.0.2', port: 4789, mtu: 1450 }).commit(), errno('EEXIST'));
  await k.batch().linkAddVxlan('vx1', { vni: 42, local: '10.1.0.1', port: 4790, mtu: 1450 }).commit();
  await k.batch().fdbReplace('vx0', '02:00:00:00:00:0A', '10.3.0.1').fdbReplace('vx0', '02:00:00:00:00:0b', '10.3.0.2').fdbReplace('vx0', '02:00:00:00:00:0a', '10.3.0.3').commit();
  assert.deepEqual(await k.fdbList('vx0'), [{ mac: '02:00:00:00:00:0a', dst: '10.3.0.3' }, { mac: '02:00:00:00:00:0b', dst: '10.3.0.2' }]);
  await k.batch().fdbDel('vx0', '02:00:00:00:00:0b').neighReplace('vx0', '10.4.0.9', '02:00:00:00:00:0a').commit();
  await assert.rejects(k.batch().fdbDel('vx0', '02:00:00:00:00:0b').commit(), errno('ENOENT'));
  await assert.rejects(k.batch().neighDel('vx0', '10.4.0.99').commit(), errno('ENOENT'));
  await k.batch().neighDel('vx0', '10.4.0.9').commit();
  assert.deepEqual([await k.fdbList('vx0'), await k.neighList('vx0')], [[{ mac: '02:00:00:00:00:0a', dst: '10.3.0.3' }], []]);
  await assert.rejects(k.batch().neighReplace('vx0', '10.4.0.300', '02:00:00:00:00:0a').commit(), errno('EINVAL'));
  await assert.rejects(k.batch().linkAddBridge('br0', { mtu: 60 }).commit(), errno('EINVAL'));
  await assert.rejects(k.batch().linkAddBridge('a-name-too-long0').commit(), errno('EINVAL'));
});

test('failNext() fails the chosen call once (or n times); earlier ops of the batch stay; calls are recorded', async () => {
  const k = new FakeKernel();
  k.failNext('linkSetUp', 'EPERM');
  await assert.rejects(k.batch().linkAddBridge('br0').linkSetUp('br0').commit(), (e: KernelError) => e.errno === 'EPERM' && /in: linkSetUp br0/.test(e.message));
  assert.equal((await link(k, 'br0'))!.up, false);
  await k.batch().linkSetUp('br0').commit(); // only once
  k.failNext((c) => c.op === 'netnsAdd' && String(c.args[0]).endsWith('/b'), 'EBUSY', 2);
  await k.netnsAdd('/run/a');
  await assert.rejects(k.netnsAdd('/run/b'), errno('EBUSY'));
  await assert.rejects(k.netnsAdd('/run/b'), errno('EBUSY'));
  await k.netnsAdd('/run/b');
  k.failNext((c) => c.netns === '/run/a' && c.op === 'linkList', 'EPERM');
  await k.linkList();
  await assert.rejects(k.at('/run/a').linkList(), errno('EPERM'));
  const ops = k.calls.map((c) => `${c.netns ?? '-'} ${c.op}`);
  assert.deepEqual(ops.slice(0, 7), ['- commit', '- linkAddBridge', '- linkSetUp', '- linkList', '- commit', '- linkSetUp', '- netnsAdd']);
});

test('mounts, sysctls and host ports', async () => {
  const k = new FakeKernel();
  await k.mountOverlay('/l', '/u', '/w', '/t');
  await assert.rejects(k.mountOverlay('/l', '/u', '/w2', '/t2'), errno('EBUSY'), 'an upper directory in use');
  assert.deepEqual(k.mounts(), [{ lower: '/l', upper: '/u', work: '/w', target: '/t' }]);
  await k.unmount('/t');
  await assert.rejects(k.unmount('/t'), errno('EINVAL'));
  await k.sysctlSet('net.ipv4.ip_forward', '1');
  assert.equal(k.sysctl('net.ipv4.ip_forward'), '1');
  await assert.rejects(k.sysctlSet('net.ipv4.conf.nosuch.forwarding', '1'), errno('ENOENT'));
  assert.equal(await k.portFree('tcp', '127.0.0.1', 8080), true);
  k.holdPort('tcp', '0.0.0.0', 8080);
  assert.equal(await k.portFree('tcp', '127.0.0.1', 8080), false);
  assert.equal(await k.portFree('udp', '127.0.0.1', 8080), true);
});

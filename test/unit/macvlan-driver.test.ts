/**
 * The macvlan and ipvlan drivers against FakeKernel: parents (existing, 802.1Q sub-interfaces made
 * and removed only when ctrnet made them and no other network uses them, dummy parents), one
 * network per parent, joins inside the sandbox, passthru, and a kernel without ipvlan, vlan or
 * dummy links (this machine's), whose errors must say so and leave nothing behind.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../src/base/errors';
import { Endpoint, Network } from '../../src/base/model';
import { JoinRequest, NetworkRequest, TakenSubnet } from '../../src/drivers/driver';
import { IpvlanDriver } from '../../src/drivers/ipvlan-driver';
import { MacvlanDriver } from '../../src/drivers/macvlan-driver';
import { DEFAULT_POOLS } from '../../src/ipam/pools';
import { parseCidr, macFromIp } from '../../src/ipam/ipam';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { SqliteStore } from '../../src/state/sqlite-store';

const SB = '/fake/run/netns/sb1';

async function world(missingKinds: string[] = []) {
  const k = new FakeKernel({ missingKinds });
  // The host's LAN interface: a veth with an address, and its route.
  await k.batch().linkAddVeth('eth9', 'eth9p', { mtu: 1500 }).addrReplace('eth9', '192.168.50.10/24').linkSetUp('eth9').commit();
  const store = new SqliteStore(':memory:');
  return { k, store, mv: new MacvlanDriver(k, store, { pools: DEFAULT_POOLS }), iv: new IpvlanDriver(k, store, { pools: DEFAULT_POOLS }) };
}

const req = (name: string, options: Record<string, string>, over: Partial<NetworkRequest> = {}): NetworkRequest => ({
  id: name.padEnd(64, 'a'), name, driver: 'macvlan', subnet: '192.168.50.0/24', gateway: '192.168.50.1', internal: false, labels: {}, options, ...over,
});
/** The host's route through the parent, as Networks passes it: not an overlap for a macvlan network. */
const taken: TakenSubnet[] = [{ what: 'a route of the host (192.168.50.0/24 dev eth9)', subnet: parseCidr('192.168.50.0/24'), dev: 'eth9' }];
const links = async (k: FakeKernel, ns?: string) => (await (ns ? k.at(ns) : k).linkList()).map((l) => `${l.name}${l.kind ? `:${l.kind}` : ''}`).sort();

async function endpoint(w: Awaited<ReturnType<typeof world>>, net: Network, driver: MacvlanDriver | IpvlanDriver, n: string, ip?: string): Promise<JoinRequest> {
  const ep: Endpoint = await driver.lease(net, { id: n.padEnd(64, '0'), containerId: n.padEnd(64, 'c'), networkId: net.id, ifName: 'eth0', hostIf: '', mac: '', aliases: [] }, (used) => {
    if (ip) return ip;
    for (let i = 2; ; i++) if (!used.has(`192.168.50.${i}`)) return `192.168.50.${i}`;
  });
  const e = { ...ep, mac: macFromIp(ep.ip) };
  w.store.endpoints.update(e.id, { mac: e.mac });
  return { network: net, endpoint: e, containerName: n, sandbox: `/fake/run/netns/${n}`, defaultRoute: true, ports: [] };
}

describe('MacvlanDriver', () => {
  it('createNetwork() on an existing parent: its own LAN subnet is not an overlap; the network is recorded, nothing is made', async () => {
    const w = await world();
    const before = await links(w.k);
    const net = await w.mv.createNetwork(req('mv', { parent: 'eth9' }), taken);
    assert.deepEqual([net.subnet, net.gateway, net.internal, net.createdLink], ['192.168.50.0/24', '192.168.50.1', false, undefined]);
    assert.deepEqual(await links(w.k), before);
    // but another network's subnet is one, and so is a route of another interface
    await assert.rejects(w.mv.createNetwork(req('mv2', { parent: 'eth9p' }), [{ what: 'network mv', subnet: parseCidr('192.168.50.0/24') }]), /overlaps network mv/);
    await assert.rejects(w.mv.createNetwork(req('mv3', { parent: 'eth9p' }), taken), /overlaps a route of the host \(192\.168\.50\.0\/24 dev eth9\)/);
  });

  it('one network per parent; lo, a missing parent and an unknown mode are refused in Docker\'s words', async () => {
    const w = await world();
    await w.mv.createNetwork(req('mv', { parent: 'eth9' }), taken);
    await assert.rejects(w.mv.createNetwork(req('mv2', { parent: 'eth9' }, { subnet: '10.9.0.0/24', gateway: undefined }), []), /network mv is already using parent interface eth9/);
    await assert.rejects(w.mv.createNetwork(req('mv3', { parent: 'lo' }), []), /loopback interface is not a valid macvlan parent link/);
    await assert.rejects(w.mv.createNetwork(req('mv4', { parent: 'nosuch0' }), []), /-o parent interface was not found on the host: nosuch0/);
    await assert.rejects(w.mv.createNetwork(req('mv5', { parent: 'eth9p', macvlan_mode: 'sideways' }), []), /requested macvlan mode 'sideways' is not valid/);
    await assert.rejects(w.mv.createNetwork(req('mv6', { parent: 'eth9p', colour: 'x' }), []), /unknown macvlan network option "colour"/);
  });

  it('an 802.1Q sub-interface parent is made, and removed with the last network that uses it; one of the user\'s is never removed', async () => {
    const w = await world();
    const n10 = await w.mv.createNetwork(req('mv10', { parent: 'eth9.10' }, { subnet: '10.10.0.0/24', gateway: undefined }), []);
    assert.equal(n10.createdLink, 'eth9.10');
    assert.ok((await links(w.k)).includes('eth9.10:vlan'));
    // an ipvlan network on the same sub-interface (another driver): it stays while that one uses it
    const iv = await w.iv.createNetwork({ ...req('iv10', { parent: 'eth9.10' }, { subnet: '10.11.0.0/24', gateway: undefined }), driver: 'ipvlan' }, []);
    assert.equal(iv.createdLink, undefined, 'it exists already: not ipvlan\'s to remove');
    await w.mv.deleteNetwork(n10);
    assert.ok((await links(w.k)).includes('eth9.10:vlan'), 'still used by iv10');
    await w.iv.deleteNetwork(iv);
    assert.ok((await links(w.k)).includes('eth9.10:vlan'), 'the network that made it is gone, and iv10 never owned it');
    // A sub-interface the user made is not removed either.
    await w.k.batch().linkAddVlan('eth9.20', 'eth9', 20).commit();
    const n20 = await w.mv.createNetwork(req('mv20', { parent: 'eth9.20' }, { subnet: '10.20.0.0/24', gateway: undefined }), []);
    await w.mv.deleteNetwork(n20);
    assert.ok((await links(w.k)).includes('eth9.20:vlan'));
    // Made and removed when nothing else uses it.
    const n30 = await w.mv.createNetwork(req('mv30', { parent: 'eth9.30' }, { subnet: '10.30.0.0/24', gateway: undefined }), []);
    await w.mv.deleteNetwork(n30);
    assert.ok(!(await links(w.k)).includes('eth9.30:vlan'));
    await assert.rejects(w.mv.createNetwork(req('mvx', { parent: 'nosuch0.5' }), []), /-o parent interface was not found on the host: nosuch0/);
  });

  it('without parent: a dummy parent dm-<id>, internal, removed with the network', async () => {
    const w = await world();
    const net = await w.mv.createNetwork(req('mvd', {}, { subnet: '10.40.0.0/24', gateway: undefined }), []);
    assert.equal(net.createdLink, `dm-${net.id.slice(0, 12)}`);
    assert.equal(net.internal, true);
    assert.ok((await links(w.k)).includes(`${net.createdLink}:dummy`));
    await w.mv.deleteNetwork(net);
    assert.ok(!(await links(w.k)).some((l) => l.startsWith('dm-')));
  });

  it('on a kernel without 802.1Q or dummy links: the error names the missing feature and the way around it; nothing is left', async () => {
    const w = await world(['vlan', 'dummy']);
    const before = await links(w.k);
    await assert.rejects(w.mv.createNetwork(req('mv10', { parent: 'eth9.10' }, { subnet: '10.10.0.0/24', gateway: undefined }), []), (e: unknown) =>
      e instanceof EngineError && e.code === 'KERNEL_UNSUPPORTED' && /cannot create the 802\.1Q sub-interface eth9\.10 for network mv10: this kernel has no 802\.1Q VLAN support \(CONFIG_VLAN_8021Q, module 8021q\)/.test(e.message) && /-o parent/.test(e.hint ?? ''));
    await assert.rejects(w.mv.createNetwork(req('mvd', {}, { subnet: '10.40.0.0/24', gateway: undefined }), []), (e: unknown) => e instanceof EngineError && e.code === 'KERNEL_UNSUPPORTED' && /dummy link support/.test(e.message));
    assert.deepEqual(await links(w.k), before);
    assert.deepEqual(w.store.networks.list(), []);
  });

  it('join() makes the macvlan inside the sandbox as eth0 with its MAC, address and default route; leave() removes it', async () => {
    const w = await world();
    const net = await w.mv.createNetwork(req('mv', { parent: 'eth9', macvlan_mode: 'private' }), taken);
    await w.k.netnsAdd('/fake/run/netns/c1');
    const r = await endpoint(w, net, w.mv, 'c1');
    await w.mv.join(r);
    const inside = w.k.at(r.sandbox);
    const eth0 = (await inside.linkList()).find((l) => l.name === 'eth0')!;
    assert.deepEqual([eth0.kind, eth0.mac, eth0.up], ['macvlan', r.endpoint.mac, true]);
    assert.deepEqual((await inside.addrList()).map((a) => `${a.dev} ${a.address}/${a.prefixLen}`), ['lo 127.0.0.1/8', `eth0 ${r.endpoint.ip}/24`]);
    assert.deepEqual((await inside.routeList()).find((x) => x.dst === 'default'), { dst: 'default', dev: 'eth0', gateway: '192.168.50.1' });
    assert.ok(w.k.calls.some((c) => c.op === 'linkAddMacvlan' && c.args[2] === 'private'));
    await w.mv.leave({ ...r, sandboxGoing: true });
    assert.deepEqual(await links(w.k, r.sandbox), ['lo']);
  });

  it('lease() never hands out the host\'s own address on the parent', async () => {
    const w = await world();
    const net = await w.mv.createNetwork(req('mv', { parent: 'eth9' }, { gateway: '192.168.50.254' }), taken);
    const seen: string[] = [];
    await w.mv.lease(net, { id: 'e'.repeat(64), containerId: 'c'.repeat(64), networkId: net.id, ifName: 'eth0', hostIf: '', mac: '', aliases: [] }, (used) => {
      seen.push(...used);
      return '192.168.50.11';
    });
    assert.ok(seen.includes('192.168.50.10'), 'eth9 holds 192.168.50.10: taken');
  });

  it('passthru: the child takes the parent\'s MAC (recorded); a second child is refused before anything is made', async () => {
    const w = await world();
    const net = await w.mv.createNetwork(req('mvp', { parent: 'eth9', macvlan_mode: 'passthru' }), taken);
    for (const c of ['/fake/run/netns/p1', '/fake/run/netns/p2']) await w.k.netnsAdd(c);
    const r1 = await endpoint(w, net, w.mv, 'p1');
    await w.mv.join(r1);
    const parentMac = (await w.k.linkList()).find((l) => l.name === 'eth9')!.mac;
    assert.equal((await w.k.at(r1.sandbox).linkList()).find((l) => l.name === 'eth0')!.mac, parentMac);
    assert.equal(w.store.endpoints.list({ networkId: net.id })[0].mac, parentMac, 'inspect shows the MAC it has');
    const r2 = await endpoint(w, net, w.mv, 'p2');
    await assert.rejects(w.mv.join(r2), /macvlan network mvp is in passthru mode: its parent eth9 holds one container/);
    assert.deepEqual(await links(w.k, r2.sandbox), ['lo']);
  });
});

describe('IpvlanDriver', () => {
  it('on a kernel without ipvlan (this machine\'s): createNetwork() says so, naming the module and macvlan; nothing is left', async () => {
    const w = await world(['ipvlan']);
    const before = await links(w.k);
    await assert.rejects(w.iv.createNetwork({ ...req('iv', { parent: 'eth9' }), driver: 'ipvlan' }, taken), (e: unknown) =>
      e instanceof EngineError && e.code === 'KERNEL_UNSUPPORTED' && e.kind === 'notImplemented' && /cannot make ipvlan network iv: this kernel has no ipvlan support \(CONFIG_IPVLAN, module ipvlan\)/.test(e.message) && /macvlan/.test(e.hint ?? ''));
    assert.deepEqual(await links(w.k), before);
    assert.deepEqual(w.store.networks.list(), []);
  });

  it('where the kernel has ipvlan: l2 children share the parent\'s MAC and route via the gateway; l3 routes on the link', async () => {
    const w = await world();
    const l2 = await w.iv.createNetwork({ ...req('iv2', { parent: 'eth9' }), driver: 'ipvlan' }, taken);
    assert.deepEqual(await links(w.k), ['eth9:veth', 'eth9p:veth', 'lo'], 'the probe link is gone');
    await w.k.netnsAdd('/fake/run/netns/i1');
    const r = await endpoint(w, l2, w.iv, 'i1');
    await w.iv.join(r);
    const parentMac = (await w.k.linkList()).find((l) => l.name === 'eth9')!.mac;
    const eth0 = (await w.k.at(r.sandbox).linkList()).find((l) => l.name === 'eth0')!;
    assert.deepEqual([eth0.kind, eth0.mac], ['ipvlan', parentMac]);
    assert.equal((await w.k.at(r.sandbox).routeList()).find((x) => x.dst === 'default')?.gateway, '192.168.50.1');
    await w.iv.deleteNetwork(l2);
    const l3 = await w.iv.createNetwork({ ...req('iv3', { parent: 'eth9p', ipvlan_mode: 'l3' }, { subnet: '10.50.0.0/24', gateway: undefined }), driver: 'ipvlan' }, []);
    await w.k.batch().linkSetUp('eth9p').commit();
    await w.k.netnsAdd('/fake/run/netns/i3');
    const ep: Endpoint = await w.iv.lease(l3, { id: 'f'.repeat(64), containerId: 'd'.repeat(64), networkId: l3.id, ifName: 'eth0', hostIf: '', mac: '', aliases: [] }, () => '10.50.0.2');
    await w.iv.join({ network: l3, endpoint: ep, containerName: 'i3', sandbox: '/fake/run/netns/i3', defaultRoute: true, ports: [] });
    assert.deepEqual((await w.k.at('/fake/run/netns/i3').routeList()).find((x) => x.dst === 'default'), { dst: 'default', dev: 'eth0', gateway: undefined });
    await assert.rejects(w.iv.createNetwork({ ...req('ivx', { parent: 'eth9p', ipvlan_mode: 'l4' }), driver: 'ipvlan' }, []), /requested ipvlan mode 'l4' is not valid/);
  });
});

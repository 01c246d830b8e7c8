/**
 * The one-member cluster store (state/local-cluster-store.ts) on a real SQLite file: networks
 * survive a reopened store, addresses and peers are rebuilt by republishing, overlay networks are
 * refused without a swarm. And the swarm record's repository (state/sqlite-swarm-repos.ts).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../../src/base/errors';
import { DEFAULT_SWARM_SPEC, SwarmState } from '../../src/base/swarm';
import { LocalClusterStore } from '../../src/state/local-cluster-store';
import { SqliteStore } from '../../src/state/sqlite-store';

let dir: string;
let db: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrnet-local-cluster-'));
  db = path.join(dir, 'ctrnet.db');
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const base = (id: string, name: string) => ({ id, name, ipRange: null, internal: false, labels: {}, options: {}, created: new Date().toISOString() });
const decide = (subnet: string) => () => ({ subnet, gateway: subnet.replace(/0\/24$/, '1') });
const swarm: SwarmState = {
  id: 'c'.repeat(25), nodeId: 'n'.repeat(25), created: 't', updated: 't', advertiseAddr: '127.0.0.1', listenAddr: '0.0.0.0:2377',
  dataPathPort: 4789, defaultAddrPool: ['10.0.0.0/8'], subnetSize: 24, spec: DEFAULT_SWARM_SPEC, joinTokens: { worker: 'w', manager: 'm' }, version: 10,
};

test('LocalClusterStore.createNetwork() refuses without a swarm with NO_CLUSTER_STORE, naming both ways out', async () => {
  const store = new SqliteStore(db);
  try {
    const cluster = new LocalClusterStore(store.localCluster, () => store.swarm.get() !== undefined, '127.0.0.1');
    await assert.rejects(cluster.createNetwork(base('n1', 'a'), decide('10.0.1.0/24')), (e: EngineError) => e.code === 'NO_CLUSTER_STORE' && /swarm init/.test(e.hint ?? '') && /--cluster-store/.test(e.hint ?? ''));
    assert.deepEqual(await cluster.networks(), []);
  } finally {
    store.close();
  }
});

test('LocalClusterStore: unique names, VNIs from 4096 up, flags kept; networks survive a reopened store, a deleted one leaves its VNI free', async () => {
  let store = new SqliteStore(db);
  store.swarm.put(swarm);
  let cluster = new LocalClusterStore(store.localCluster, () => store.swarm.get() !== undefined, '127.0.0.1');
  const a = await cluster.createNetwork({ ...base('n1', 'a'), ingress: true }, decide('10.0.0.0/24'));
  const b = await cluster.createNetwork({ ...base('n2', 'b'), attachable: true }, (others) => {
    assert.deepEqual(others.map((o) => o.subnet), ['10.0.0.0/24'], 'decide sees the other networks');
    return decide('10.0.1.0/24')();
  });
  assert.deepEqual([a.vni, b.vni, a.ingress, b.attachable], [4096, 4097, true, true]);
  await assert.rejects(cluster.createNetwork(base('n3', 'a'), decide('10.0.2.0/24')), (e: EngineError) => e.code === 'NAME_IN_USE');
  store.close();

  store = new SqliteStore(db);
  cluster = new LocalClusterStore(store.localCluster, () => store.swarm.get() !== undefined, '127.0.0.1');
  assert.deepEqual((await cluster.networks()).map((n) => [n.name, n.vni, n.subnet]), [['a', 4096, '10.0.0.0/24'], ['b', 4097, '10.0.1.0/24']]);
  assert.equal(store.swarm.get()?.nodeId, swarm.nodeId, 'the swarm record survives too');
  await cluster.deleteNetwork('n1');
  const c = await cluster.createNetwork(base('n4', 'c'), decide('10.0.2.0/24'));
  assert.equal(c.vni, 4096);
  store.swarm.delete();
  assert.equal(store.swarm.get(), undefined);
  store.close();
});

test('LocalClusterStore: addresses are allocated once, released, and re-taken by republish (as after a restart)', async () => {
  const store = new SqliteStore(db);
  try {
    const cluster = new LocalClusterStore(store.localCluster, () => true, '127.0.0.1');
    const first = (used: Set<string>) => ['10.0.1.2', '10.0.1.3', '10.0.1.4'].find((ip) => !used.has(ip))!;
    assert.equal(await cluster.allocateAddress('n2', 'c1', first), '10.0.1.2');
    assert.equal(await cluster.allocateAddress('n2', 'c2', first), '10.0.1.3');
    await assert.rejects(cluster.allocateAddress('n2', 'c3', () => '10.0.1.2'), (e: EngineError) => e.code === 'ADDRESS_EXHAUSTED');
    await cluster.releaseAddress('n2', '10.0.1.2');
    assert.equal(await cluster.allocateAddress('n2', 'c3', first), '10.0.1.2');
    const peer = { networkId: 'n2', ip: '10.0.1.3', mac: '02:42:0a:00:01:03', host: '127.0.0.1', containerId: 'c2', name: 'two', aliases: [] };
    await cluster.putPeer(peer);
    assert.deepEqual((await cluster.peers('n2')).map((p) => p.name), ['two']);
    assert.equal(await cluster.republish(peer), true, 'its own address');
    assert.equal(await cluster.republish({ ...peer, ip: '10.0.1.2', containerId: 'c9' }), false, "another container's address");
    await cluster.deletePeer('n2', '10.0.1.3');
    assert.deepEqual(await cluster.peers(), []);

    // A new store (a restarted daemon) knows no addresses until the endpoints are republished.
    const again = new LocalClusterStore(store.localCluster, () => true, '127.0.0.1');
    assert.equal(await again.republish(peer), true);
    assert.equal(await again.allocateAddress('n2', 'c4', first), '10.0.1.2', 'the republished address is taken');
    assert.deepEqual((await again.peers()).map((p) => p.ip), ['10.0.1.3']);
  } finally {
    store.close();
  }
});

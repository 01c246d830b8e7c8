/** Small pieces of the plugins: iptables' FORWARD policy as nft prints it, --docker-plugin, the IPAM pool, the attachments' records. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isDropPolicy } from '../../src/firewall/nft/forward-policy';
import { parseFlags } from '../../src/daemon/flags';
import { DockerPlugin } from '../../src/core/attachments/docker-plugin';
import { SqliteStore } from '../../src/state/sqlite-store';

test('isDropPolicy() reads the policy of iptables-nft\'s FORWARD chain', () => {
  assert.equal(isDropPolicy('table ip filter {\n\tchain FORWARD {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tcounter packets 0 bytes 0 jump DOCKER-USER\n\t}\n}'), true);
  assert.equal(isDropPolicy('table ip filter {\n\tchain FORWARD {\n\t\ttype filter hook forward priority filter; policy accept;\n\t}\n}'), false);
  assert.equal(isDropPolicy(''), false);
});

test('parseFlags() --docker-plugin takes an absolute .sock path', () => {
  assert.equal(parseFlags(['--docker-plugin', '/run/docker/plugins/ctrnet.sock']).dockerPlugin, '/run/docker/plugins/ctrnet.sock');
  assert.throws(() => parseFlags(['--docker-plugin', 'ctrnet.sock']), /absolute path, ending in \.sock/);
  assert.throws(() => parseFlags(['--docker-plugin', '/run/docker/plugins/ctrnet']), /ending in \.sock/);
});

test('DockerPlugin.requestPool() needs the subnet, refuses IPv6 and sub-pools, and names the pool after the subnet', () => {
  const p = new DockerPlugin({} as never, {} as never, {} as never);
  assert.deepEqual(p.requestPool({ Pool: '10.0.9.7/24' }), { PoolID: 'ctrnet/10.0.9.0/24', Pool: '10.0.9.0/24', Data: {} });
  assert.throws(() => p.requestPool({}), (e: Error & { hint?: string }) => /needs the network's subnet/.test(e.message) && /give --subnet CIDR .* the same on every Docker host/.test(e.hint ?? ''));
  assert.throws(() => p.requestPool({ Pool: '10.0.9.0/24', V6: true }), /IPv4 addresses only/);
  assert.throws(() => p.requestPool({ Pool: '10.0.9.0/24', SubPool: '10.0.9.0/25' }), /--ip-range 10\.0\.9\.0\/25 is not supported/);
});

test('DockerPlugin.requestAddress() answers the gateway without a lease', async () => {
  const p = new DockerPlugin({} as never, {} as never, {} as never);
  assert.deepEqual(await p.requestAddress({ PoolID: 'ctrnet/10.0.9.0/24', Options: { RequestAddressType: 'com.docker.network.gateway' } }), { Address: '10.0.9.1/24', Data: {} });
  assert.deepEqual(await p.requestAddress({ PoolID: 'ctrnet/10.0.9.0/24', Address: '10.0.9.254', Options: { RequestAddressType: 'com.docker.network.gateway' } }), { Address: '10.0.9.254/24', Data: {} });
  await assert.rejects(p.requestAddress({ PoolID: 'default/x' }), /unknown pool/);
});

test('AttachmentRepo: records in and out, found by key, deleted with their endpoints and ports; a database of the previous schema migrates', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrnet-att-'));
  try {
    // A database as the previous daemon left it (the migrations before the attachments'), with a container's endpoint.
    const file = path.join(dir, 'ctrnet.db');
    const old = new SqliteStore(file);
    old.endpoints.lease({ id: 'e0', containerId: 'c0', networkId: 'n', ifName: 'eth0', hostIf: 'veth0', mac: '', aliases: [] }, () => '10.0.0.2');
    old.close();
    const db = new Database(file);
    // Undone: the attachments' migration (the sixth) and the IPv6 one after it (its endpoints table
    // rebuild runs again on any endpoints table; its new columns of networks must be gone).
    db.exec(`DROP TABLE attachments; DROP TABLE plugin_networks;
      ALTER TABLE networks DROP COLUMN subnet6; ALTER TABLE networks DROP COLUMN gateway6;
      ALTER TABLE networks DROP COLUMN ip_range6; ALTER TABLE networks DROP COLUMN ipv4;
      ALTER TABLE containers DROP COLUMN paused;
      DROP TABLE swarm; DROP TABLE local_cluster_networks;
      ALTER TABLE networks DROP COLUMN attachable; ALTER TABLE networks DROP COLUMN ingress;`);
    db.pragma('user_version = 5'); // migrations 1-5: before the attachments' (the sixth), IPv6 (the seventh), paused (the eighth) and the swarm's
    db.close();
    const s = new SqliteStore(file);
    assert.equal(s.endpoints.list().length, 1);
    const a = { id: 'a'.repeat(64), kind: 'cni' as const, ref: 'cid', scope: 'conf', ifName: 'eth0', name: 'pod1', aliases: ['x'], netns: '/run/netns/p', networkId: 'n', created: new Date().toISOString() };
    s.attachments.insert(a);
    assert.deepEqual(s.attachments.get('pod1'), a);
    assert.deepEqual(s.attachments.find('cni', 'cid', 'conf', 'eth0'), a);
    assert.equal(s.attachments.find('cni', 'cid', 'other', 'eth0'), undefined);
    s.attachments.update(a.id, { ref: 'cid2', ipamLease: true });
    assert.deepEqual(s.attachments.get(a.id), { ...a, ref: 'cid2', ipamLease: true });
    s.endpoints.lease({ id: 'e1', containerId: a.id, networkId: 'n', ifName: 'eth0', hostIf: 'veth1', mac: '', aliases: [] }, () => '10.0.0.3');
    s.ports.reserve(() => [{ containerId: a.id, proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.0.0.3', containerPort: 80 }]);
    s.attachments.delete(a.id);
    assert.deepEqual(s.endpoints.list().map((e) => e.id), ['e0']);
    assert.deepEqual(s.ports.list(), []);
    s.pluginNetworks.put({ dockerId: 'd1', network: 'ov', type: 'overlay', subnet: '10.0.9.0/24', gateway: '10.0.9.1', made: true, created: 't' });
    assert.deepEqual(s.pluginNetworks.list(), [{ dockerId: 'd1', network: 'ov', type: 'overlay', subnet: '10.0.9.0/24', gateway: '10.0.9.1', made: true, created: 't' }]);
    s.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

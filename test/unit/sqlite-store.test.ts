import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../../src/base/errors';
import { parseCidr, pickAddress } from '../../src/ipam/ipam';
import { Container, Network } from '../../src/base/model';
import { SqliteStore } from '../../src/state/sqlite-store';

let dir: string;
let store: SqliteStore;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrnet-store-'));
  store = new SqliteStore(path.join(dir, 'ctrnet.db'));
});
after(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const subnet = parseCidr('10.9.0.0/24');
const pick = (used: Set<string>): string => {
  const ip = pickAddress(subnet, '10.9.0.1', used);
  if (!ip) throw new Error('full');
  return ip;
};
const endpoint = (n: number, networkId = 'net-a') => ({
  id: `ep${n}`, containerId: `c${n}`, networkId, ifName: 'eth0', hostIf: `veth${n}`, mac: '', aliases: [] as string[],
});
const container = (id: string, name: string): Container => ({
  id, name, imageId: 'sha256:00', image: 'busybox', spec: {} as Container['spec'], status: 'created', pid: 0, exitCode: 0, error: '',
  created: new Date().toISOString(),
});

test('EndpointRepo.lease() never hands out the same address twice in 50 leases', () => {
  const ips = Array.from({ length: 50 }, (_, i) => store.endpoints.lease(endpoint(i), pick).ip);
  assert.equal(new Set(ips).size, 50);
  assert.ok(!ips.includes('10.9.0.1'));
  assert.equal(ips[0], '10.9.0.2');
  assert.deepEqual(store.endpoints.list({ networkId: 'net-a' }).map((e) => e.ip).sort(), [...ips].sort());
});

test('EndpointRepo.lease() leases per network: another network starts from the lowest address', () => {
  assert.equal(store.endpoints.lease(endpoint(100, 'net-b'), pick).ip, '10.9.0.2');
});

test('EndpointRepo.delete() releases the address for the next lease', () => {
  const ep = store.endpoints.list({ networkId: 'net-a' }).find((e) => e.ip === '10.9.0.7');
  assert.ok(ep);
  store.endpoints.delete(ep.id);
  assert.equal(store.endpoints.lease(endpoint(200), pick).ip, '10.9.0.7');
});

test('EndpointRepo.lease() records nothing when the pick returns an address in use', () => {
  const before = store.endpoints.list().length;
  assert.throws(() => store.endpoints.lease(endpoint(300), () => '10.9.0.2'), /UNIQUE/);
  assert.equal(store.endpoints.list().length, before);
});

test('ContainerRepo.insert() with a taken name throws NAME_IN_USE naming the holder', () => {
  store.containers.insert(container('ab12'.repeat(16), 'web'));
  assert.throws(
    () => store.containers.insert(container('cd34'.repeat(16), 'web')),
    (e: unknown) => e instanceof EngineError && e.code === 'NAME_IN_USE' && e.kind === 'conflict' && e.message.includes('ab12'.repeat(16)),
  );
  assert.equal(store.containers.list().filter((c) => c.name === 'web').length, 1);
});

test('ContainerRepo.get() finds by name, /name, id and unique id prefix, not by an ambiguous prefix', () => {
  store.containers.insert(container('ab1f'.repeat(16), 'db'));
  assert.equal(store.containers.get('db')?.id, 'ab1f'.repeat(16));
  assert.equal(store.containers.get('/db')?.id, 'ab1f'.repeat(16));
  assert.equal(store.containers.get('ab12'.repeat(16))?.name, 'web');
  assert.equal(store.containers.get('ab12a')?.name, 'web');
  assert.equal(store.containers.get('ab1f')?.name, 'db');
  assert.equal(store.containers.get('ab1'), undefined);
  assert.equal(store.containers.get('ffff'), undefined);
});

test('NetworkRepo.get() finds by unique id prefix', () => {
  const row: Network = { id: '5e'.repeat(32), name: 'n1', driver: 'bridge', subnet: '10.9.0.0/24', gateway: '10.9.0.1', bridge: 'br-5e5e5e5e5e5e', internal: false, options: { 'com.docker.network.bridge.enable_icc': 'false' }, labels: { a: 'b' }, created: new Date().toISOString() };
  store.networks.insert(row);
  assert.deepEqual(store.networks.get('5e5e'), row);
  assert.equal(store.networks.get('n1')?.id, row.id);
  assert.equal(store.networks.get('5f'), undefined);
});

test('EndpointRepo.update() with no fields is a no-op, like ContainerRepo.update()', () => {
  assert.doesNotThrow(() => store.endpoints.update('ep1', {}));
  assert.doesNotThrow(() => store.containers.update('ab12'.repeat(16), {}));
});

test('ContainerRepo.update() writes the fields given: a spec as a record, an explicit undefined time cleared', () => {
  const id = 'ee01'.repeat(16);
  store.containers.insert({ ...container(id, 'upd'), finishedAt: '2026-01-01T00:00:00.000Z' });
  const spec = { ...({} as Container['spec']), labels: { role: 'web' } };
  store.containers.update(id, { spec, status: 'running', startedAt: '2026-01-02T00:00:00.000Z', finishedAt: undefined });
  const c = store.containers.get(id)!;
  assert.deepEqual(c.spec, spec);
  assert.equal(c.status, 'running');
  assert.equal(c.startedAt, '2026-01-02T00:00:00.000Z');
  assert.equal(c.finishedAt, undefined);
  store.containers.update(id, { pid: 7 });
  assert.equal(store.containers.get(id)!.startedAt, '2026-01-02T00:00:00.000Z', 'a field not given is kept');
});

test('PortRepo.reserve() records what choose returns in one transaction; a throw records nothing', () => {
  const p = { containerId: 'c1', proto: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.9.0.2', containerPort: 80 };
  store.ports.reserve(() => [p]);
  assert.deepEqual(store.ports.at('tcp', 8080), [p]);
  assert.throws(() => store.ports.reserve((usedAt) => {
    if (usedAt('tcp', 8080).length) throw new Error('taken');
    return [];
  }), /taken/);
  assert.deepEqual(store.ports.list('c1'), [p]);
  store.ports.release('c1');
  assert.deepEqual(store.ports.list('c1'), []);
});

test('NetworkRepo.get() follows Docker\'s order: full id, then name (several: ambiguous), then id prefix (several: ambiguous)', () => {
  const s = new SqliteStore(':memory:');
  try {
    const net = (id: string, name: string): Network => ({ id, name, driver: 'bridge', subnet: '10.8.0.0/24', gateway: '10.8.0.1', bridge: `br-${id.slice(0, 12)}`, internal: false, options: {}, labels: {}, created: new Date().toISOString() });
    const a = net('a1'.repeat(32), 'dup');
    const b = net('a2'.repeat(32), 'dup');
    // A network named like another's full id: the id wins. One named like an id prefix: the name wins.
    const c = net('c3'.repeat(32), a.id);
    const d = net('d4'.repeat(32), 'a1');
    for (const n of [a, b, c, d]) s.networks.insert(n);
    assert.equal(s.networks.get(a.id)?.id, a.id);
    assert.equal(s.networks.get('a1')?.id, d.id);
    assert.throws(() => s.networks.get('dup'), (e: unknown) => e instanceof EngineError && e.code === 'NETWORK_AMBIGUOUS' && e.message === 'network dup is ambiguous (2 matches found on name)');
    assert.throws(() => s.networks.get('a'), (e: unknown) => e instanceof EngineError && e.code === 'NETWORK_AMBIGUOUS' && e.message === 'network a is ambiguous (2 matches found based on ID prefix)');
    assert.equal(s.networks.get('a2a2')?.id, b.id);
    assert.equal(s.networks.get('ff'), undefined);
    assert.equal(s.networks.list().length, 4);
    s.networks.delete(b.id);
    assert.equal(s.networks.get('dup')?.id, a.id);
  } finally {
    s.close();
  }
});

test('migration 9: a database whose networks table has UNIQUE names migrates with its rows intact and then holds two networks of a name', () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrnet-m9-'));
  try {
    const file = path.join(d, 'ctrnet.db');
    new SqliteStore(file).close();
    // Back to the networks table as migrations 1-8 left it (name UNIQUE), with a row and an endpoint on it.
    const db = new Database(file);
    // (and without the swarm's tables of migration 10, which runs again after it)
    db.exec(`DROP TABLE networks; DROP TABLE swarm; DROP TABLE local_cluster_networks;
      CREATE TABLE networks (
        id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL,
        subnet TEXT, gateway TEXT, ip_range TEXT, bridge TEXT,
        internal INTEGER NOT NULL DEFAULT 0, options TEXT NOT NULL DEFAULT '{}', labels TEXT NOT NULL DEFAULT '{}',
        created TEXT NOT NULL, ipam TEXT NOT NULL DEFAULT '{}', created_link TEXT,
        subnet6 TEXT, gateway6 TEXT, ip_range6 TEXT, ipv4 INTEGER NOT NULL DEFAULT 1);
      INSERT INTO networks (id, name, driver, subnet, gateway, ip_range, bridge, internal, options, labels, created, ipam, created_link, subnet6, gateway6, ip_range6, ipv4)
        VALUES ('${'9a'.repeat(32)}', 'old', 'bridge', '10.7.0.0/24', '10.7.0.1', '10.7.0.128/25', 'br-9a9a9a9a9a9a', 1, '{"k":"v"}', '{"l":"m"}', '2026-01-01T00:00:00.000Z', '{"aux":{}}', NULL, 'fd00:7::/64', 'fd00:7::1', NULL, 0);`);
    db.pragma('user_version = 8');
    assert.throws(() => db.exec(`INSERT INTO networks (id, name, driver, created) VALUES ('x', 'old', 'bridge', 'now')`), /UNIQUE/);
    db.close();
    const s = new SqliteStore(file);
    try {
      s.endpoints.lease({ id: 'e9', containerId: 'c9', networkId: '9a'.repeat(32), ifName: 'eth0', hostIf: 'veth9', mac: '', aliases: [] }, () => '10.7.0.130');
      const old = s.networks.get('old')!;
      assert.deepEqual(
        { id: old.id, driver: old.driver, subnet: old.subnet, gateway: old.gateway, ipRange: old.ipRange, bridge: old.bridge, internal: old.internal, options: old.options, labels: old.labels, created: old.created, subnet6: old.subnet6, gateway6: old.gateway6, ipv4: old.ipv4 },
        { id: '9a'.repeat(32), driver: 'bridge', subnet: '10.7.0.0/24', gateway: '10.7.0.1', ipRange: '10.7.0.128/25', bridge: 'br-9a9a9a9a9a9a', internal: true, options: { k: 'v' }, labels: { l: 'm' }, created: '2026-01-01T00:00:00.000Z', subnet6: 'fd00:7::/64', gateway6: 'fd00:7::1', ipv4: false },
      );
      s.networks.insert({ ...old, id: '9b'.repeat(32), bridge: 'br-9b9b9b9b9b9b' });
      assert.equal(s.networks.list().filter((n) => n.name === 'old').length, 2);
      assert.equal(s.endpoints.list({ networkId: '9a'.repeat(32) })[0].ip, '10.7.0.130');
    } finally {
      s.close();
    }
    const check = new Database(file, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), 10);
    assert.deepEqual((check.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'networks' AND sql IS NOT NULL`).all() as { name: string }[]).map((r) => r.name), ['networks_by_name']);
    check.close();
  } finally {
    fs.rmSync(d, { recursive: true, force: true });
  }
});

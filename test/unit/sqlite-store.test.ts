import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
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

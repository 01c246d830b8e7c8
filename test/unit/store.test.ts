import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EngineError } from '../../src/base/errors';
import { parseCidr, pickAddress } from '../../src/ipam/ipam';
import { ContainerRow, Store } from '../../src/state/store';

let dir: string;
let store: Store;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrnet-store-'));
  store = new Store(path.join(dir, 'ctrnet.db'));
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
  id: `ep${n}`, container_id: `c${n}`, network_id: networkId, if_name: 'eth0', host_if: `veth${n}`, mac: '', aliases: '[]',
});
const container = (id: string, name: string): ContainerRow => ({
  id, name, image_id: 'sha256:00', image: 'busybox', spec: '{}', status: 'created', pid: 0, exit_code: 0, error: '',
  created: new Date().toISOString(), started_at: null, finished_at: null,
});

test('Store.leaseAddress() never hands out the same address twice in 50 leases', () => {
  const ips = Array.from({ length: 50 }, (_, i) => store.leaseAddress(endpoint(i), pick).ip);
  assert.equal(new Set(ips).size, 50);
  assert.ok(!ips.includes('10.9.0.1'));
  assert.equal(ips[0], '10.9.0.2');
  assert.deepEqual(store.endpoints({ networkId: 'net-a' }).map((e) => e.ip).sort(), [...ips].sort());
});

test('Store.leaseAddress() leases per network: another network starts from the lowest address', () => {
  assert.equal(store.leaseAddress(endpoint(100, 'net-b'), pick).ip, '10.9.0.2');
});

test('Store.deleteEndpoint() releases the address for the next lease', () => {
  const ep = store.endpoints({ networkId: 'net-a' }).find((e) => e.ip === '10.9.0.7');
  assert.ok(ep);
  store.deleteEndpoint(ep.id);
  assert.equal(store.leaseAddress(endpoint(200), pick).ip, '10.9.0.7');
});

test('Store.leaseAddress() records nothing when the pick returns an address in use', () => {
  const before = store.endpoints().length;
  assert.throws(() => store.leaseAddress(endpoint(300), () => '10.9.0.2'), /UNIQUE/);
  assert.equal(store.endpoints().length, before);
});

test('Store.insertContainer() with a taken name throws NAME_IN_USE naming the holder', () => {
  store.insertContainer(container('ab12'.repeat(16), 'web'));
  assert.throws(
    () => store.insertContainer(container('cd34'.repeat(16), 'web')),
    (e: unknown) => e instanceof EngineError && e.code === 'NAME_IN_USE' && e.kind === 'conflict' && e.message.includes('ab12'.repeat(16)),
  );
  assert.equal(store.containers().filter((c) => c.name === 'web').length, 1);
});

test('Store.container() finds by name, /name, id and unique id prefix, not by an ambiguous prefix', () => {
  store.insertContainer(container('ab1f'.repeat(16), 'db'));
  assert.equal(store.container('db')?.id, 'ab1f'.repeat(16));
  assert.equal(store.container('/db')?.id, 'ab1f'.repeat(16));
  assert.equal(store.container('ab12'.repeat(16))?.name, 'web');
  assert.equal(store.container('ab12a')?.name, 'web');
  assert.equal(store.container('ab1f')?.name, 'db');
  assert.equal(store.container('ab1'), undefined);
  assert.equal(store.container('ffff'), undefined);
});

test('Store.network() finds by unique id prefix', () => {
  const row = { id: '5e'.repeat(32), name: 'n1', driver: 'bridge', subnet: '10.9.0.0/24', gateway: '10.9.0.1', ip_range: null, bridge: 'br-5e5e5e5e5e5e', internal: 0, options: '{}', labels: '{}', created: new Date().toISOString() };
  store.insertNetwork(row);
  assert.deepEqual(store.network('5e5e'), row);
  assert.equal(store.network('n1')?.id, row.id);
  assert.equal(store.network('5f'), undefined);
});

test('Store.updateEndpoint() with no fields is a no-op, like updateContainer()', () => {
  assert.doesNotThrow(() => store.updateEndpoint('ep1', {}));
  assert.doesNotThrow(() => store.updateContainer('ab12'.repeat(16), {}));
});

/**
 * Duplicate network names (Docker 20.10, API < 1.44 without CheckDuplicate): which networks may
 * share a name, how a shared name is looked up (Docker's FindNetwork order, ambiguity in Docker's
 * words), how a container's endpoint settings key such a network, and the refusal of two networks
 * of one name on one container. FakeKernel and an in-memory store: logic only (the e2e test in
 * test/e2e/api-compat.test.ts runs the same over HTTP with packets).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerSpec } from '../../src/base/container-spec';
import { EngineError } from '../../src/base/errors';
import { EngineEvents } from '../../src/base/events';
import { Container } from '../../src/base/model';
import { duplicateNameAllowed } from '../../src/api/routes/networks';
import { NetworkAttachments } from '../../src/core/containers/network-mode';
import { Networks } from '../../src/core/networks';
import { Sandboxes } from '../../src/core/sandbox';
import { BridgeDriver } from '../../src/drivers/bridge-driver';
import { NetworkDriver } from '../../src/drivers/driver';
import { RecordOnlyDriver } from '../../src/drivers/host-driver';
import { ControlPlane } from '../../src/drivers/overlay/control-plane';
import { OverlayDriver } from '../../src/drivers/overlay/overlay-driver';
import { VxlanPlane } from '../../src/drivers/overlay/vxlan';
import { DEFAULT_POOLS } from '../../src/ipam/pools';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { SqliteStore } from '../../src/state/sqlite-store';
import { FakeClusterStore } from '../helpers/fake-cluster-store';
import { StubFirewall } from '../helpers/stub-firewall';

function world() {
  const k = new FakeKernel();
  const fw = new StubFirewall();
  const store = new SqliteStore(':memory:');
  const events = new EngineEvents();
  const cluster = new FakeClusterStore();
  const plane = new VxlanPlane(k, fw, cluster.advertise, 1450);
  const control = new ControlPlane(store, cluster, plane, events, () => {});
  const drivers = new Map<string, NetworkDriver>([
    ['bridge', new BridgeDriver(k, fw, store, { mtu: 1500, pools: DEFAULT_POOLS })],
    ['host', new RecordOnlyDriver('host', store.networks)],
    ['null', new RecordOnlyDriver('null', store.networks)],
    ['overlay', new OverlayDriver(store, plane, control)],
  ]);
  const networks = new Networks(store, drivers, { bridge: 'ctrnet0', bip: '172.17.0.1/16' }, k, events);
  const attach = new NetworkAttachments({
    containers: store.containers, networks, sandboxes: {} as Sandboxes,
    locked: (_id, fn) => fn(), emit: () => {}, refreshResolvConf: async () => {}, log: () => {},
  });
  return { k, store, networks, attach };
}

const req = (name: string, driver = 'bridge') => ({ name, driver, internal: false, labels: {}, options: {} });

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  cmd: ['true'], entrypoint: [], env: [], workingDir: '', hostname: 'h', tty: false, openStdin: false, stdinOnce: false, labels: {},
  networkMode: 'bridge', portBindings: [], exposedPorts: [], autoRemove: false, dns: [], macAddress: '', networks: {}, ...over,
});

const isCode = (code: string, words?: RegExp) => (e: unknown) => e instanceof EngineError && e.code === code && (!words || words.test(e.message));

test('duplicateNameAllowed(): only before API 1.44 and only without CheckDuplicate: true', () => {
  assert.equal(duplicateNameAllowed({}, '1.41'), true);
  assert.equal(duplicateNameAllowed({ CheckDuplicate: false }, '1.43'), true);
  assert.equal(duplicateNameAllowed({ CheckDuplicate: true }, '1.41'), false);
  assert.equal(duplicateNameAllowed({}, '1.44'), false);
  assert.equal(duplicateNameAllowed({ CheckDuplicate: false }, '1.51'), false);
});

test('Networks.create() with allowDuplicateName makes a second bridge network of a name: its own id and bridge; without it NAME_IN_USE', async () => {
  const w = world();
  await w.networks.ensureDefaults();
  const a = await w.networks.create(req('dup'));
  await assert.rejects(w.networks.create(req('dup')), isCode('NAME_IN_USE', /^network with name dup already exists$/));
  const b = await w.networks.create(req('dup'), { allowDuplicateName: true });
  assert.notEqual(a.id, b.id);
  assert.notEqual(a.bridge, b.bridge);
  assert.equal(b.bridge, `br-${b.id.slice(0, 12)}`);
  assert.notEqual(a.subnet, b.subnet);
  assert.equal(w.networks.list().filter((n) => n.name === 'dup').length, 2);
  // Both bridges exist in the (fake) kernel: names come from ids, never from the shared name.
  const links = (await w.k.linkList()).map((l) => l.name);
  assert.ok(links.includes(a.bridge!) && links.includes(b.bridge!), links.join(' '));
});

test('Networks.create() never duplicates a predefined name, nor a cluster-scope (overlay) network', async () => {
  const w = world();
  await w.networks.ensureDefaults();
  for (const name of ['bridge', 'host', 'none']) {
    await assert.rejects(w.networks.create(req(name), { allowDuplicateName: true }), isCode('FORBIDDEN', new RegExp(`predefined ${name} network`)));
  }
  await w.networks.create(req('ov', 'overlay'));
  await assert.rejects(w.networks.create(req('ov', 'overlay'), { allowDuplicateName: true }), isCode('NAME_IN_USE', /network with name ov already exists/));
  assert.equal(w.networks.list().filter((n) => n.name === 'ov').length, 1);
});

test('Networks.get() of a shared name is ambiguous in Docker\'s words; by id each is found; specKey() is the id while the name is shared', async () => {
  const w = world();
  const a = await w.networks.create(req('dup'));
  assert.equal(w.networks.specKey(a), 'dup');
  const b = await w.networks.create(req('dup'), { allowDuplicateName: true });
  assert.throws(() => w.networks.get('dup'), (e: unknown) => isCode('NETWORK_AMBIGUOUS')(e) && (e as EngineError).kind === 'invalidParameter' && (e as Error).message === 'network dup is ambiguous (2 matches found on name)');
  assert.equal(w.networks.get(a.id).id, a.id);
  assert.equal(w.networks.get(b.id).id, b.id);
  assert.equal(w.networks.specKey(a), a.id);
  assert.equal(w.networks.specKey(b), b.id);
  await w.networks.remove(b.id);
  assert.equal(w.networks.get('dup').id, a.id);
  assert.equal(w.networks.specKey(a), 'dup');
});

test('NetworkAttachments: a container is keyed to a duplicate-named network by id, and refused a second network of that name with the fix', async () => {
  const w = world();
  await w.networks.ensureDefaults();
  const a = await w.networks.create(req('dup'));
  const b = await w.networks.create(req('dup'), { allowDuplicateName: true });
  const checked = w.attach.check(spec({ networkMode: a.id }));
  assert.equal(checked.networkMode, a.id);
  assert.deepEqual(Object.keys(checked.networks), [a.id]);
  const c: Container = { id: 'c1'.padEnd(64, '0'), name: 'c1', imageId: 'sha256:0', image: 'busybox', spec: checked, status: 'created', pid: 0, exitCode: 0, error: '', created: new Date().toISOString() };
  w.store.containers.insert(c);
  await assert.rejects(w.attach.connect(b.id, 'c1', { aliases: [] }), (e: unknown) =>
    isCode('CONFLICTING_OPTIONS', /cannot be connected to two networks named dup/)(e) && /network whose name is unique/.test((e as EngineError).hint ?? ''));
  assert.deepEqual(Object.keys(w.store.containers.get('c1')!.spec.networks), [a.id]);
  // Creating with both at once is refused the same way.
  assert.throws(() => w.attach.check(spec({ networkMode: a.id, networks: { [b.id]: { aliases: [] } } })), isCode('CONFLICTING_OPTIONS', /two networks named dup/));
  // Another network is fine; disconnecting by id finds the id-keyed entry.
  await w.attach.connect('bridge', 'c1', { aliases: [] });
  await w.attach.disconnect(a.id, 'c1');
  assert.deepEqual(Object.keys(w.store.containers.get('c1')!.spec.networks), ['bridge']);
  // A shared name as a network mode is ambiguous at create.
  assert.throws(() => w.attach.check(spec({ networkMode: 'dup' })), isCode('NETWORK_AMBIGUOUS', /network dup is ambiguous \(2 matches found on name\)/));
});

test('Networks.create() of a duplicate re-keys the containers that held the first network by name to its id (their starts and the restart still find it)', async () => {
  const w = world();
  await w.networks.ensureDefaults();
  const a = await w.networks.create(req('dup'));
  const checked = w.attach.check(spec({ networkMode: 'dup', networks: { dup: { aliases: ['web'] }, bridge: { aliases: [] } } }));
  assert.equal(checked.networkMode, 'dup');
  w.store.containers.insert({ id: 'c2'.padEnd(64, '0'), name: 'c2', imageId: 'sha256:0', image: 'busybox', spec: checked, status: 'created', pid: 0, exitCode: 0, error: '', created: new Date().toISOString() });
  await w.networks.create(req('dup'), { allowDuplicateName: true });
  const after = w.store.containers.get('c2')!.spec;
  assert.equal(after.networkMode, a.id);
  assert.deepEqual(after.networks, { [a.id]: { aliases: ['web'] }, bridge: { aliases: [] } });
  assert.equal(w.attach.check(after).networkMode, a.id, 'its next check still resolves the one network');
});

import { emptyConfig } from '../../src/base/image-config';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContainerSpec } from '../../src/base/container-spec';
import { EngineError } from '../../src/base/errors';
import { Container } from '../../src/base/model';
import { parseBind } from '../../src/base/mount-spec';
import { ContainerStorage } from '../../src/core/containers/storage';
import { Volumes } from '../../src/core/volumes';
import { Image } from '../../src/images/image-store';
import { Storage, VolumeRef } from '../../src/runtime/storage';
import { SqliteStore } from '../../src/state/sqlite-store';

/** The Storage port in memory: which volume directories exist, which are mounted, which host paths. */
class FakeStorage implements Storage {
  readonly dirs = new Set<string>();
  readonly mounted = new Set<string>();
  readonly hostPaths = new Set<string>(['/srv/existing']);
  readonly copies: string[] = [];
  volumePath(name: string): string {
    return `/root/volumes/${name}/_data`;
  }
  async createVolume(name: string): Promise<void> {
    this.dirs.add(name);
  }
  async removeVolume(name: string): Promise<number> {
    assert.ok(!this.mounted.has(name), `removing ${name} through its mount`);
    this.dirs.delete(name);
    return 7;
  }
  async volumeSize(name: string): Promise<number> {
    return this.dirs.has(name) ? 7 : 0;
  }
  async mountVolume(v: VolumeRef): Promise<void> {
    this.mounted.add(v.name);
  }
  async unmountVolume(v: VolumeRef): Promise<void> {
    this.mounted.delete(v.name);
  }
  async copyUp(_rootfs: string, target: string, name: string): Promise<boolean> {
    this.copies.push(`${target}→${name}`);
    return true;
  }
  async hostPath(p: string, create: boolean): Promise<boolean> {
    if (create) this.hostPaths.add(p);
    return this.hostPaths.has(p);
  }
}

let dir: string;
let store: SqliteStore;
let fake: FakeStorage;
let volumes: Volumes;
let storage: ContainerStorage;
const events: string[] = [];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrnet-vol-'));
  store = new SqliteStore(path.join(dir, 'ctrnet.db'));
  fake = new FakeStorage();
  volumes = new Volumes(store, fake, (a, n) => events.push(`${a} ${n}`));
  storage = new ContainerStorage(volumes, fake, store);
});
after(() => {
  store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const image = (vols: string[] = []): Image => {
  const config = { ...emptyConfig(), volumes: vols };
  return { id: 'sha256:1', tags: [], created: '', size: 0, layers: [], repoDigests: [], comment: '', parent: '', config, details: { architecture: 'amd64', os: 'linux', variant: '', created: '', author: '', comment: '', dockerVersion: '', container: '', config, history: [], diffIds: [] } };
};
const spec = (o: Partial<ContainerSpec>): ContainerSpec => ({ cmd: ['true'], entrypoint: [], env: [], workingDir: '', hostname: '', tty: false, openStdin: false, stdinOnce: false, labels: {}, networkMode: 'bridge', portBindings: [], exposedPorts: [], autoRemove: false, dns: [], macAddress: '', networks: {}, ...o });
let n = 0;
function record(s: ContainerSpec, status: Container['status'] = 'created'): Container {
  const c: Container = { id: `c${++n}`.padEnd(64, '0'), name: `c${n}`, imageId: 'sha256:1', image: 'busybox', spec: s, status, pid: 0, exitCode: 0, error: '', created: new Date().toISOString() };
  store.containers.insert(c);
  return c;
}
const says = (re: RegExp, code = 'INVALID_PARAMETER') => (e: unknown) => e instanceof EngineError && e.code === code && re.test(e.message);

test('ContainerStorage.settle() makes named volumes on first use, names anonymous ones, lets the request win over the image', async () => {
  const ms = await storage.settle(spec({ mounts: [parseBind('db:/var/lib/db'), parseBind('/srv/x:/x:ro'), { ...parseBind('/anon'), origin: 'volumes' }] }), image(['/var/lib/db', '/cache']));
  assert.deepEqual(ms.map((m) => [m.type, m.target, m.origin, m.anonymous, m.mode]), [
    ['volume', '/var/lib/db', 'binds', false, 'z'],
    ['bind', '/x', 'binds', false, 'ro'],
    ['volume', '/anon', 'volumes', true, ''],
    ['volume', '/cache', 'image', true, ''],
  ]);
  assert.ok(volumes.find('db'), 'made on first use');
  for (const m of ms.filter((x) => x.anonymous)) assert.match(m.source, /^[0-9a-f]{64}$/);
  assert.ok(!ms.some((m) => m.origin === 'image' && m.target === '/var/lib/db'), 'the image\'s VOLUME where the request mounts nothing');
});

test('ContainerStorage.settle() refuses duplicates and a missing --mount bind source, and undoes the volumes it made', async () => {
  await assert.rejects(storage.settle(spec({ mounts: [parseBind('a1:/x'), parseBind('a2:/x')] }), image()), says(/^Duplicate mount point: \/x$/));
  const before = store.volumes.list().length;
  const bind = { type: 'bind' as const, source: '/srv/missing', target: '/m', readOnly: false, origin: 'mounts' as const, mode: '', propagation: 'rprivate', anonymous: false, noCopy: false };
  await assert.rejects(storage.settle(spec({ mounts: [parseBind('fresh:/f'), { ...parseBind('/anon2'), origin: 'volumes' }, bind] }), image()), says(/bind source path does not exist: \/srv\/missing/));
  assert.equal(store.volumes.list().length, before, 'the volumes made for it are gone again');
  assert.equal(volumes.find('fresh'), undefined);
});

test('ContainerStorage.settle() copies --volumes-from mounts (not its tmpfs), ro when asked; a missing source is refused', async () => {
  const src = record(spec({ mounts: await storage.settle(spec({ mounts: [parseBind('shared:/s'), parseBind('/srv/existing:/h'), { type: 'tmpfs', source: '', target: '/t', readOnly: false, origin: 'tmpfs', mode: '', propagation: '', anonymous: false, noCopy: false }] }), image()) }));
  const ms = await storage.settle(spec({ volumesFrom: [`${src.name}:ro`] }), image());
  assert.deepEqual(ms.map((m) => [m.target, m.readOnly, m.origin, m.from]), [['/s', true, 'volumes-from', src.id], ['/h', true, 'volumes-from', src.id]]);
  await assert.rejects(storage.settle(spec({ volumesFrom: ['nosuch'] }), image()), says(/^No such container: nosuch$/));
});

test('Volumes.remove() refuses a volume any container refers to, in Docker\'s words; prune spares used volumes and those with options', async () => {
  const c = record(spec({ mounts: await storage.settle(spec({ mounts: [parseBind('inuse:/u')] }), image()) }));
  await assert.rejects(volumes.remove('inuse'), says(new RegExp(`^remove inuse: volume is in use - \\[${c.id}\\]$`), 'VOLUME_IN_USE'));
  await assert.rejects(volumes.remove('inuse', true), says(/volume is in use/, 'VOLUME_IN_USE'), 'forced or not');
  await assert.rejects(volumes.remove('nosuchvol'), says(/^get nosuchvol: no such volume$/, 'VOLUME_NOT_FOUND'));
  await volumes.remove('nosuchvol', true);
  await volumes.create({ name: 'withopts', driver: 'local', options: { type: 'tmpfs', device: 'tmpfs' } });
  await volumes.create({ name: 'plain1', driver: 'local', labels: { keep: 'no' } });
  await volumes.create({ name: 'plain2', driver: 'local' });
  const r = await volumes.prune(['keep=no']);
  assert.deepEqual(r, { deleted: ['plain1'], bytes: 7 });
  const all = await volumes.prune();
  assert.ok(!all.deleted.includes('inuse') && !all.deleted.includes('withopts') && all.deleted.includes('plain2'));
  assert.ok(events.includes('create plain1') && events.includes('destroy plain1'));
  await assert.rejects(volumes.create({ name: 'x1', driver: 'nosuch' }), says(/^create x1: error looking up volume plugin nosuch: plugin "nosuch" not found$/, 'PLUGIN_NOT_FOUND'));
  await assert.rejects(volumes.create({ name: 'x1', driver: 'local', options: { nosuch: 'x' } }), says(/^create x1: invalid option: "nosuch"$/));
  assert.deepEqual((await volumes.create({ name: 'plain3', driver: 'local', labels: { a: '1' } })).labels, { a: '1' });
  assert.deepEqual((await volumes.create({ name: 'plain3', driver: 'local', labels: { b: '2' } })).labels, { a: '1' }, 'an existing volume is answered as it is');
});

test('Volumes.removeAnonymous() removes a container\'s anonymous volumes, not its named ones nor those another container shares', async () => {
  const ms = await storage.settle(spec({ mounts: [parseBind('named9:/n'), { ...parseBind('/a'), origin: 'volumes' }, { ...parseBind('/b'), origin: 'volumes' }] }), image());
  const c = record(spec({ mounts: ms }));
  const [a, b] = ms.filter((m) => m.anonymous).map((m) => m.source);
  record(spec({ mounts: await storage.settle(spec({ volumesFrom: [c.id] }), image()) }));
  store.containers.delete(c.id);
  await volumes.removeAnonymous(c);
  assert.ok(volumes.find('named9'));
  assert.ok(volumes.find(a) && volumes.find(b), 'still shared through --volumes-from');
});

test('ContainerStorage.prepare() and release(): a volume with options is mounted for its users and unmounted after the last', async () => {
  await volumes.create({ name: 'tmpv', driver: 'local', options: { type: 'tmpfs', device: 'tmpfs' } });
  const s = spec({ mounts: await storage.settle(spec({ mounts: [parseBind('tmpv:/t'), parseBind('/srv/new:/n')] }), image()) });
  const c1 = record(s, 'running');
  const c2 = record(s, 'created');
  const bundle = await storage.prepare(c1, '/rootfs');
  assert.deepEqual(bundle.map((m) => [m.type, m.source, m.target]), [['bind', '/root/volumes/tmpv/_data', '/t'], ['bind', '/srv/new', '/n']]);
  assert.ok(fake.hostPaths.has('/srv/new'), '-v makes the host path');
  assert.ok(fake.mounted.has('tmpv'));
  assert.ok(fake.copies.includes('/t→tmpv'));
  await storage.prepare(c2, '/rootfs');
  store.containers.update(c1.id, { status: 'exited' });
  await storage.release(c1);
  assert.ok(fake.mounted.has('tmpv'), 'c2 still holds it');
  await storage.release(c2);
  assert.ok(!fake.mounted.has('tmpv'));
});

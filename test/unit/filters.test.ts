import { emptyConfig } from '../../src/base/image-config';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerSpec } from '../../src/base/container-spec';
import { EngineError } from '../../src/base/errors';
import { Container, Network, PublishedPort } from '../../src/base/model';
import { ContainerView, NetworkView } from '../../src/core/queries';
import { CONTAINER_FILTERS, listContainers } from '../../src/api/filters/containers';
import { Filters, portSet } from '../../src/api/filters/filters';
import { IMAGE_FILTERS, listImages } from '../../src/api/filters/images';
import { listNetworks, NETWORK_FILTERS } from '../../src/api/filters/networks';
import { listVolumes, VOLUME_FILTERS, VolumeView } from '../../src/api/filters/volumes';
import { Image } from '../../src/images/image-store';

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  cmd: ['sleep', '1'], entrypoint: [], env: [], workingDir: '', hostname: 'h', tty: false, openStdin: false, stdinOnce: false, labels: {},
  networkMode: 'bridge', portBindings: [], exposedPorts: [], autoRemove: false, dns: [], macAddress: '', networks: {}, ...over,
});
const net = (name: string, id: string, over: Partial<Network> = {}): Network => ({ id, name, driver: 'bridge', internal: false, options: {}, labels: {}, created: '2026-01-01T00:00:00Z', ...over });

function view(name: string, id: string, over: Partial<Container> = {}, extra: Partial<ContainerView> = {}): ContainerView {
  const c: Container = { id, name, imageId: 'sha256:img1', image: 'busybox', spec: spec(), status: 'running', pid: 1, exitCode: 0, error: '', created: '2026-01-01T00:00:00Z', startedAt: '2026-01-01T00:00:01Z', ...over };
  return { container: c, networks: [], ports: [], sandboxKey: '', logPath: '', execIds: [], mounts: [], linkNames: {}, restarting: false, health: 'none', ...extra };
}

const bridge = net('bridge', 'b'.repeat(64));
const front = net('front', 'f'.repeat(64));
// Newest first, as the repository lists them.
const views: ContainerView[] = [
  view('c5', '5'.repeat(64), { status: 'created', startedAt: undefined }),
  view('c4', '4'.repeat(64), { status: 'exited', exitCode: 3 }, { networks: [{ network: bridge, predefined: true }] }),
  view('c3', '3'.repeat(64), { status: 'exited', exitCode: 0, spec: spec({ labels: { c: '' } }) }),
  view('c2', '2'.repeat(64), { spec: spec({ labels: { a: '2' }, exposedPorts: ['90/udp'] }), imageId: 'sha256:img2' }, { health: 'healthy', mounts: [{ type: 'volume', name: 'vol1', source: '/var/lib/v', destination: '/data', readOnly: false, mode: '', propagation: '', origin: 'volumes' }] }),
  view('c1', '1'.repeat(64), { spec: spec({ labels: { a: '1', b: 'x' }, portBindings: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8081, containerPort: 80 }] }) }, {
    networks: [{ network: front, predefined: false }],
    ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8081, containerIp: '172.18.0.2', containerPort: 80, containerId: '1'.repeat(64) } satisfies PublishedPort],
  }),
];
const names = (vs: ContainerView[]) => vs.map((v) => v.container.name);
const list = (filters: Record<string, string[]>, all = true, limit = 0) => names(listContainers(views, Filters.of(filters), { all, limit }, { imageId: (r) => (r === 'busybox' ? 'sha256:img1' : r === 'other:v1' ? 'sha256:img2' : undefined) }));
const invalid = (msg: RegExp) => (e: unknown) => e instanceof EngineError && e.kind === 'invalidParameter' && msg.test(e.message);

describe('Filters (Docker\'s semantics)', () => {
  it('Filters.parse() takes the list and the map forms, and refuses an unknown key in Docker\'s words', () => {
    assert.deepEqual(Filters.parse('{"name":["a","b"]}', ['name']).values('name'), ['a', 'b']);
    assert.deepEqual(Filters.parse('{"label":{"a=1":true,"b":false}}', ['label']).values('label'), ['a=1']);
    assert.throws(() => Filters.parse('{"nosuch":["x"]}', CONTAINER_FILTERS), invalid(/^Invalid filter 'nosuch'$/));
    assert.throws(() => Filters.parse('notjson', ['name']), invalid(/invalid filters/));
  });

  it('match() searches a regular expression (OR over values), exact() compares, labels() wants every label', () => {
    const f = Filters.of({ name: ['^we', 'db$'], driver: ['bridge'], label: ['a', 'b=x'] });
    assert.ok(f.match('name', 'web') && f.match('name', 'mydb') && !f.match('name', 'app'));
    assert.ok(f.match('id', 'anything'), 'no values: everything');
    assert.ok(Filters.of({ name: ['('] }).match('name', '(') === false, 'a pattern that does not compile matches nothing');
    assert.ok(f.exact('driver', 'bridge') && !f.exact('driver', 'bridgex'));
    assert.ok(f.labels('label', { a: '', b: 'x' }) && !f.labels('label', { a: '1' }) && !f.labels('label', { a: '1', b: 'y' }));
  });

  it('bool() reads true/1/false/0 and refuses the rest in Docker\'s words', () => {
    assert.equal(Filters.of({ dangling: ['1'] }).bool('dangling'), true);
    assert.equal(Filters.of({ dangling: ['false'] }).bool('dangling'), false);
    assert.equal(Filters.of({}).bool('dangling'), undefined);
    assert.throws(() => Filters.of({ dangling: ['x'] }).bool('dangling'), invalid(/invalid value for filter 'dangling', must be "true" \(or "1"\), or "false" \(or "0"\)/));
  });

  it('portSet() expands ports, protocols and ranges, and refuses what is not one', () => {
    assert.deepEqual([...portSet('publish', ['80', '90/udp', '100-102'])].sort(), ['100/tcp', '101/tcp', '102/tcp', '80/tcp', '90/udp']);
    assert.throws(() => portSet('publish', ['x']), invalid(/error while looking up for publish x/));
    assert.throws(() => portSet('expose', ['1:2']), invalid(/should not contain ':'/));
  });
});

describe('listContainers()', () => {
  it('shows running containers unless all, a status filter or a limit; newest first', () => {
    assert.deepEqual(list({}, false), ['c2', 'c1']);
    assert.deepEqual(list({}), ['c5', 'c4', 'c3', 'c2', 'c1']);
    assert.deepEqual(list({ status: ['exited'] }, false), ['c4', 'c3']);
    assert.deepEqual(list({}, false, 2), ['c5', 'c4'], 'a limit shows stopped ones too');
  });

  it('label, name, id, status, exited, health: as Docker matches them', () => {
    assert.deepEqual(list({ label: ['a'] }), ['c2', 'c1']);
    assert.deepEqual(list({ label: ['a=1', 'b=x'] }), ['c1']);
    assert.deepEqual(list({ label: ['a=1', 'a=2'] }), [], 'every label given');
    assert.deepEqual(list({ label: ['c='] }), ['c3']);
    assert.deepEqual(list({ name: ['c1', 'c3'] }), ['c3', 'c1']);
    assert.deepEqual(list({ name: ['^/c1$'] }), ['c1'], 'the name with its slash');
    assert.deepEqual(list({ name: ['^c1$'] }), ['c1'], 'and without');
    assert.deepEqual(list({ id: ['2222'] }), ['c2']);
    assert.deepEqual(list({ exited: ['0', '3'] }), ['c4', 'c3']);
    assert.deepEqual(list({ exited: ['0'] }), ['c3'], 'a created container never exited');
    assert.deepEqual(list({ health: ['healthy'] }), ['c2']);
    assert.deepEqual(list({ health: ['none'] }), ['c5', 'c4', 'c3', 'c1']);
    assert.deepEqual(list({ 'is-task': ['true'] }), []);
    assert.deepEqual(list({ 'is-task': ['false'] }).length, 5);
  });

  it('network (name or id prefix), ancestor, publish (host port), expose, volume', () => {
    assert.deepEqual(list({ network: ['front'] }), ['c1']);
    assert.deepEqual(list({ network: ['ffff'] }), ['c1']);
    assert.deepEqual(list({ network: ['bridge', 'front'] }), ['c4', 'c1']);
    assert.deepEqual(list({ ancestor: ['other:v1'] }), ['c2']);
    assert.deepEqual(list({ ancestor: ['nosuch'] }), [], 'an image that does not exist: nothing');
    assert.deepEqual(list({ publish: ['8081/tcp'] }), ['c1']);
    assert.deepEqual(list({ publish: ['80'] }), [], 'the host port, not the container\'s');
    assert.deepEqual(list({ publish: ['8000-8100'] }), ['c1']);
    assert.deepEqual(list({ expose: ['80'] }), ['c1']);
    assert.deepEqual(list({ expose: ['90'] }), [], '90 is 90/tcp');
    assert.deepEqual(list({ expose: ['79-91/udp'] }), ['c2']);
    assert.deepEqual(list({ volume: ['/data'] }), ['c2']);
    assert.deepEqual(list({ volume: ['vol1'] }), ['c2']);
  });

  it('before and since cut the list at a container; a missing one is an error', () => {
    assert.deepEqual(list({ before: ['c3'] }), ['c2', 'c1']);
    assert.deepEqual(list({ since: ['c3'] }), ['c5', 'c4']);
    assert.deepEqual(list({ before: ['c5'], since: ['c2'] }), ['c4', 'c3']);
    assert.throws(() => list({ before: ['nosuch'] }), (e: unknown) => e instanceof EngineError && e.kind === 'notFound' && /no such container nosuch/.test(e.message));
  });

  it('refuses a bad status, health, is-task or exited value in Docker\'s words', () => {
    assert.throws(() => list({ status: ['sleeping'] }), invalid(/^Invalid filter 'status=sleeping'$/));
    assert.throws(() => list({ health: ['sick'] }), invalid(/^Unrecognised filter value for health: sick$/));
    assert.throws(() => list({ 'is-task': ['maybe'] }), invalid(/^Invalid filter 'is-task=\[maybe\]'$/));
    assert.throws(() => list({ exited: ['x'] }), invalid(/exited=x/));
  });
});

describe('listNetworks(), listImages(), listVolumes()', () => {
  const nv = (n: Network, predefined: boolean, members = 0): NetworkView => ({ network: n, scope: 'local', predefined, members: Array.from({ length: members }, () => ({ container: views[0].container })) });
  const nets = [nv(bridge, true, 1), nv(net('host', 'h'.repeat(64), { driver: 'host' }), true), nv(front, false, 1), nv(net('spare', 'abc'.padEnd(64, '0'), { labels: { k: 'v', team: 'net' }, driver: 'macvlan' }), false)];
  const ln = (f: Record<string, string[]>) => listNetworks(nets, Filters.of(f)).map((v) => v.network.name);

  it('networks: name pattern, id, driver, label, type, scope, dangling', () => {
    assert.deepEqual(ln({ name: ['r'] }), ['bridge', 'front', 'spare'], 'found anywhere in the name');
    assert.deepEqual(ln({ name: ['^front$'] }), ['front']);
    assert.deepEqual(ln({ id: ['abc'] }), ['spare']);
    assert.deepEqual(ln({ driver: ['macvlan'] }), ['spare']);
    assert.deepEqual(ln({ label: ['k=v', 'team=net'] }), ['spare']);
    assert.deepEqual(ln({ label: ['k=v', 'team=x'] }), []);
    assert.deepEqual(ln({ type: ['builtin'] }), ['bridge', 'host']);
    assert.deepEqual(ln({ type: ['custom'] }), ['front', 'spare']);
    assert.deepEqual(ln({ scope: ['swarm'] }), []);
    assert.deepEqual(ln({ dangling: ['true'] }), ['spare'], 'custom networks without containers');
    assert.deepEqual(ln({ dangling: ['false'] }), ['bridge', 'host', 'front']);
    assert.deepEqual(ln({ name: ['r'], driver: ['macvlan'] }), ['spare'], 'every key');
    assert.throws(() => ln({ type: ['other'] }), invalid(/invalid filter: 'type'='other'/));
    assert.throws(() => Filters.parse('{"nosuch":["x"]}', NETWORK_FILTERS), invalid(/Invalid filter 'nosuch'/));
  });

  it('images: reference patterns (narrowing the tags listed), dangling, label, before/since', () => {
    const img = (id: string, tags: string[], created: string, labels: Record<string, string> = {}): Image => {
      const config = { ...emptyConfig(), labels };
      return { id, tags, created, size: 1, layers: [], repoDigests: [], comment: '', parent: '', config, details: { architecture: 'amd64', os: 'linux', variant: '', created, author: '', comment: '', dockerVersion: '', container: '', config, history: [], diffIds: [] } };
    };
    const images = [img('sha256:1', ['busybox:latest', 'fimg:v1'], '2026-01-01T00:00:00Z'), img('sha256:2', [], '2026-01-02T00:00:00Z', { a: '1' }), img('sha256:3', ['lib/app:2'], '2026-01-03T00:00:00Z')];
    const find = (r: string): Image | undefined => images.find((i) => i.tags.includes(r.includes(':') ? r : `${r}:latest`) || i.id === r);
    const li = (f: Record<string, string[]>) => listImages(images, Filters.of(f), find).map((i) => `${i.id}=${i.tags.join(',')}`);
    assert.deepEqual(li({ reference: ['busybox'] }), ['sha256:1=busybox:latest'], 'a name matches name:tag; only the matching tags are listed');
    assert.deepEqual(li({ reference: ['fim*:v*'] }), ['sha256:1=fimg:v1']);
    assert.deepEqual(li({ reference: ['lib/*'] }), ['sha256:3=lib/app:2']);
    assert.deepEqual(li({ reference: ['*'] }), ['sha256:1=busybox:latest,fimg:v1'], '* never crosses a slash');
    assert.deepEqual(li({ dangling: ['true'] }), ['sha256:2=']);
    assert.deepEqual(li({ label: ['a=1'] }), ['sha256:2=']);
    assert.deepEqual(li({ before: ['lib/app:2'] }), ['sha256:1=busybox:latest,fimg:v1', 'sha256:2=']);
    assert.deepEqual(li({ since: ['busybox'] }), ['sha256:2=', 'sha256:3=lib/app:2']);
    assert.throws(() => li({ before: ['nosuch'] }), (e: unknown) => e instanceof EngineError && e.code === 'IMAGE_NOT_FOUND');
    assert.throws(() => Filters.parse('{"nosuch":["x"]}', IMAGE_FILTERS), invalid(/Invalid filter 'nosuch'/));
  });

  it('volumes: name pattern, driver, label, dangling (the matcher for issue 15\'s volumes)', () => {
    const vols: VolumeView[] = [{ name: 'data', driver: 'local', labels: { k: 'v' }, inUse: true }, { name: 'cache', driver: 'local', labels: {}, inUse: false }];
    const lv = (f: Record<string, string[]>) => listVolumes(vols, Filters.of(f)).map((v) => v.name);
    assert.deepEqual(lv({ name: ['^da'] }), ['data']);
    assert.deepEqual(lv({ label: ['k'] }), ['data']);
    assert.deepEqual(lv({ dangling: ['true'] }), ['cache']);
    assert.deepEqual(lv({ driver: ['nfs'] }), []);
    assert.throws(() => Filters.parse('{"nosuch":["x"]}', VOLUME_FILTERS), invalid(/Invalid filter 'nosuch'/));
  });
});

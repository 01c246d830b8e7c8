/**
 * The pure parts of images: references (Docker's grammar and normalisation), users against
 * passwd/group, what a container takes from its image (Docker's merge), --change instructions,
 * manifests and the platform choice, registry challenges, credentials and tokens, insecure
 * registries and mirrors, and the JSON messages and progress text the docker CLI reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { familiarTag, parseImageRef } from '../../src/base/image-ref';
import { resolveUser } from '../../src/base/user-spec';
import { applyChanges } from '../../src/base/image-changes';
import { configFromJson, configToJson, emptyConfig } from '../../src/base/image-config';
import { withImageDefaults } from '../../src/core/containers/image-defaults';
import { ContainerSpec } from '../../src/base/container-spec';
import { choosePlatform, parseManifest, parsePlatform } from '../../src/images/manifest';
import { decodeAuthHeader, parseChallenge, parseTokenResponse } from '../../src/images/registry/auth';
import { endpointsFor, isInsecure } from '../../src/images/registry/registry-client';
import { messageJson } from '../../src/api/json-stream';
import { humanSize, progressText } from '../../src/view/progress';

test('parseImageRef() normalises as Docker: Hub, library/, registry hosts with ports, tags, digests', () => {
  assert.deepEqual(parseImageRef('busybox'), { domain: 'docker.io', path: 'library/busybox', tag: undefined, digest: undefined });
  assert.deepEqual(parseImageRef('docker.io/library/busybox:1.36'), { domain: 'docker.io', path: 'library/busybox', tag: '1.36', digest: undefined });
  assert.deepEqual(parseImageRef('team/app'), { domain: 'docker.io', path: 'team/app', tag: undefined, digest: undefined });
  const d = `sha256:${'a'.repeat(64)}`;
  assert.deepEqual(parseImageRef(`localhost:5000/a/b:c@${d}`), { domain: 'localhost:5000', path: 'a/b', tag: 'c', digest: d });
  assert.deepEqual(parseImageRef('10.0.0.1:5000/x').domain, '10.0.0.1:5000');
  assert.equal(familiarTag(parseImageRef('docker.io/library/busybox')), 'busybox:latest');
  assert.equal(familiarTag(parseImageRef('index.docker.io/team/app:1')), 'team/app:1');
  assert.equal(familiarTag(parseImageRef('localhost:5000/app')), 'localhost:5000/app:latest');
  assert.throws(() => parseImageRef('UPPER/case'), /repository name must be lowercase/);
  assert.throws(() => parseImageRef('busybox:bad tag'), /invalid reference format/);
  assert.throws(() => parseImageRef('a@sha256:123'), /digest/);
  assert.throws(() => parseImageRef('a'.repeat(64)), /64-byte hexadecimal/);
  assert.throws(() => parseImageRef('-a'), /invalid reference format/);
});

test('resolveUser() follows runc: names from passwd, numbers need not exist, groups implicit or given; the primary group first', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n';
  const group = 'root:x:0:\napp:x:1000:\nextra:x:2000:app,other\nwheel:x:10:root\n';
  assert.deepEqual(resolveUser('', passwd, group), { uid: 0, gid: 0, additionalGids: [0, 10], home: '/root' });
  assert.deepEqual(resolveUser('app', passwd, group), { uid: 1000, gid: 1000, additionalGids: [1000, 2000], home: '/home/app' });
  assert.deepEqual(resolveUser('1000', passwd, group), { uid: 1000, gid: 1000, additionalGids: [1000, 2000], home: '/home/app' });
  assert.deepEqual(resolveUser('app:extra', passwd, group), { uid: 1000, gid: 2000, additionalGids: [2000], home: '/home/app' });
  assert.deepEqual(resolveUser('4242:7', passwd, group), { uid: 4242, gid: 7, additionalGids: [7], home: '/' });
  assert.deepEqual(resolveUser('0', undefined, undefined), { uid: 0, gid: 0, additionalGids: [0], home: '/' });
  assert.throws(() => resolveUser('nobody', passwd, group), /unable to find user nobody: no matching entries in passwd file/);
  assert.throws(() => resolveUser('app:nogroup', passwd, group), /unable to find group nogroup: no matching entries in group file/);
  assert.throws(() => resolveUser('9999999999', passwd, group), /out of range/);
});

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  cmd: [], entrypoint: [], env: [], workingDir: '', hostname: '', tty: false, openStdin: false, stdinOnce: false, labels: {}, networkMode: 'bridge',
  portBindings: [], exposedPorts: [], autoRemove: false, dns: [], macAddress: '', networks: {}, ...over,
});

test('withImageDefaults() merges as Docker: entrypoint and cmd rules, env by name, labels, ports, user, workdir, stop signal', () => {
  const img = { ...emptyConfig(), entrypoint: ['/entry'], cmd: ['serve'], env: ['PATH=/bin', 'A=image'], labels: { l: 'image', m: 'image' }, exposedPorts: ['80/tcp'], user: 'app', workingDir: '/w', stopSignal: 'SIGQUIT' };
  const none = withImageDefaults(spec(), img);
  assert.deepEqual([none.entrypoint, none.cmd, none.user, none.workingDir, none.stopSignal], [['/entry'], ['serve'], 'app', '/w', 'SIGQUIT']);
  assert.deepEqual(withImageDefaults(spec({ cmd: ['echo'] }), img).entrypoint, ['/entry']);
  assert.deepEqual(withImageDefaults(spec({ cmd: ['echo'] }), img).cmd, ['echo']);
  const ep = withImageDefaults(spec({ entrypoint: ['sh'] }), img);
  assert.deepEqual([ep.entrypoint, ep.cmd], [['sh'], []]);
  const reset = withImageDefaults(spec({ entrypoint: [''], cmd: ['ls'] }), img);
  assert.deepEqual([reset.entrypoint, reset.cmd], [[], ['ls']]);
  const m = withImageDefaults(spec({ env: ['A=mine'], labels: { l: 'mine' }, exposedPorts: ['53/udp'], user: '0', workingDir: '/x' }), img);
  assert.deepEqual(m.env, ['A=mine', 'PATH=/bin']);
  assert.deepEqual(m.labels, { l: 'mine', m: 'image' });
  assert.deepEqual(m.exposedPorts, ['53/udp', '80/tcp']);
  assert.deepEqual([m.user, m.workingDir], ['0', '/x']);
});

test('applyChanges() reads the Dockerfile instructions of --change in JSON and shell form', () => {
  const c = applyChanges(emptyConfig(), ['CMD ["a", "b"]', 'ENV K=v "Q=a b"', 'ENV OLD value with spaces', 'EXPOSE 80 53/udp', 'LABEL x=1 y="two words"', 'USER app:app', 'WORKDIR /srv', 'WORKDIR sub', 'VOLUME /data /logs', 'STOPSIGNAL SIGINT']);
  assert.deepEqual(c.cmd, ['a', 'b']);
  assert.deepEqual(c.env, ['K=v', 'Q=a b', 'OLD=value with spaces']);
  assert.deepEqual(c.exposedPorts, ['80/tcp', '53/udp']);
  assert.deepEqual(c.labels, { x: '1', y: 'two words' });
  assert.deepEqual([c.user, c.workingDir, c.stopSignal, c.volumes], ['app:app', '/srv/sub', 'SIGINT', ['/data', '/logs']]);
  assert.deepEqual(applyChanges(emptyConfig(), ['ENTRYPOINT run it']).entrypoint, ['/bin/sh', '-c', 'run it']);
  assert.throws(() => applyChanges(emptyConfig(), ['RUN rm -rf /']), /run is not a valid change command/);
  assert.throws(() => applyChanges(emptyConfig(), ['EXPOSE eighty']), /not PORT\[\/PROTO\]/);
});

test('configFromJson() and configToJson() keep every field a container inherits, in Docker\'s JSON', () => {
  const raw = { User: 'u', ExposedPorts: { '80/tcp': {} }, Env: ['A=1'], Cmd: ['c'], Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 }, Volumes: { '/v': {} }, WorkingDir: '/w', Entrypoint: null, Labels: { a: 'b' }, StopSignal: 'SIGINT' };
  const c = configFromJson(raw);
  assert.deepEqual(c.healthcheck, { test: ['CMD', 'true'], intervalNs: 5e9, timeoutNs: 0, startPeriodNs: 0, retries: 3 });
  const back = configToJson(c);
  for (const [k, v] of Object.entries(raw)) assert.deepEqual(back[k], k === 'Healthcheck' ? { Test: ['CMD', 'true'], Interval: 5e9, Retries: 3 } : v, k);
  assert.deepEqual(Object.keys(configToJson(emptyConfig())), ['Hostname', 'Domainname', 'User', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Env', 'Cmd', 'Image', 'Volumes', 'WorkingDir', 'Entrypoint', 'OnBuild', 'Labels']);
});

test('parseManifest() and choosePlatform(): indexes, schema 1 refused, layer types checked; linux/amd64 by default, arm64 means v8', () => {
  const d = (c: string) => `sha256:${c.repeat(64)}`;
  const index = parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('a'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('b'), size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: d('c'), size: 1, platform: { os: 'linux', architecture: 'amd64' } },
  ] })));
  assert.equal(index.kind, 'index');
  if (index.kind !== 'index') return;
  assert.equal(choosePlatform(index.manifests, parsePlatform(undefined)).digest, d('c'));
  assert.equal(choosePlatform(index.manifests, parsePlatform('linux/arm64')).digest, d('b'));
  assert.equal(choosePlatform(index.manifests, parsePlatform('linux/arm/v7')).digest, d('a'));
  assert.throws(() => choosePlatform(index.manifests, parsePlatform('linux/arm/v6')), /no matching manifest for linux\/arm\/v6 in the manifest list entries/);
  assert.throws(() => parseManifest(Buffer.from('{"schemaVersion":1,"fsLayers":[]}')), /schema 1/);
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: d('a'), size: 1 }, layers: [{ mediaType: 'text/plain', digest: d('b'), size: 1 }] }))), /not an image layer/);
  assert.throws(() => parseManifest(Buffer.from(JSON.stringify({ schemaVersion: 2, config: { digest: 'md5:x', size: 1 }, layers: [] }))), /sha256/);
});

test('registry auth: WWW-Authenticate challenges, X-Registry-Auth, token answers', () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"'), {
    scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull' },
  });
  assert.deepEqual(parseChallenge('Basic realm="r"'), { scheme: 'basic', params: { realm: 'r' } });
  assert.equal(parseChallenge('Negotiate x'), undefined);
  const h = Buffer.from(JSON.stringify({ username: 'u', password: 'p', serveraddress: 'r:5000' })).toString('base64url');
  assert.deepEqual(decodeAuthHeader(h), { username: 'u', password: 'p', identityToken: undefined, registryToken: undefined, serverAddress: 'r:5000' });
  assert.deepEqual(decodeAuthHeader(Buffer.from(JSON.stringify({ auth: Buffer.from('x:y').toString('base64') })).toString('base64')).username, 'x');
  assert.deepEqual(decodeAuthHeader('e30='), { username: undefined, password: undefined, identityToken: undefined, registryToken: undefined, serverAddress: undefined });
  const t = parseTokenResponse('{"access_token":"abc","expires_in":300,"issued_at":"2026-01-01T00:00:00Z"}', Date.parse('2026-01-01T00:01:00Z'));
  assert.deepEqual([t.token, t.expires], ['abc', Date.parse('2026-01-01T00:05:00Z')]);
  assert.equal(parseTokenResponse('{"token":"x"}', 0).expires, 60_000);
  assert.throws(() => parseTokenResponse('{}'), /no token/);
});

test('endpointsFor(): mirrors then the Hub for docker.io pulls (not pushes); HTTPS, then HTTP for insecure registries; loopback is insecure', () => {
  const cfg = { mirrors: ['http://10.0.0.5:5000'], insecure: ['10.1.0.0/16', 'reg.lan:5000'] };
  assert.deepEqual(endpointsFor('docker.io', cfg, false).map((e) => e.origin), ['http://10.0.0.5:5000', 'https://registry-1.docker.io']);
  assert.deepEqual(endpointsFor('docker.io', cfg, true).map((e) => e.origin), ['https://registry-1.docker.io']);
  assert.deepEqual(endpointsFor('10.1.2.3:5000', cfg, false).map((e) => [e.origin, e.skipVerify]), [['https://10.1.2.3:5000', true], ['http://10.1.2.3:5000', false]]);
  assert.deepEqual(endpointsFor('quay.io', cfg, false).map((e) => e.origin), ['https://quay.io']);
  assert.equal(isInsecure('reg.lan:5000', cfg.insecure), true);
  assert.equal(isInsecure('reg.lan:5001', cfg.insecure), false);
  assert.equal(isInsecure('127.0.0.1:5000', []), true);
  assert.equal(isInsecure('10.2.0.1:5000', cfg.insecure), false);
});

test('messageJson() and progressText() write what Docker 20.10 sends (recorded lines)', () => {
  assert.equal(progressText(184, 184), '[==================================================>]     184B/184B');
  assert.equal(progressText(32768, 1064738), `[=>${' '.repeat(49)}]  32.77kB/1.065MB`);
  assert.deepEqual(['184B', '32.77kB', '1.065MB', '1GB'], [humanSize(184), humanSize(32768), humanSize(1064738), humanSize(1e9)]);
  assert.deepEqual(messageJson({ id: 'd49b5c04d9c6', status: 'Downloading', current: 184, total: 184 }), { status: 'Downloading', progressDetail: { current: 184, total: 184 }, progress: '[==================================================>]     184B/184B', id: 'd49b5c04d9c6' });
  assert.deepEqual(messageJson({ id: 'multi', status: 'Pulling from bb' }), { status: 'Pulling from bb', id: 'multi' });
  assert.deepEqual(messageJson({ id: 'e6d6473d0b0b', status: 'Pull complete' }), { status: 'Pull complete', progressDetail: {}, id: 'e6d6473d0b0b' });
  assert.deepEqual(messageJson({ status: 'Digest: sha256:x' }), { status: 'Digest: sha256:x' });
  assert.deepEqual(messageJson({ status: '', aux: { Tag: 'two' } }), { progressDetail: {}, aux: { Tag: 'two' } });
  assert.deepEqual(messageJson({ status: '', stream: 'Loaded image: x\n' }), { stream: 'Loaded image: x\n' });
});

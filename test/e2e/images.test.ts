/**
 * Images from real registries and archives, end to end: a switch host `sw` runs Debian's
 * docker-registry three times (open; htpasswd basic auth; token auth against the test's token
 * issuer) and two ctrnet hosts pull, run, push, load and save. The images are made here with GNU
 * tar, gzip and zstd and pushed with skopeo (independent of ctrnet); what ctrnet pushes is read
 * back with skopeo. Observed as a user would: command output, files in containers, what the
 * registry logged, what is left under the daemon's root.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { LabHost, must, plugIntoSwitch, sh } from '../../scripts/lab';
import { assertNoLeftovers, until } from './_util';
import { answers, LabRegistry, skopeoIn } from '../helpers/registry';
import { BuiltLayer, busyboxRoot, dockerSaveArchive, gzip, imageConfig, layerTar, MEDIA, ociLayout, sha, zstd } from '../helpers/test-images';

const SW = '10.217.0.1';
const REG = `${SW}:5000`;
const BASIC = `${SW}:5001`;
const TOKEN = `${SW}:5002`;
const ISSUER = `${SW}:5003`;

let sw: LabHost;
let a: LabHost;
let b: LabHost;
let open: LabRegistry;
let basic: LabRegistry;
let tokened: LabRegistry;
let issuer: ChildProcess | undefined;
let issuerLog = '';
let build: string;
const layers: Record<string, BuiltLayer> = {};
const configs: Record<string, Buffer> = {};

const MULTI_CMD = ['sh', '-c', 'echo hello from multi; id; pwd; echo FOO=$FOO HOME=$HOME; ls -A /data; ls / | grep -c gone || true'];

/** A layer from a directory: its tar, and the blob (gzip or zstd) as pushed. */
async function layer(name: string, fill: (dir: string) => void, compress: 'gzip' | 'zstd' = 'gzip'): Promise<BuiltLayer> {
  const dir = `${build}/${name}`;
  mkdirSync(dir, { recursive: true });
  fill(dir);
  const tar = await layerTar(dir, `${build}/${name}.tar`);
  const blob = compress === 'gzip' ? await gzip(`${build}/${name}.tar`) : await zstd(`${build}/${name}.tar`);
  return (layers[name] = { tar, blob, mediaType: compress === 'gzip' ? MEDIA.ociGzip : MEDIA.ociZstd });
}

async function push(oci: string, ref: string, dest: string, extra: string[] = []): Promise<void> {
  await skopeoIn(sw, ['copy', ...extra, '--dest-tls-verify=false', `oci:${oci}:${ref}`, `docker://${dest}`]);
}

async function ok(h: LabHost, args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
  const r = await h.cli(args, { timeoutMs: 60_000, ...opts });
  if (r.code !== 0) throw new Error(`ctrnet ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}\n${r.stdout}`);
  return r.stdout;
}

/** What a daemon keeps of images: layer directories, blobs, temporary files. */
function store(h: LabHost): { layers: string[]; blobs: string[]; tmp: string[] } {
  const ls = (d: string) => (existsSync(d) ? readdirSync(d).sort() : []);
  return { layers: ls(`${h.root}/images/layers`), blobs: ls(`${h.root}/images/blobs/sha256`), tmp: ls(`${h.root}/images/tmp`) };
}

async function buildImages(): Promise<void> {
  build = `${sw.dir}/build`;
  mkdirSync(build, { recursive: true });
  // Layer 1: busybox with a user database (app 1000, in groups app and extra).
  const base = await layer('base', (d) => {
    busyboxRoot(d, 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n', 'root:x:0:\napp:x:1000:\nextra:x:2000:app\n');
    mkdirSync(`${d}/home/app`, { recursive: true });
  });
  // Layer 2: files the next layer removes (a whiteout) or hides (an opaque directory).
  const l2 = await layer('l2', (d) => {
    mkdirSync(`${d}/data/keep`, { recursive: true });
    writeFileSync(`${d}/data/a`, 'a\n');
    writeFileSync(`${d}/data/keep/b`, 'b\n');
    writeFileSync(`${d}/gone`, 'gone\n');
  });
  const l3 = await layer('l3', (d) => {
    mkdirSync(`${d}/data`, { recursive: true });
    writeFileSync(`${d}/.wh.gone`, '');
    writeFileSync(`${d}/data/.wh..wh..opq`, '');
    writeFileSync(`${d}/data/n`, 'new\n');
    mkdirSync(`${d}/work`);
    chownSync(`${d}/work`, 1000, 1000);
  });
  configs.multi = imageConfig([base, l2, l3], {
    User: 'app', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'FOO=bar'], WorkingDir: '/work', Cmd: MULTI_CMD,
    ExposedPorts: { '80/tcp': {} }, Volumes: { '/vol': {} }, StopSignal: 'SIGUSR1', Labels: { 'org.test': 'multi' },
    Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000 },
  }, { history: ['ADD busybox /', 'RUN make data', 'RUN rm /gone; rm -r /data; echo new > /data/n'] });
  ociLayout(`${build}/multi`, '1', [{ config: configs.multi, layers: [base, l2, l3] }]);
  // An index: linux/amd64 (a zstd layer) and linux/arm64 (not runnable here: it is only pulled).
  const amd = await layer('p-amd64', (d) => writeFileSync(`${d}/platform`, 'amd64\n'), 'zstd');
  const arm = await layer('p-arm64', (d) => writeFileSync(`${d}/platform`, 'arm64\n'));
  configs.amd64 = imageConfig([base, amd], { Cmd: ['cat', '/platform'] });
  configs.arm64 = imageConfig([base, arm], { Cmd: ['cat', '/platform'] }, { arch: 'arm64' });
  ociLayout(`${build}/index`, '1', [
    { config: configs.amd64, layers: [base, amd], platform: { architecture: 'amd64', os: 'linux' } },
    { config: configs.arm64, layers: [base, arm], platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
  ]);
  // Malicious layers: a "../" entry; a symlink to a host directory, then a file through it.
  mkdirSync(`${build}/evil1/sub`, { recursive: true });
  writeFileSync(`${build}/evil1/escape-dotdot`, 'pwned\n');
  await must(['tar', '-C', `${build}/evil1/sub`, '-P', '-cf', `${build}/evil1.tar`, '../escape-dotdot']);
  const victim = `${a.dir}/victim`;
  mkdirSync(victim, { recursive: true });
  mkdirSync(`${build}/evil2a`, { recursive: true });
  symlinkSync(victim, `${build}/evil2a/link`);
  mkdirSync(`${build}/evil2b/link`, { recursive: true });
  writeFileSync(`${build}/evil2b/link/pwned`, 'pwned\n');
  await must(['tar', '-C', `${build}/evil2a`, '-cf', `${build}/evil2.tar`, 'link']);
  await must(['tar', '-C', `${build}/evil2b`, '-cf', `${build}/evil2b.tar`, 'link/pwned']);
  await must(['tar', '-A', '-f', `${build}/evil2.tar`, `${build}/evil2b.tar`]);
  for (const e of ['evil1', 'evil2']) {
    const tar = readFileSync(`${build}/${e}.tar`);
    const l: BuiltLayer = { tar, blob: await gzip(`${build}/${e}.tar`), mediaType: MEDIA.ociGzip };
    ociLayout(`${build}/${e}`, '1', [{ config: imageConfig([base, l], { Cmd: ['true'] }), layers: [base, l] }]);
  }
  // A layer to corrupt in the registry, and a big one (incompressible) to interrupt.
  const c = await layer('corrupt', (d) => writeFileSync(`${d}/c`, randomBytes(4096).toString('hex')));
  ociLayout(`${build}/corrupt`, '1', [{ config: imageConfig([base, c], { Cmd: ['true'] }), layers: [base, c] }]);
  const big = await layer('big', (d) => writeFileSync(`${d}/big`, randomBytes(6 << 20)));
  ociLayout(`${build}/big`, '1', [{ config: imageConfig([base, big], { Cmd: ['true'] }), layers: [base, big] }]);
}

before(async () => {
  sw = await LabHost.create('isw');
  a = await LabHost.create('ia');
  b = await LabHost.create('ib');
  await plugIntoSwitch(sw, a, '10.217.0.11', SW);
  await plugIntoSwitch(sw, b, '10.217.0.12', SW);
  // The issuer's key and self-signed certificate; the token registry trusts that certificate.
  await must(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${sw.dir}/issuer.key`, '-out', `${sw.dir}/issuer.crt`, '-days', '2', '-subj', '/CN=ctrnet-test-issuer']);
  const issuerJs = path.resolve(__dirname, '../helpers/token-issuer.js');
  issuer = spawn('nsenter', [`--net=${sw.netnsPath}`, process.execPath, issuerJs, ISSUER, `${sw.dir}/issuer.key`, `${sw.dir}/issuer.crt`, 'ctrnet-test-issuer', 'alice:wonderland'], { stdio: ['ignore', 'pipe', 'pipe'] });
  issuer.stdout!.on('data', (d: Buffer) => (issuerLog += d.toString()));
  issuer.stderr!.on('data', (d: Buffer) => (issuerLog += d.toString()));
  open = new LabRegistry(sw, SW, 5000);
  basic = new LabRegistry(sw, SW, 5001, { kind: 'htpasswd', users: { alice: 'wonderland' } });
  tokened = new LabRegistry(sw, SW, 5002, { kind: 'token', realm: `http://${ISSUER}/token`, service: 'ctrnet-test', issuer: 'ctrnet-test-issuer', certFile: `${sw.dir}/issuer.crt` });
  await Promise.all([open.start(), basic.start(), tokened.start(), a.startDaemon(['--insecure-registry', '10.217.0.0/24']), b.startDaemon(['--insecure-registry', '10.217.0.0/24', '--registry-mirror', `http://${REG}`])]);
  await until(async () => (await answers(sw, `http://${ISSUER}/token`)) === 200, 10_000, 'the token issuer');
  await buildImages();
  await push(`${build}/multi`, '1', `${REG}/test/multi:1`, ['--format', 'v2s2']);
  await push(`${build}/index`, '1', `${REG}/test/index:1`, ['--all']);
});

after(async () => {
  issuer?.kill('SIGTERM');
  await Promise.all([open?.stop(), basic?.stop(), tokened?.stop()]);
  await a?.destroy();
  await b?.destroy();
  await sw?.destroy();
  assertNoLeftovers([a, b, sw].filter(Boolean));
});

describe('images from registries and archives', () => {
  it('pull (Docker schema 2 manifest, gzip layers) shows progress, then run honours the image: Cmd, Env, WorkingDir, User and its groups, HOME, a whiteout, an opaque directory', async () => {
    const pulled = await ok(a, ['pull', `${REG}/test/multi:1`]);
    assert.match(pulled, /1: Pulling from test\/multi/);
    assert.match(pulled, /Pull complete/);
    assert.match(pulled, /Digest: sha256:[0-9a-f]{64}/);
    assert.match(pulled, /Status: Downloaded newer image for 10\.217\.0\.1:5000\/test\/multi:1/);
    const out = await ok(a, ['run', '--rm', `${REG}/test/multi:1`]);
    assert.equal(out, 'hello from multi\nuid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n/work\nFOO=bar HOME=/home/app\nn\n0\n');
    // The container's own choices win: command, environment, user, working directory.
    assert.equal(await ok(a, ['run', '--rm', '-e', 'FOO=mine', '-u', '0:2000', '-w', '/data', `${REG}/test/multi:1`, 'sh', '-c', 'echo $FOO; id; pwd; cat n']), 'mine\nuid=0(root) gid=2000(extra) groups=2000(extra)\n/data\nnew\n');
    // The layers: stored once each, by diff id (beside the local busybox image's one).
    const have = store(a).layers;
    for (const l of [layers.base, layers.l2, layers.l3]) assert.ok(have.includes(sha(l.tar).slice(7)), `layer ${sha(l.tar)} missing`);
    assert.equal(have.length, 4);
  });

  it('inspect, history and the container show the image config: ExposedPorts (for -P), Volumes, StopSignal, Healthcheck, Labels; --entrypoint drops the image Cmd', async () => {
    const img = JSON.parse(await ok(a, ['image', 'inspect', `${REG}/test/multi:1`]))[0];
    assert.equal(img.Id, sha(configs.multi));
    assert.deepEqual(img.RepoTags, [`${REG}/test/multi:1`]);
    assert.match(img.RepoDigests[0], new RegExp(`^${REG.replace(/\./g, '\\.')}/test/multi@sha256:[0-9a-f]{64}$`));
    assert.deepEqual([img.Config.User, img.Config.WorkingDir, img.Config.StopSignal, img.Config.Cmd], ['app', '/work', 'SIGUSR1', MULTI_CMD]);
    assert.deepEqual([img.Config.ExposedPorts, img.Config.Volumes, img.Config.Labels], [{ '80/tcp': {} }, { '/vol': {} }, { 'org.test': 'multi' }]);
    assert.deepEqual(img.Config.Healthcheck, { Test: ['CMD-SHELL', 'true'], Interval: 5_000_000_000 });
    assert.deepEqual(img.RootFS.Layers, [layers.base, layers.l2, layers.l3].map((l) => sha(l.tar)));
    const hist = await ok(a, ['history', `${REG}/test/multi:1`]);
    assert.match(hist, /RUN rm \/gone/);
    assert.match(hist, /ADD busybox/);
    await ok(a, ['create', '--name', 'cfg', `${REG}/test/multi:1`]);
    const c = JSON.parse(await ok(a, ['inspect', 'cfg']))[0];
    // What -P publishes (issue 14) comes from Config.ExposedPorts: the image's are there.
    assert.deepEqual(Object.keys(c.Config.ExposedPorts), ['80/tcp']);
    assert.deepEqual([c.Config.User, c.Config.WorkingDir, c.Config.Labels['org.test'], c.Config.StopSignal], ['app', '/work', 'multi', 'SIGUSR1']);
    assert.ok(c.Config.Env.includes('FOO=bar'));
    await ok(a, ['rm', 'cfg']);
    assert.equal(await ok(a, ['run', '--rm', '--entrypoint', 'echo', `${REG}/test/multi:1`]), '\n');
    assert.equal(await ok(a, ['run', '--rm', '--entrypoint', '', `${REG}/test/multi:1`, 'echo', 'reset']), 'reset\n');
  });

  it('an OCI index: linux/amd64 is chosen (its zstd layer unpacked), --platform linux/arm64 the arm64 entry; the shared base layer "Already exists"', async () => {
    const pulled = await ok(a, ['pull', `${REG}/test/index:1`]);
    assert.match(pulled, new RegExp(`${sha(layers.base.blob).slice(7, 19)}: Already exists`));
    assert.equal(await ok(a, ['run', '--rm', `${REG}/test/index:1`]), 'amd64\n');
    assert.equal((await ok(a, ['image', 'inspect', '-f', '{{.Id}}', `${REG}/test/index:1`])).trim(), sha(configs.amd64));
    await ok(a, ['pull', '--platform', 'linux/arm64', `${REG}/test/index:1`]);
    const arm = JSON.parse(await ok(a, ['image', 'inspect', `${REG}/test/index:1`]))[0];
    assert.deepEqual([arm.Id, arm.Architecture], [sha(configs.arm64), 'arm64']);
    const bad = await a.cli(['pull', '--platform', 'linux/s390x', `${REG}/test/index:1`]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /no matching manifest for linux\/s390x in the manifest list entries/);
    const missing = await a.cli(['pull', `${REG}/test/index:nosuch`]);
    assert.match(missing.stderr, /manifest for 10\.217\.0\.1:5000\/test\/index:nosuch not found: manifest unknown/);
    await ok(a, ['rmi', `${REG}/test/index:1`]);
  });

  it('push to a registry, then pull on a second host: the same id and digest; skopeo reads what was pushed', async () => {
    await ok(a, ['tag', `${REG}/test/multi:1`, `${REG}/pushed/multi:2`]);
    const out = await ok(a, ['push', `${REG}/pushed/multi:2`]);
    assert.match(out, /The push refers to repository \[10\.217\.0\.1:5000\/pushed\/multi\]/);
    assert.match(out, /Pushed/);
    const digest = /2: digest: (sha256:[0-9a-f]{64}) size: \d+/.exec(out)?.[1];
    assert.ok(digest, out);
    // The manifest it was pulled by, sent again unchanged: the same digest as test/multi:1's.
    const repoDigest = JSON.parse(await ok(a, ['image', 'inspect', `${REG}/test/multi:1`]))[0].RepoDigests.find((d: string) => d.includes('/test/multi@'));
    assert.equal(digest, repoDigest.split('@')[1]);
    const seen = JSON.parse(await skopeoIn(sw, ['inspect', '--tls-verify=false', `docker://${REG}/pushed/multi:2`]));
    assert.equal(seen.Digest, digest);
    assert.deepEqual(seen.Layers, [layers.base, layers.l2, layers.l3].map((l) => sha(l.blob)));
    const again = await ok(a, ['push', `${REG}/pushed/multi:2`]);
    assert.match(again, /Layer already exists/);
    await ok(b, ['pull', `${REG}/pushed/multi:2`]);
    const onB = JSON.parse(await ok(b, ['image', 'inspect', `${REG}/pushed/multi:2`]))[0];
    assert.deepEqual([onB.Id, onB.RepoDigests], [sha(configs.multi), [`${REG}/pushed/multi@${digest}`]]);
    assert.match(await ok(b, ['run', '--rm', `${REG}/pushed/multi:2`]), /^hello from multi\n/);
    // An image made here (an import: an uncompressed layer, gzipped for the push) goes too.
    await ok(a, ['image', 'import', '-c', 'CMD ["cat", "/etc/hello"]', `${build}/base.tar`, `${REG}/pushed/imported:1`]);
    await ok(a, ['push', `${REG}/pushed/imported:1`]);
    await ok(b, ['pull', `${REG}/pushed/imported:1`]);
    assert.equal((await ok(b, ['image', 'inspect', '-f', '{{.Id}}', `${REG}/pushed/imported:1`])), await ok(a, ['image', 'inspect', '-f', '{{.Id}}', `${REG}/pushed/imported:1`]));
  });

  it('basic auth (htpasswd): a pull is refused without credentials; login with a wrong password fails; login, then pull and push work', async () => {
    await push(`${build}/multi`, '1', `${BASIC}/priv/multi:1`, ['--dest-creds', 'alice:wonderland']);
    const refused = await a.cli(['pull', `${BASIC}/priv/multi:1`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unauthorized: authentication required/);
    const wrong = await a.cli(['login', '-u', 'alice', '--password-stdin', BASIC], { input: 'nope\n' });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /incorrect username or password/);
    assert.equal(await ok(a, ['login', '-u', 'alice', '--password-stdin', BASIC], { input: 'wonderland\n' }), 'Login Succeeded\n');
    assert.match(await ok(a, ['pull', `${BASIC}/priv/multi:1`]), /Status: (Downloaded newer image|Image is up to date)/);
    await ok(a, ['tag', `${BASIC}/priv/multi:1`, `${BASIC}/priv/again:1`]);
    await ok(a, ['push', `${BASIC}/priv/again:1`]);
    assert.ok(JSON.parse(await skopeoIn(sw, ['inspect', '--tls-verify=false', '--creds', 'alice:wonderland', `docker://${BASIC}/priv/again:1`])).Digest);
    assert.match(await ok(a, ['logout', BASIC]), /Removing login credentials for 10\.217\.0\.1:5001/);
    assert.match((await a.cli(['pull', `${BASIC}/priv/multi:1`])).stderr, /unauthorized/);
  });

  it('token auth: the registry sends a bearer challenge, the issuer signs a scoped token for the logged-in user; the docker CLI logs in, pulls, pushes, saves and loads through ctrnet', async () => {
    await push(`${build}/multi`, '1', `${TOKEN}/tok/multi:1`, ['--dest-creds', 'alice:wonderland']);
    const refused = await a.cli(['pull', `${TOKEN}/tok/multi:1`]);
    assert.match(refused.stderr, /pull access denied for 10\.217\.0\.1:5002\/tok\/multi, repository does not exist or may require 'docker login'/);
    const before = issuerLog.length;
    assert.equal(await ok(a, ['login', '-u', 'alice', '--password-stdin', TOKEN], { input: 'wonderland\n' }), 'Login Succeeded\n');
    await ok(a, ['rmi', `${REG}/test/multi:1`]);
    await ok(a, ['pull', `${TOKEN}/tok/multi:1`]);
    assert.match(issuerLog.slice(before), /issued alice repository:tok\/multi pull\n/);
    await ok(a, ['tag', `${TOKEN}/tok/multi:1`, `${TOKEN}/tok/pushed:1`]);
    await ok(a, ['push', `${TOKEN}/tok/pushed:1`]);
    assert.match(issuerLog.slice(before), /issued alice repository:tok\/pushed pull,push\n/);
    // The docker CLI: its login goes through the daemon (POST /auth), its pulls send X-Registry-Auth.
    const env = { ...process.env, DOCKER_HOST: `unix://${b.socket}`, DOCKER_CONFIG: `${b.dir}/docker-cli` };
    const docker = (args: string[], input?: string) => sh(['docker', ...args], { env, input, timeoutMs: 60_000 });
    const login = await docker(['login', '-u', 'alice', '--password-stdin', TOKEN], 'wonderland\n');
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const pulled = await docker(['pull', `${TOKEN}/tok/pushed:1`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, /Pull complete|Already exists/);
    assert.match(pulled.stdout, /Digest: sha256:/);
    const run = await docker(['run', '--rm', `${TOKEN}/tok/pushed:1`, 'cat', '/data/n']);
    assert.deepEqual([run.code, run.stdout], [0, 'new\n'], run.stderr);
    assert.equal((await docker(['tag', `${TOKEN}/tok/pushed:1`, `${TOKEN}/tok/fromdocker:1`])).code, 0);
    const pushed = await docker(['push', `${TOKEN}/tok/fromdocker:1`]);
    assert.equal(pushed.code, 0, pushed.stderr);
    assert.match(pushed.stdout, /1: digest: sha256:[0-9a-f]{64} size: \d+/);
    const saved = await docker(['save', '-o', `${b.dir}/from-docker-cli.tar`, `${TOKEN}/tok/fromdocker:1`]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal((await docker(['rmi', `${TOKEN}/tok/fromdocker:1`])).code, 0);
    const loaded = await docker(['load', '-i', `${b.dir}/from-docker-cli.tar`]);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.match(loaded.stdout, /Loaded image: 10\.217\.0\.1:5002\/tok\/fromdocker:1/);
    const hist = await docker(['history', `${TOKEN}/tok/fromdocker:1`]);
    assert.match(hist.stdout, /RUN rm \/gone/);
  });

  it('a layer whose blob does not match its digest is refused, and nothing of it is left', async () => {
    await push(`${build}/corrupt`, '1', `${REG}/test/corrupt:1`);
    // Corrupt the blob in the registry's storage (same size): the registry serves it as it is.
    const file = open.blobFile(sha(layers.corrupt.blob));
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(file, bytes);
    const before = store(a);
    const r = await a.cli(['pull', `${REG}/test/corrupt:1`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, new RegExp(`filesystem layer verification failed for digest ${sha(layers.corrupt.blob)}|layer refused`));
    assert.deepEqual(store(a), before, 'the refused layer left something');
    assert.doesNotMatch(await ok(a, ['images']), /corrupt/);
  });

  it('layers that try to write outside their directory ("../", a file through a symlink the layer planted) are refused and write nothing', async () => {
    const before = store(a);
    for (const e of ['evil1', 'evil2']) {
      await push(`${build}/${e}`, '1', `${REG}/test/${e}:1`);
      const r = await a.cli(['pull', `${REG}/test/${e}:1`]);
      assert.notEqual(r.code, 0, `${e} was pulled`);
      assert.match(r.stderr, /layer refused: layer (entry "\.\.\/escape-dotdot" tries to write outside the layer's directory|entry "link\/pwned" is below a symlink)/);
      assert.deepEqual(store(a), before, `${e} left something`);
    }
    assert.deepEqual(readdirSync(`${a.dir}/victim`), []);
    assert.equal(existsSync(`${a.root}/images/escape-dotdot`) || existsSync(`${a.root}/images/tmp/escape-dotdot`), false);
  });

  it('concurrent pulls of one layer fetch it once; a pull cut by a daemon kill resumes where it stopped', async () => {
    await push(`${build}/big`, '1', `${REG}/test/big:1`);
    await push(`${build}/big`, '1', `${REG}/test/big:2`);
    const bigBlob = sha(layers.big.blob);
    const blobPath = `/v2/test/big/blobs/${bigBlob}`;
    const [p1, p2] = await Promise.all([ok(b, ['pull', `${REG}/test/big:1`]), ok(b, ['pull', `${REG}/test/big:2`])]);
    assert.match(p1 + p2, /Pull complete/);
    assert.equal(open.requests('GET', blobPath).length, 1, `the big layer was fetched ${open.requests('GET', blobPath).length} times`);
    // Slow the registry down, kill the daemon in the middle of the download, pull again.
    await sw.run(['tc', 'qdisc', 'add', 'dev', 'sw0', 'root', 'tbf', 'rate', '16mbit', 'burst', '64kb', 'latency', '500ms']);
    const partial = `${a.root}/images/tmp/ingest-${bigBlob.slice(7)}`;
    try {
      const pulling = a.cli(['pull', `${REG}/test/big:1`], { timeoutMs: 60_000 });
      await until(async () => existsSync(partial) && statSync(partial).size > 1 << 20, 20_000, 'a partial download');
      await a.stopDaemon('SIGKILL');
      await pulling;
      assert.ok(statSync(partial).size < layers.big.blob.length, 'the download finished before the kill');
    } finally {
      await sw.run(['tc', 'qdisc', 'del', 'dev', 'sw0', 'root']);
    }
    await a.startDaemon(['--insecure-registry', '10.217.0.0/24']);
    assert.ok(existsSync(partial), 'the restarted daemon dropped the partial download');
    await ok(a, ['pull', `${REG}/test/big:1`]);
    assert.match(a.log, new RegExp(`pull: resuming ${bigBlob} at byte [1-9]\\d*`));
    assert.ok(open.requests('GET', blobPath).some((l) => /" 206 /.test(l)), 'no range request reached the registry');
    assert.equal(await ok(a, ['run', '--rm', `${REG}/test/big:1`, 'sh', '-c', 'wc -c < /big']), `${6 << 20}\n`);
    assert.equal(existsSync(partial), false);
  });

  it('save, rmi, load give back the same image; a Docker-made `docker save` archive and an OCI image layout load and run; export, then import', async () => {
    const img = `${TOKEN}/tok/multi:1`;
    const id = (await ok(a, ['image', 'inspect', '-f', '{{.Id}}', img])).trim();
    await ok(a, ['save', '-o', `${a.dir}/saved.tar`, img]);
    assert.match(await ok(a, ['rmi', img]), /Untagged: 10\.217\.0\.1:5002\/tok\/multi:1/);
    assert.match(await ok(a, ['load', '-i', `${a.dir}/saved.tar`]), /Loaded image: 10\.217\.0\.1:5002\/tok\/multi:1/);
    assert.equal((await ok(a, ['image', 'inspect', '-f', '{{.Id}}', img])).trim(), id);
    assert.match(await ok(a, ['run', '--rm', img]), /^hello from multi\n/);
    // Docker's format, as Docker 20.10 writes it (the writer is checked against a Docker-made archive).
    const dm = await layer('dockermade', (d) => writeFileSync(`${d}/dockermade`, 'made by docker save\n'));
    const dmConfig = imageConfig([layers.base, dm], { Cmd: ['cat', '/dockermade'], Env: ['PATH=/bin'] });
    writeFileSync(`${a.dir}/docker-made.tar`, dockerSaveArchive([{ config: dmConfig, layers: [layers.base.tar, dm.tar], tags: ['dockermade/busybox:1'] }]));
    assert.match(await ok(a, ['load', '-i', `${a.dir}/docker-made.tar`]), /Loaded image: dockermade\/busybox:1/);
    assert.equal(await ok(a, ['run', '--rm', 'dockermade/busybox:1']), 'made by docker save\n');
    assert.equal((await ok(a, ['image', 'inspect', '-f', '{{.Id}}', 'dockermade/busybox:1'])).trim(), sha(dmConfig));
    // An OCI image layout tarball (gzip): its index resolved to linux/amd64.
    ociLayout(`${build}/oci-load`, 'localhost/ocitest:1', [
      { config: configs.amd64, layers: [layers.base, layers['p-amd64']], platform: { architecture: 'amd64', os: 'linux' } },
      { config: configs.arm64, layers: [layers.base, layers['p-arm64']], platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ]);
    await must(['tar', '-C', `${build}/oci-load`, '-czf', `${a.dir}/oci.tar.gz`, '.']);
    assert.match(await ok(a, ['load', '-i', `${a.dir}/oci.tar.gz`]), /Loaded image: localhost\/ocitest:1/);
    assert.equal(await ok(a, ['run', '--rm', 'localhost/ocitest:1']), 'amd64\n');
    // export of a container's root (its own changes included, the image's whiteouts applied), then import.
    await ok(a, ['run', '--name', 'exp', img, 'sh', '-c', 'echo mine > /work/mine']);
    await ok(a, ['export', '-o', `${a.dir}/exp.tar`, 'exp']);
    await ok(a, ['rm', 'exp']);
    const listing = (await must(['tar', '-tf', `${a.dir}/exp.tar`])).split('\n');
    assert.ok(listing.includes('work/mine') && listing.includes('data/n') && !listing.includes('gone') && !listing.includes('data/a'), listing.join(' '));
    await ok(a, ['import', '-c', 'CMD ["cat", "/work/mine"]', '-c', 'USER app', `${a.dir}/exp.tar`, 'exported:1']);
    assert.equal(await ok(a, ['run', '--rm', 'exported:1']), 'mine\n');
    assert.equal((await ok(a, ['image', 'inspect', '-f', '{{.Config.User}} {{.Comment}}', 'exported:1'])).trim(), 'app Imported from -');
  });

  it('rmi and image prune never remove a layer that another image or a container still uses', async () => {
    const shared = sha(layers.base.tar).slice(7);
    // b: pushed/multi:2 and pushed/imported:1 share the base layer.
    assert.match(await ok(b, ['rmi', `${REG}/pushed/imported:1`]), /Deleted: sha256:/);
    assert.ok(store(b).layers.includes(shared));
    assert.match(await ok(b, ['run', '--rm', `${REG}/pushed/multi:2`, 'cat', '/data/n']), /new/);
    // A container keeps its image (and its layers), even through rmi -f and prune -a. (The
    // image's other names go first: removing one of several names needs no force.)
    for (const t of [`${TOKEN}/tok/pushed:1`, `${TOKEN}/tok/fromdocker:1`]) assert.ok((await ok(b, ['rmi', t])).startsWith(`Untagged: ${t}\n`));
    await ok(b, ['create', '--name', 'keeper', `${REG}/pushed/multi:2`, 'cat', '/data/n']);
    const refused = await b.cli(['rmi', `${REG}/pushed/multi:2`]);
    assert.match(refused.stderr, /conflict: unable to remove repository reference .* container [0-9a-f]{12} is using its referenced image/);
    assert.match(await ok(b, ['rmi', '-f', `${REG}/pushed/multi:2`]), /Untagged: 10\.217\.0\.1:5000\/pushed\/multi:2/);
    await ok(b, ['image', 'prune', '-a', '-f']);
    assert.equal(await ok(b, ['start', '-a', 'keeper']), 'new\n');
    await ok(b, ['rm', 'keeper']);
    const pruned = await ok(b, ['image', 'prune', '-a', '-f']);
    assert.match(pruned, /deleted: sha256:/);
    assert.deepEqual(store(b), { layers: [], blobs: [], tmp: [] }, 'prune left layers or blobs that nothing uses');
    assert.deepEqual(readdirSync(`${b.root}/l`), []);
  });

  it('run of a missing image pulls it (the ctrnet CLI and the docker CLI), and --registry-mirror serves docker.io names', async () => {
    const r = await a.cli(['run', '--rm', `${REG}/test/index:1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'amd64\n');
    assert.match(r.stderr, /Unable to find image '10\.217\.0\.1:5000\/test\/index:1' locally/);
    const never = await a.cli(['run', '--rm', '--pull', 'never', `${REG}/test/nosuch:1`]);
    assert.notEqual(never.code, 0);
    const env = { ...process.env, DOCKER_HOST: `unix://${a.socket}`, DOCKER_CONFIG: `${a.dir}/docker-cli` };
    await push(`${build}/multi`, '1', `${REG}/test/cli:1`, ['--format', 'v2s2']);
    const d = await sh(['docker', 'run', '--rm', `${REG}/test/cli:1`, 'cat', '/data/n'], { env, timeoutMs: 60_000 });
    assert.equal(d.code, 0, d.stderr);
    assert.equal(d.stdout, 'new\n');
    assert.match(d.stderr, /Unable to find image '10\.217\.0\.1:5000\/test\/cli:1' locally/);
    // b's mirror is the open registry: docker.io/mirrored/multi comes from there.
    await push(`${build}/multi`, '1', `${REG}/mirrored/multi:1`, ['--format', 'v2s2']);
    assert.match(await ok(b, ['pull', 'mirrored/multi:1']), /Downloaded newer image for mirrored\/multi:1/);
    assert.ok(open.requests('GET', '/v2/mirrored/multi/manifests/1').length > 0);
    assert.match(await ok(b, ['images']), /mirrored\/multi\s+1/);
  });
});

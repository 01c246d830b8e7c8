/**
 * docker-compose 1.29 (Debian's, a docker-py client) drives ctrnetd with the projects of
 * test/compose/, as users write them, and each step is checked the way a user would see it:
 * names resolve per network (nslookup inside the containers), packets arrive or are dropped
 * (wget, ping), published ports answer from another machine, and `down` leaves nothing behind.
 * Test host "a" runs ctrnetd (10.226.0.1); "b" is another machine on its uplink (10.226.0.2) with
 * a web server and a name server that knows client.test (ctrnetd's upstream).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { LabHost, linkHosts, Result, sh } from '../../scripts/lab';
import { assertNoLeftovers, snapshot, until } from './_util';

const COMPOSE = path.resolve(__dirname, '../../../test/compose');
const A = '10.226.0.1';
const B = '10.226.0.2';
let a: LabHost;
let b: LabHost;
const procs: ChildProcess[] = [];

const MESSAGE_JS = path.resolve(__dirname, '../../src/dns/message.js');
/** A name server on host b: client.test → 10.226.0.2, NXDOMAIN for the rest. */
const UPSTREAM = `
const dgram = require('dgram');
const m = require(${JSON.stringify(MESSAGE_JS)});
const s = dgram.createSocket('udp4');
s.on('message', (msg, r) => {
  const q = m.parseQuery(msg);
  if (!q) return;
  const known = q.name === 'client.test';
  s.send(known && q.type === m.TYPE_A ? m.buildAnswer(q, [{ type: m.TYPE_A, data: '${B}' }]) : m.buildAnswer(q, [], known ? 0 : m.RCODE_NXDOMAIN), r.port, r.address);
});
s.bind(53, '${B}', () => console.log('ready'));
`;

const env = () => ({ ...process.env, DOCKER_HOST: `unix://${a.socket}`, DOCKER_CONFIG: `${a.dir}/docker-config` });
const docker = (args: string[]): Promise<Result> => sh(['docker', ...args], { env: env(), timeoutMs: 60_000 });
const dc = (project: string, args: string[]): Promise<Result> => sh(['docker-compose', '-f', `${COMPOSE}/${project}/docker-compose.yml`, '-p', project, ...args], { env: env(), timeoutMs: 180_000 });

async function ok(r: Promise<Result>, what: string): Promise<string> {
  const x = await r;
  assert.equal(x.code, 0, `${what}: ${x.stdout}${x.stderr}`);
  return x.stdout + x.stderr;
}

/** The addresses a name resolves to inside a container, in the order answered ([] if it does not resolve). */
async function lookup(ctr: string, name: string): Promise<string[]> {
  const r = await docker(['exec', ctr, 'nslookup', name]);
  return [...r.stdout.matchAll(/^Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]);
}

/** The IPv4 address of a container on one network, from inspect. */
async function addrOn(ctr: string, net: string): Promise<string> {
  return (await ok(docker(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, ctr]), `inspect ${ctr}`)).trim();
}

const wgetIn = (ctr: string, url: string) => docker(['exec', ctr, 'timeout', '5', 'wget', '-qO-', url]);

/** What the project left: its containers and networks, as the API lists them. */
async function projectObjects(project: string): Promise<string> {
  const ctrs = await ok(docker(['ps', '-aq', '--filter', `label=com.docker.compose.project=${project}`]), 'ps');
  const nets = await ok(docker(['network', 'ls', '-q', '--filter', `label=com.docker.compose.project=${project}`]), 'network ls');
  return (ctrs + nets).trim();
}

before(async () => {
  assert.equal(spawnSync('docker-compose', ['version']).status, 0, 'docker-compose (Debian\'s docker-compose 1.29) must be installed: scripts/bootstrap does it');
  a = await LabHost.create('cmp');
  b = await LabHost.create('cmc');
  await linkHosts(a, b, A, B);
  mkdirSync(`${b.dir}/www`, { recursive: true });
  writeFileSync(`${b.dir}/www/index.html`, 'client-host-ok\n');
  procs.push(spawn('nsenter', [`--net=${b.netnsPath}`, 'busybox', 'httpd', '-f', '-p', `${B}:80`, '-h', `${b.dir}/www`], { stdio: 'ignore' }));
  const dns = spawn('nsenter', [`--net=${b.netnsPath}`, process.execPath, '-e', UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(dns);
  await new Promise((resolve) => dns.stdout!.once('data', resolve));
  await a.startDaemon(['--dns-upstream', B]);
});

after(async () => {
  for (const p of procs) p.kill();
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

describe('docker-compose: a project on three networks (aliases, scale, internal)', () => {
  let base: Record<string, string[]>;
  const P = 'webnet';

  it('up -d --scale worker=3 makes the networks and starts every container', async () => {
    base = await snapshot(a);
    await ok(dc(P, ['up', '-d', '--scale', 'worker=3']), 'up');
    const running = (await ok(docker(['ps', '--format', '{{.Names}}']), 'ps')).split('\n').filter(Boolean).sort();
    assert.deepEqual(running, ['webnet_app_1', 'webnet_db_1', 'webnet_lonely_1', 'webnet_web_1', 'webnet_worker_1', 'webnet_worker_2', 'webnet_worker_3']);
    const nets = (await ok(docker(['network', 'ls', '--format', '{{.Name}}', '--filter', 'label=com.docker.compose.project=webnet']), 'network ls')).split('\n').filter(Boolean).sort();
    assert.deepEqual(nets, ['webnet_back', 'webnet_front', 'webnet_inner']);
    assert.equal((await ok(docker(['network', 'inspect', '-f', '{{.Internal}}', 'webnet_inner']), 'inspect')).trim(), 'true');
  });

  it('the service name and its aliases resolve on their own network only', async () => {
    const webFront = await addrOn('webnet_web_1', 'webnet_front');
    const webBack = await addrOn('webnet_web_1', 'webnet_back');
    const db = await addrOn('webnet_db_1', 'webnet_back');
    assert.notEqual(webFront, webBack);
    for (const n of ['web', 'www', 'webnet_web_1']) assert.deepEqual(await lookup('webnet_app_1', n), [webFront], `${n} from app (front)`);
    for (const n of ['db', 'database', 'web-back']) assert.deepEqual(await lookup('webnet_app_1', n), [], `${n} is not on front`);
    for (const n of ['web', 'web-back']) assert.deepEqual(await lookup('webnet_db_1', n), [webBack], `${n} from db (back)`);
    assert.deepEqual(await lookup('webnet_db_1', 'database'), [db], 'its own alias');
    assert.deepEqual(await lookup('webnet_db_1', 'www'), [], 'www is front\'s alias');
    // Outside names go to the daemon's upstream, from inside the sandbox.
    assert.deepEqual(await lookup('webnet_app_1', 'client.test'), [B]);
  });

  it('packets arrive where the networks allow, and are dropped between networks', async () => {
    assert.equal((await wgetIn('webnet_app_1', 'http://www/')).stdout, 'web-ok\n');
    assert.equal((await wgetIn('webnet_db_1', 'http://web-back/')).stdout, 'web-ok\n');
    const db = await addrOn('webnet_db_1', 'webnet_back');
    assert.notEqual((await docker(['exec', 'webnet_app_1', 'ping', '-c1', '-W1', db])).code, 0, 'app (front) cannot reach db (back)');
    // The published port answers from another machine.
    const r = await b.exec(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${A}:8080/`]);
    assert.equal(r.stdout, 'web-ok\n', r.stderr);
  });

  it('--scale: the service name resolves to every worker, a different one first each time, and answers', async () => {
    const ips = await Promise.all([1, 2, 3].map((i) => addrOn(`webnet_worker_${i}`, 'webnet_front')));
    const firsts: string[] = [];
    for (let i = 0; i < 3; i++) {
      const got = await lookup('webnet_app_1', 'worker');
      assert.deepEqual([...got].sort(), [...ips].sort());
      firsts.push(got[0]);
    }
    assert.equal(new Set(firsts).size, 3, `round robin: ${firsts.join(' ')}`);
    assert.match((await wgetIn('webnet_app_1', 'http://worker/')).stdout, /^worker-[0-9a-f]{12}$/m);
  });

  it('internal: its members reach each other, nothing beyond; a member also on front gets out that way', async () => {
    const appInner = await addrOn('webnet_app_1', 'webnet_inner');
    assert.deepEqual(await lookup('webnet_lonely_1', 'app'), [appInner]);
    assert.equal((await docker(['exec', 'webnet_lonely_1', 'ping', '-c1', '-W1', 'app'])).code, 0);
    assert.notEqual((await wgetIn('webnet_lonely_1', `http://${B}/`)).code, 0, 'no way out of an internal network');
    assert.deepEqual(await lookup('webnet_lonely_1', 'client.test'), [], 'nor to the upstream name server');
    assert.equal((await wgetIn('webnet_app_1', `http://${B}/`)).stdout, 'client-host-ok\n');
  });

  it('scale down to 1, up again changes nothing, down removes everything, up works again', async () => {
    await ok(dc(P, ['up', '-d', '--scale', 'worker=1']), 'scale down');
    assert.equal((await lookup('webnet_app_1', 'worker')).length, 1);
    assert.deepEqual(await lookup('webnet_app_1', 'webnet_worker_3'), []);
    const again = await ok(dc(P, ['up', '-d', '--scale', 'worker=1']), 'up again');
    assert.doesNotMatch(again, /Recreating|Creating/, again);
    assert.match(again, /webnet_web_1 is up-to-date/);
    await ok(dc(P, ['down', '-t', '1']), 'down');
    assert.equal(await projectObjects(P), '');
    assert.deepEqual(await snapshot(a), base, 'nothing left in the kernel or the firewall');
    await ok(dc(P, ['up', '-d']), 'up after down');
    await until(async () => (await b.exec(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${A}:8080/`])).stdout === 'web-ok\n', 10_000, 'web to answer again');
    await ok(dc(P, ['down', '-t', '1']), 'down');
    assert.deepEqual(await snapshot(a), base);
  });
});

describe('docker-compose: network_mode service:, host and none; restart', () => {
  const P = 'modes';

  it('up -d: side is in web\'s namespace, hostnet in the host\'s, nonet has only lo', async () => {
    const base = await snapshot(a);
    await ok(dc(P, ['up', '-d']), 'up');
    const web = (await ok(docker(['inspect', '-f', '{{.Id}}', 'modes_web_1']), 'inspect')).trim();
    assert.equal((await ok(docker(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'modes_side_1']), 'inspect')).trim(), `container:${web}`);
    const ipOf = async (c: string) => (await ok(docker(['exec', c, 'ip', '-4', '-o', 'addr', 'show']), 'ip')).match(/eth0\s+inet ([\d.]+)/)?.[1];
    assert.equal(await ipOf('modes_side_1'), await ipOf('modes_web_1'));
    assert.equal((await wgetIn('modes_side_1', 'http://localhost:80/')).stdout, 'web-ok\n', 'web\'s server on side\'s localhost');
    assert.equal(await ok(docker(['exec', 'modes_side_1', 'hostname']), 'hostname'), await ok(docker(['exec', 'modes_web_1', 'hostname']), 'hostname'));
    // host mode: the engine host's interfaces; its server answers another machine on the host's address
    assert.match(await ok(docker(['exec', 'modes_hostnet_1', 'ip', '-4', '-o', 'addr', 'show']), 'ip'), new RegExp(` ${A.replace(/\./g, '\\.')}/24 `));
    await until(async () => (await b.exec(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${A}:8089/`])).stdout === 'host-ok\n', 10_000, 'hostnet to answer');
    assert.equal((await b.exec(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${A}:8081/`])).stdout, 'web-ok\n');
    const links = (await ok(docker(['exec', 'modes_nonet_1', 'ip', '-o', 'link', 'show']), 'ip')).split('\n').filter(Boolean);
    assert.deepEqual(links.map((l) => l.split(':')[1].trim()), ['lo']);
    assert.notEqual((await wgetIn('modes_nonet_1', `http://${B}/`)).code, 0);

    // restart web: side keeps only lo until it is restarted too (Docker's behaviour)
    await ok(dc(P, ['restart', '-t', '1', 'web']), 'restart web');
    assert.doesNotMatch(await ok(docker(['exec', 'modes_side_1', 'ip', '-o', 'link', 'show']), 'ip'), /eth0/);
    await ok(dc(P, ['restart', '-t', '1', 'side']), 'restart side');
    assert.equal(await ipOf('modes_side_1'), await ipOf('modes_web_1'));
    await ok(dc(P, ['down', '-t', '1']), 'down');
    assert.equal(await projectObjects(P), '');
    assert.deepEqual(await snapshot(a), base);
  });
});

describe('docker-compose: fixed IPAM and an external network', () => {
  const P = 'fixed';

  it('up before the external network exists is refused with compose\'s words; down cleans what it made', async () => {
    const base = await snapshot(a);
    const r = await dc(P, ['up', '-d']);
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /Network ctn_shared declared as external, but could not be found/);
    await ok(dc(P, ['down']), 'down');
    assert.deepEqual(await snapshot(a), base);
  });

  it('fixed addresses inside and outside the ip_range, the gateway given, names across compose and non-compose containers', async () => {
    await ok(docker(['network', 'create', 'ctn_shared']), 'network create');
    await ok(docker(['run', '-d', '--name', 'outsider', '--network', 'ctn_shared', 'busybox', 'sleep', '600']), 'run outsider');
    const base = await snapshot(a);
    await ok(dc(P, ['up', '-d']), 'up');
    assert.equal(await addrOn('fixed_s1_1', 'fixed_fixed'), '172.28.1.10', 'outside the ip_range: the range limits only automatic addresses');
    assert.equal(await addrOn('fixed_s2_1', 'fixed_fixed'), '172.28.5.20');
    const dyn = await addrOn('fixed_dyn_1', 'fixed_fixed');
    assert.match(dyn, /^172\.28\.5\.\d+$/);
    assert.ok(dyn !== '172.28.5.20' && dyn !== '172.28.5.254', dyn);
    assert.match(await ok(docker(['exec', 'fixed_s1_1', 'ip', 'route']), 'ip route'), /default via 172\.28\.5\.254 dev eth0/);
    assert.equal((await docker(['exec', 'fixed_s1_1', 'ping', '-c1', '-W1', 's2'])).code, 0);
    // The external network: the service name resolves for the outsider, which reaches it.
    const dynShared = await addrOn('fixed_dyn_1', 'ctn_shared');
    assert.deepEqual(await lookup('outsider', 'dyn'), [dynShared]);
    assert.equal((await wgetIn('outsider', 'http://dyn/')).stdout, 'dyn-ok\n');
    const again = await ok(dc(P, ['up', '-d']), 'up again');
    assert.doesNotMatch(again, /Recreating|Creating/);
    // --force-recreate: compose reads the image's ContainerConfig to carry volumes over (it fails
    // with KeyError: 'ContainerConfig' where an engine leaves it out); the fixed addresses stay.
    const re = await ok(dc(P, ['up', '-d', '--force-recreate']), 'up --force-recreate');
    assert.match(re, /Recreating fixed_s2_1/);
    assert.equal(await addrOn('fixed_s1_1', 'fixed_fixed'), '172.28.1.10');
    assert.equal(await addrOn('fixed_s2_1', 'fixed_fixed'), '172.28.5.20');

    // down removes the project's network and keeps the external one (and the outsider on it).
    await ok(dc(P, ['down', '-t', '1']), 'down');
    assert.equal(await projectObjects(P), '');
    const nets = await ok(docker(['network', 'ls', '--format', '{{.Name}}']), 'network ls');
    assert.match(nets, /^ctn_shared$/m);
    assert.doesNotMatch(nets, /fixed_fixed/);
    assert.equal((await ok(docker(['inspect', '-f', '{{.State.Running}}', 'outsider']), 'inspect')).trim(), 'true');
    assert.deepEqual(await snapshot(a), base);
    // up again after down works; the external network is removable once its last container is gone
    await ok(dc(P, ['up', '-d']), 'up after down');
    assert.equal(await addrOn('fixed_s1_1', 'fixed_fixed'), '172.28.1.10');
    await ok(dc(P, ['down', '-t', '1']), 'down');
    await ok(docker(['rm', '-f', 'outsider']), 'rm outsider');
    await ok(docker(['network', 'rm', 'ctn_shared']), 'network rm');
  });
});

/**
 * User-defined bridge networks: IPAM, isolation, internal and icc=false networks, several networks
 * per container, and the embedded DNS resolver, observed from inside containers with ping, wget and
 * nslookup. Test host "a" runs ctrnetd (forwarding DNS to host "b"); "b" is another machine on a's
 * uplink (a: 10.213.0.1, b: 10.213.0.2) running a fake upstream name server that knows one name.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import { LabHost, linkHosts } from '../../scripts/lab';
import { assertNoLeftovers, ipOf, PAGE, snapshot, until, wget } from './_util';

let a: LabHost;
let b: LabHost;
let upstream: ChildProcess | undefined;

const MESSAGE_JS = path.resolve(__dirname, '../../src/dns/message.js');
/** A name server for the test: outside.test → 203.0.113.7, NXDOMAIN for the rest. */
const FAKE_UPSTREAM = `
const dgram = require('dgram');
const m = require(${JSON.stringify(MESSAGE_JS)});
const s = dgram.createSocket('udp4');
s.on('message', (msg, r) => {
  const q = m.parseQuery(msg);
  if (!q) return;
  const reply = q.name === 'outside.test' && q.type === m.TYPE_A ? m.buildAnswer(q, [{ type: m.TYPE_A, data: '203.0.113.7' }]) : m.buildAnswer(q, [], q.name === 'outside.test' ? 0 : m.RCODE_NXDOMAIN);
  s.send(reply, r.port, r.address);
});
s.bind(53, '10.213.0.2', () => console.log('ready'));
`;

function startUpstream(): Promise<void> {
  upstream = spawn('nsenter', [`--net=${b.netnsPath}`, process.execPath, '-e', FAKE_UPSTREAM], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => upstream!.stdout!.once('data', () => resolve()));
}

function stopUpstream(): void {
  upstream?.kill();
  upstream = undefined;
}

const nslookup = (ctr: string, name: string) => a.cli(['exec', ctr, 'nslookup', name], { timeoutMs: 20_000 });

before(async () => {
  a = await LabHost.create('nw');
  b = await LabHost.create('ns');
  await linkHosts(a, b, '10.213.0.1', '10.213.0.2');
  await startUpstream();
  await a.startDaemon(['--dns-upstream', '10.213.0.2']);
});

after(async () => {
  stopUpstream();
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

describe('network create, ls, inspect, rm, prune', () => {
  it('takes the first free /16 after the default bridge, with its own bridge br-<id>', async () => {
    const id = (await a.ctl(['network', 'create', 'n1'])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const info = JSON.parse(await a.ctl(['network', 'inspect', 'n1']))[0];
    assert.deepEqual(info.IPAM.Config, [{ Subnet: '172.18.0.0/16', Gateway: '172.18.0.1' }]);
    assert.match(await a.run(['ip', 'addr', 'show', `br-${id.slice(0, 12)}`]), /inet 172\.18\.0\.1\/16/);
    await a.ctl(['network', 'create', 'n2']);
    assert.match(await a.ctl(['network', 'inspect', '-f', '{{json .IPAM.Config}}', 'n2']), /172\.19\.0\.0\/16/);
    assert.match(await a.ctl(['network', 'ls']), /n1\s+bridge\s+local[\s\S]*n2\s+bridge/);
  });

  it('refuses overlaps (with networks and with the host routes), duplicates and bad options, naming the problem', async () => {
    const cases: [string[], RegExp][] = [
      [['network', 'create', '--subnet', '172.18.5.0/24', 'x1'], /overlaps network n1 \(172\.18\.0\.0\/16\)/],
      [['network', 'create', '--subnet', '10.213.0.0/25', 'x2'], /overlaps a route of the host \(10\.213\.0\.0\/24/],
      [['network', 'create', 'n1'], /network with name n1 already exists/],
      [['network', 'create', '--subnet', '10.50.0.0/24', '--gateway', '10.51.0.1', 'x3'], /gateway 10\.51\.0\.1 is not in subnet/],
      [['network', 'create', '--subnet', '10.50.0.0/24', '--ip-range', '10.60.0.0/28', 'x4'], /--ip-range 10\.60\.0\.0\/28 is not inside/],
      [['network', 'create', '-o', 'com.docker.network.driver.mtu=abc', 'x5'], /invalid com\.docker\.network\.driver\.mtu/],
      [['network', 'create', '-d', 'nosuchdriver', 'x6'], /driver "nosuchdriver" is not supported/],
      [['network', 'rm', 'bridge'], /pre-defined network/],
      [['network', 'create', '-o', 'com.docker.network.bridge.name=br0\nlink del lo', 'x7'], /invalid com\.docker\.network\.bridge\.name/],
    ];
    const base = await snapshot(a);
    for (const [args, msg] of cases) {
      const r = await a.cli(args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, msg, args.join(' '));
    }
    assert.deepEqual(await snapshot(a), base);
  });
});

describe('addresses', () => {
  it('--ip must be in the subnet and free; the default bridge takes none', async () => {
    await a.ctl(['run', '-d', '--name', 'fixed', '--network', 'n1', '--ip', '172.18.0.50', 'busybox', 'sleep', '300']);
    assert.equal(await ipOf(a, 'fixed'), '');
    assert.match(await a.ctl(['exec', 'fixed', 'ip', 'addr', 'show', 'eth0']), /inet 172\.18\.0\.50\/16/);
    for (const [args, msg] of [
      [['run', '--rm', '--network', 'n1', '--ip', '172.18.0.50', 'busybox', 'true'], /Address already in use: 172\.18\.0\.50 on network n1/],
      [['run', '--rm', '--network', 'n1', '--ip', '10.1.1.1', 'busybox', 'true'], /10\.1\.1\.1 is not in network n1/],
      [['run', '--rm', '--network', 'n1', '--ip', '172.18.0.1', 'busybox', 'true'], /reserved/],
      [['run', '--rm', '--ip', '172.17.0.50', 'busybox', 'true'], /user defined networks only/],
    ] as [string[], RegExp][]) {
      const r = await a.cli(args);
      assert.equal(r.code, 125, args.join(' '));
      assert.match(r.stderr, msg);
    }
  });

  it('exhaustion says "no free address in NET (SUBNET)"', async () => {
    await a.ctl(['network', 'create', '--subnet', '10.214.0.0/29', 'tiny']);
    for (let i = 0; i < 5; i++) await a.ctl(['run', '-d', '--name', `t${i}`, '--network', 'tiny', 'busybox', 'sleep', '300']);
    const r = await a.cli(['run', '--rm', '--network', 'tiny', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /no free address in tiny \(10\.214\.0\.0\/29\)/);
    const rm = await a.cli(['network', 'rm', 'tiny']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /has active endpoints \(t\d, t\d, t\d, t\d, t\d\)/);
    await a.ctl(['rm', '-f', 't0', 't1', 't2', 't3', 't4']);
    await a.ctl(['network', 'rm', 'tiny']);
  });

  it('50 containers started at once get 50 distinct addresses; removal releases them', async () => {
    await a.ctl(['network', 'create', 'many']);
    const names = Array.from({ length: 50 }, (_, i) => `m${i}`);
    const runs = await Promise.all(names.map((n) => a.cli(['run', '-d', '--name', n, '--network', 'many', 'busybox', 'sleep', '300'], { timeoutMs: 120_000 })));
    assert.deepEqual(runs.filter((r) => r.code !== 0).map((r) => r.stderr), []);
    const info = JSON.parse(await a.ctl(['network', 'inspect', 'many']))[0];
    const ips = Object.values(info.Containers as Record<string, { IPv4Address: string }>).map((c) => c.IPv4Address);
    assert.equal(ips.length, 50);
    assert.equal(new Set(ips).size, 50);
    await a.ctl(['rm', '-f', ...names], { timeoutMs: 120_000 });
    assert.deepEqual(JSON.parse(await a.ctl(['network', 'inspect', 'many']))[0].Containers, {});
    await a.ctl(['network', 'rm', 'many']);
  });
});

describe('isolation', () => {
  it('containers on one network talk; across networks nothing passes, not even to the other gateway', async () => {
    await a.ctl(['run', '-d', '--name', 'w1', '--network', 'n1', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await a.ctl(['run', '-d', '--name', 'c1', '--network', 'n1', 'busybox', 'sleep', '300']);
    await a.ctl(['run', '-d', '--name', 'c2', '--network', 'n2', 'busybox', 'sleep', '300']);
    await a.ctl(['run', '-d', '--name', 'c0', 'busybox', 'sleep', '300']);
    const w1 = (await a.ctl(['exec', 'w1', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).match(/inet ([\d.]+)/)![1];
    assert.equal((await a.cli(['exec', 'c1', 'ping', '-c1', '-W2', w1])).code, 0);
    assert.match((await a.cli(['exec', 'c1', 'timeout', '5', 'wget', '-qO-', `http://${w1}/`])).stdout, PAGE);
    for (const from of ['c2', 'c0']) {
      assert.notEqual((await a.cli(['exec', from, 'ping', '-c1', '-W1', w1])).code, 0, `${from} pings w1`);
      assert.notEqual((await a.cli(['exec', from, 'timeout', '3', 'wget', '-qO-', `http://${w1}/`])).code, 0, `${from} reaches w1 over TCP`);
    }
    assert.notEqual((await a.cli(['exec', 'c2', 'ping', '-c1', '-W1', '172.18.0.1'])).code, 0, 'the gateway of n1 from n2');
    const c2 = (await a.ctl(['exec', 'c2', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).match(/inet ([\d.]+)/)![1];
    assert.notEqual((await a.cli(['exec', 'c1', 'ping', '-c1', '-W1', c2])).code, 0, 'the other direction');
  });

  it('--internal: no way out, -p refused, members still talk', async () => {
    await a.ctl(['network', 'create', '--internal', 'int1']);
    await a.ctl(['run', '-d', '--name', 'i1', '--network', 'int1', 'busybox', 'sleep', '300']);
    await a.ctl(['run', '-d', '--name', 'i2', '--network', 'int1', 'busybox', 'sleep', '300']);
    assert.doesNotMatch(await a.ctl(['exec', 'i1', 'ip', 'route']), /default/);
    assert.notEqual((await a.cli(['exec', 'i1', 'ping', '-c1', '-W1', '10.213.0.2'])).code, 0);
    assert.notEqual((await a.cli(['exec', 'i1', 'ping', '-c1', '-W1', '10.213.0.1'])).code, 0, "the host's other addresses are out of reach too");
    assert.notEqual((await a.cli(['exec', 'i1', 'ping', '-c1', '-W1', '172.17.0.1'])).code, 0);
    const i2 = (await a.ctl(['exec', 'i2', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).match(/inet ([\d.]+)/)![1];
    assert.equal((await a.cli(['exec', 'i1', 'ping', '-c1', '-W2', i2])).code, 0);
    const r = await a.cli(['run', '--rm', '--network', 'int1', '-p', '8099:80', 'busybox', 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /network int1 is internal: ports cannot be published/);
    assert.doesNotMatch(await a.run(['nft', 'list', 'table', 'ip', 'ctrnet']), /ip saddr 172\.20\.0\.0\/16 oifname != "br-[0-9a-f]+" .*masquerade/);
  });

  it('enable_icc=false: members cannot talk to each other, their published ports still work', async () => {
    await a.ctl(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'noicc']);
    await a.ctl(['run', '-d', '--name', 'q1', '--network', 'noicc', '-p', '8097:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await a.ctl(['run', '-d', '--name', 'q2', '--network', 'noicc', 'busybox', 'sleep', '300']);
    const q1 = (await a.ctl(['exec', 'q1', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).match(/inet ([\d.]+)/)![1];
    assert.notEqual((await a.cli(['exec', 'q2', 'ping', '-c1', '-W1', q1])).code, 0);
    await until(async () => PAGE.test((await wget(b, 'http://10.213.0.1:8097/')).body));
    await a.ctl(['rm', '-f', 'q1', 'q2']);
    await a.ctl(['network', 'rm', 'noicc']);
  });
});

describe('embedded DNS', () => {
  it('resolves names, aliases and short ids of the same network, and PTR; resolv.conf and /etc/hosts say so', async () => {
    await a.ctl(['run', '-d', '--name', 'db', '--network', 'n1', '--network-alias', 'database', 'busybox', 'sleep', '300']);
    const ip = (await a.ctl(['exec', 'db', 'ip', '-o', '-4', 'addr', 'show', 'eth0'])).match(/inet ([\d.]+)/)![1];
    const short = (await a.ctl(['inspect', '-f', '{{.Id}}', 'db'])).slice(0, 12);
    for (const name of ['db', 'database', short]) {
      const r = await nslookup('c1', name);
      assert.match(r.stdout, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`), `${name}: ${r.stdout}${r.stderr}`);
    }
    assert.match((await nslookup('c1', ip)).stdout, /name = db/);
    assert.equal((await a.cli(['exec', 'c1', 'ping', '-c1', '-W2', 'db'])).code, 0);
    assert.equal(await a.ctl(['exec', 'c1', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0\n');
    assert.match(await a.ctl(['exec', 'db', 'cat', '/etc/hosts']), new RegExp(`${ip.replace(/\./g, '\\.')}\\t${short}`));
  });

  it('another network cannot resolve them; other names go to the upstream, and a dead upstream answers SERVFAIL quickly', async () => {
    assert.doesNotMatch((await nslookup('c2', 'db')).stdout, /Address: 172\.18/);
    assert.match((await nslookup('c1', 'outside.test')).stdout, /Address: 203\.0\.113\.7/);
    stopUpstream();
    try {
      const t0 = Date.now();
      const r = await nslookup('c1', 'other.test');
      assert.notEqual(r.code, 0);
      assert.match(r.stdout + r.stderr, /SERVFAIL|can't find|timed out/i);
      assert.ok(Date.now() - t0 < 15_000, 'bounded');
      assert.match((await nslookup('c1', 'db')).stdout, /Address: 172\.18/, 'local names do not need the upstream');
    } finally {
      await startUpstream();
    }
  });

  it('names follow containers: connect, disconnect, rename and stop change the answers at once', async () => {
    assert.doesNotMatch((await nslookup('c2', 'c1')).stdout, /Address: 172\.19/);
    await a.ctl(['network', 'connect', '--alias', 'bridge1', 'n2', 'c1']);
    const eth1 = await a.ctl(['exec', 'c1', 'ip', '-o', '-4', 'addr', 'show', 'eth1']);
    const n2ip = eth1.match(/inet (172\.19\.[\d.]+)\/16/)![1];
    assert.match(await a.ctl(['exec', 'c1', 'ip', 'route']), /default via 172\.18\.0\.1 dev eth0/);
    assert.match((await nslookup('c2', 'c1')).stdout, new RegExp(`Address: ${n2ip.replace(/\./g, '\\.')}`));
    assert.match((await nslookup('c2', 'bridge1')).stdout, /Address: 172\.19/);
    assert.equal((await a.cli(['exec', 'c2', 'ping', '-c1', '-W2', 'c1'])).code, 0);
    const nets = JSON.parse(await a.ctl(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'c1']));
    assert.deepEqual(Object.keys(nets).sort(), ['n1', 'n2']);
    await a.ctl(['network', 'disconnect', 'n2', 'c1']);
    assert.doesNotMatch(await a.ctl(['exec', 'c1', 'ip', 'link']), /eth1/);
    assert.doesNotMatch((await nslookup('c2', 'c1')).stdout, /Address: 172\.19/);
    await a.ctl(['rename', 'db', 'store']);
    assert.match((await nslookup('c1', 'store')).stdout, /Address: 172\.18/);
    assert.doesNotMatch((await nslookup('c1', 'db')).stdout, /Address: 172\.18/);
    await a.ctl(['stop', '-t', '1', 'store']);
    assert.doesNotMatch((await nslookup('c1', 'store')).stdout, /Address: 172\.18/);
  });

  it('answers again after a daemon restart', async () => {
    await a.stopDaemon();
    await a.startDaemon(['--dns-upstream', '10.213.0.2']);
    assert.match((await nslookup('c1', 'w1')).stdout, /Address: 172\.18/);
  });
});

describe('cleanup', () => {
  it('removing a network with containers lists them; prune removes the unused ones', async () => {
    const r = await a.cli(['network', 'rm', 'n1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /active endpoints/);
    assert.match(r.stderr, /w1/);
    await a.ctl(['rm', '-f', 'w1', 'c1', 'c2', 'c0', 'fixed', 'store', 'i1', 'i2']);
    const pruned = await a.ctl(['network', 'prune']);
    for (const n of ['n1', 'n2', 'int1']) assert.match(pruned, new RegExp(`^${n}$`, 'm'));
    assert.doesNotMatch(await a.ctl(['network', 'ls']), /n1|n2|int1/);
    assert.deepEqual((await snapshot(a)).links.filter((l) => l.startsWith('br-') || l.startsWith('veth')), []);
  });
});

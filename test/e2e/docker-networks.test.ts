/**
 * A Docker user's network commands, with the real docker CLI against ctrnetd, each checked as the
 * user sees it (inside the containers, from another machine, with ip and inspect):
 *   1 disconnect then connect   2 list filters   3 --add-host, --dns-search/-option, --link, -P,
 *   --aux-address   4 --ip outside the ip-range, --dns with the embedded resolver, -p 53:53/udp,
 *   --network MISSING   5 inspect   6 macvlan in every mode (on a LAN of test hosts), ipvlan
 *   and 802.1Q sub-interfaces on this kernel.
 * Test hosts: "a" runs ctrnetd (uplink 10.228.0.1); "b" is another machine on that uplink
 * (10.228.0.2) with name servers (ctrnetd's upstream on port 5353, another on 53); "lan" is a
 * switch (bridge sw0, 10.229.0.254) that a's second interface mvp0 (10.229.0.1) is plugged into:
 * the parent of the macvlan networks.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { spawn, ChildProcess } from 'node:child_process';
import { LabHost, linkHosts, must, sh } from '../../scripts/lab';
import { assertNoLeftovers, dockerOn, snapshot, until } from './_util';

const A = '10.228.0.1';
const B = '10.228.0.2';
const LAN = '10.229.0.254';
let a: LabHost;
let b: LabHost;
let lan: LabHost;
const procs: ChildProcess[] = [];

const MESSAGE_JS = path.resolve(__dirname, '../../src/dns/message.js');
/** A name server in host `h` on ip:port, answering `names` (name → address), NXDOMAIN for the rest. */
async function nameServer(h: LabHost, ip: string, port: number, names: Record<string, string>): Promise<ChildProcess> {
  const js = `
const dgram = require('dgram');
const m = require(${JSON.stringify(MESSAGE_JS)});
const names = ${JSON.stringify(names)};
const s = dgram.createSocket('udp4');
s.on('message', (msg, r) => {
  const q = m.parseQuery(msg);
  if (!q) return;
  const ip = names[q.name];
  s.send(ip && q.type === m.TYPE_A ? m.buildAnswer(q, [{ type: m.TYPE_A, data: ip }]) : m.buildAnswer(q, [], ip ? 0 : m.RCODE_NXDOMAIN), r.port, r.address);
});
s.bind(${port}, '${ip}', () => console.log('ready'));`;
  const p = spawn('nsenter', [`--net=${h.netnsPath}`, process.execPath, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
  procs.push(p);
  await new Promise((resolve) => p.stdout!.once('data', resolve));
  return p;
}

const { docker, ok } = dockerOn(() => a, { timeoutMs: 60_000 });

/** docker run that must fail: its exit code and message. */
async function refused(args: string[], code: number, msg: RegExp): Promise<void> {
  const r = await docker(args);
  assert.equal(r.code, code, `docker ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  assert.match(r.stderr, msg);
}

const lines = (s: string): string[] => s.split('\n').filter(Boolean);
/** The addresses a name resolves to inside a container ([] if it does not resolve). */
async function lookup(ctr: string, name: string): Promise<string[]> {
  const r = await docker(['exec', ctr, 'nslookup', name]);
  return [...r.stdout.matchAll(/^Address: (\d+\.\d+\.\d+\.\d+)$/gm)].map((m) => m[1]);
}
const ipIn = async (ctr: string, net: string): Promise<string> => (await ok(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, ctr])).trim();
const reaches = async (ctr: string, ip: string): Promise<boolean> => (await docker(['exec', ctr, 'ping', '-c1', '-W1', ip])).code === 0;

before(async () => {
  a = await LabHost.create('dn');
  b = await LabHost.create('dnb');
  lan = await LabHost.create('lan');
  await linkHosts(a, b, A, B);
  // The LAN: a switch in `lan`, a's second interface on it (the macvlan parent).
  await lan.run(['ip', 'link', 'add', 'sw0', 'type', 'bridge']);
  await lan.run(['ip', 'addr', 'add', `${LAN}/24`, 'dev', 'sw0']);
  await lan.run(['ip', 'link', 'set', 'sw0', 'up']);
  await must(['ip', 'link', 'add', 'mvp0', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'pa', 'netns', lan.ns]);
  await lan.run(['ip', 'link', 'set', 'pa', 'master', 'sw0']);
  await lan.run(['ip', 'link', 'set', 'pa', 'up']);
  await a.run(['ip', 'addr', 'add', '10.229.0.1/24', 'dev', 'mvp0']);
  await a.run(['ip', 'link', 'set', 'mvp0', 'up']);
  await nameServer(b, B, 5353, { 'daemon.test': '203.0.113.5', 'outside.test': '203.0.113.7' });
  await nameServer(b, B, 53, { 'own.test': '203.0.113.9' });
  await a.startDaemon(['--dns-upstream', `${B}:5353`]);
});

after(async () => {
  for (const p of procs) p.kill();
  await a?.destroy();
  await b?.destroy();
  await lan?.destroy();
  assertNoLeftovers([a, b, lan].filter(Boolean));
});

describe('1. disconnect, then connect (what docker-compose does to set aliases)', () => {
  it('a created container disconnected from its only network stays in its network mode and is connected again with an alias', async () => {
    await ok(['network', 'create', 'n1']);
    await ok(['create', '--name', 'dc1', '--network', 'n1', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await ok(['network', 'disconnect', 'n1', 'dc1']);
    assert.equal((await ok(['inspect', '-f', '{{.HostConfig.NetworkMode}} {{len .NetworkSettings.Networks}}', 'dc1'])).trim(), 'n1 0');
    await ok(['network', 'connect', '--alias', 'web1', 'n1', 'dc1']);
    await ok(['start', 'dc1']);
    const ip = await ipIn('dc1', 'n1');
    await ok(['run', '-d', '--name', 'dprobe', '--network', 'n1', 'busybox', 'sleep', '600']);
    assert.deepEqual(await lookup('dprobe', 'web1'), [ip]);
    assert.match(await ok(['exec', 'dprobe', 'wget', '-qO-', 'http://web1/']), /It works!/);
  });

  it('a running container left without networks keeps only lo; connected again it gets eth0, its default route and the resolver', async () => {
    await ok(['network', 'disconnect', 'n1', 'dprobe']);
    assert.deepEqual(lines(await ok(['exec', 'dprobe', 'ip', '-o', 'link', 'show'])).map((l) => l.split(':')[1].trim()), ['lo']);
    await ok(['network', 'connect', 'n1', 'dprobe']);
    assert.match(await ok(['exec', 'dprobe', 'ip', 'route']), /^default via 172\.\d+\.0\.1 dev eth0/m);
    assert.deepEqual(await lookup('dprobe', 'web1'), [await ipIn('dc1', 'n1')]);
  });

  it('a container started without networks runs with only lo, as in Docker', async () => {
    await ok(['create', '--name', 'dlone', '--network', 'n1', 'busybox', 'sleep', '600']);
    await ok(['network', 'disconnect', 'n1', 'dlone']);
    await ok(['start', 'dlone']);
    assert.deepEqual(lines(await ok(['exec', 'dlone', 'ip', '-o', 'link', 'show'])).map((l) => l.split(':')[1].trim()), ['lo']);
    await ok(['rm', '-f', 'dlone']);
  });
});

describe('2. list filters, with Docker\'s semantics', () => {
  const names = async (args: string[]) => lines(await ok([...args, '--format', '{{.Names}}'])).sort();
  const nets = async (args: string[]) => lines(await ok(['network', 'ls', '--format', '{{.Name}}', ...args])).sort();

  it('containers: label (AND), name (a pattern), id prefix, status, exited, network, ancestor, publish, expose, before/since', async () => {
    await ok(['run', '-d', '--name', 'f1', '-l', 'a=1', '-l', 'b=x', '--network', 'n1', '-p', '8081:80', 'busybox', 'sleep', '600']);
    await ok(['run', '-d', '--name', 'f2', '-l', 'a=2', '--expose', '90/udp', 'busybox', 'sleep', '600']);
    await ok(['run', '--name', 'f3', '-l', 'c=', 'busybox', 'true']);
    await docker(['run', '--name', 'f4', 'busybox', 'sh', '-c', 'exit 3']);
    await ok(['create', '--name', 'f5', 'busybox', 'true']);
    await ok(['tag', 'busybox', 'fimg:v1']);
    await ok(['run', '-d', '--name', 'f6', 'fimg:v1', 'sleep', '600']);
    const f = (expr: string[]) => names(['ps', '-a', ...expr.flatMap((e) => ['--filter', e])]);
    assert.deepEqual(await f(['label=a']), ['f1', 'f2']);
    assert.deepEqual(await f(['label=a=1']), ['f1']);
    assert.deepEqual(await f(['label=a=1', 'label=b=x']), ['f1'], 'every label given must hold');
    assert.deepEqual(await f(['label=a=1', 'label=a=2']), []);
    assert.deepEqual(await f(['label=c']), ['f3'], 'a label with an empty value');
    assert.deepEqual(await f(['name=f1', 'name=f2']), ['f1', 'f2'], 'values of one key: either');
    assert.deepEqual(await f(['name=^f[12]$']), ['f1', 'f2'], 'a pattern');
    assert.deepEqual(await f(['label=a', 'name=f2']), ['f2'], 'keys: all');
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'f1'])).trim();
    assert.deepEqual(await f([`id=${id.slice(0, 12)}`]), ['f1']);
    assert.deepEqual(await f(['status=exited']), ['f3', 'f4']);
    assert.deepEqual(await names(['ps', '--filter', 'status=created']), ['f5'], 'a status filter shows stopped ones without -a');
    assert.deepEqual(await f(['exited=3']), ['f4']);
    assert.deepEqual(await f(['network=n1', 'name=f']), ['f1']);
    // Docker resolves the reference to an image: every container of that image matches, whichever tag it was run by.
    assert.deepEqual(await f(['ancestor=fimg:v1', 'name=f6']), ['f6']);
    assert.deepEqual(await f(['ancestor=busybox', 'name=f6']), ['f6']);
    assert.deepEqual(await f(['ancestor=nosuchimage']), []);
    assert.deepEqual(await f(['publish=8081']), ['f1']);
    assert.deepEqual(await f(['publish=80']), [], 'publish is the host port');
    assert.deepEqual(await f(['expose=90/udp']), ['f2']);
    assert.deepEqual(await f(['expose=80-100/udp', 'name=f']), ['f2'], 'a range');
    assert.deepEqual(await f(['since=f4', 'name=^f']), ['f5', 'f6']);
    assert.deepEqual(await f(['before=f3', 'name=^f']), ['f1', 'f2']);
    await refused(['ps', '--filter', 'nosuch=x'], 1, /Invalid filter 'nosuch'/);
    await refused(['ps', '--filter', 'status=sleeping'], 1, /Invalid filter 'status=sleeping'/);
    await refused(['ps', '--filter', 'health=sick'], 1, /Unrecognised filter value for health: sick/);
  });

  it('networks: name, id, label, driver, type, scope, dangling; images: reference, dangling', async () => {
    await ok(['network', 'create', '--label', 'k=v', '--label', 'team=net', 'fn1']);
    await ok(['network', 'create', 'fn2']);
    assert.deepEqual(await nets(['--filter', 'name=fn']), ['fn1', 'fn2']);
    assert.deepEqual(await nets(['--filter', 'name=^fn1$']), ['fn1']);
    const id = (await ok(['network', 'inspect', '-f', '{{.Id}}', 'fn1'])).trim();
    assert.deepEqual(await nets(['--filter', `id=${id.slice(0, 8)}`]), ['fn1']);
    assert.deepEqual(await nets(['--filter', 'label=k=v', '--filter', 'label=team=net']), ['fn1']);
    assert.deepEqual(await nets(['--filter', 'label=k=v', '--filter', 'label=team=x']), []);
    assert.deepEqual(await nets(['--filter', 'driver=null']), ['none']);
    assert.deepEqual(await nets(['--filter', 'type=builtin']), ['bridge', 'host', 'none']);
    assert.ok((await nets(['--filter', 'type=custom'])).includes('fn2'));
    assert.deepEqual(await nets(['--filter', 'scope=swarm']), []);
    assert.deepEqual(await nets(['--filter', 'dangling=true', '--filter', 'name=fn']), ['fn1', 'fn2'], 'no containers');
    assert.deepEqual(await nets(['--filter', 'dangling=false', '--filter', 'name=n1']), ['n1']);
    await refused(['network', 'ls', '--filter', 'dangling=maybe'], 1, /invalid value for filter 'dangling', must be "true" \(or "1"\), or "false" \(or "0"\)/);
    await refused(['network', 'ls', '--filter', 'nosuch=x'], 1, /Invalid filter 'nosuch'/);
    const imgs = async (expr: string) => lines(await ok(['images', '--filter', expr, '--format', '{{.Repository}}:{{.Tag}}'])).sort();
    assert.deepEqual(await imgs('reference=fimg'), ['fimg:v1']);
    assert.deepEqual(await imgs('reference=fim*:v*'), ['fimg:v1']);
    assert.deepEqual(await imgs('dangling=true'), []);
    await ok(['network', 'rm', 'fn1', 'fn2']);
    await ok(['rm', '-f', 'f1', 'f2', 'f3', 'f4', 'f5', 'f6']);
  });
});

describe('3. --add-host, --dns-search, --dns-option, --link, -P, --aux-address', () => {
  it('--add-host (host-gateway: the host, reachable) on the default bridge and on a user network', async () => {
    const out = await ok(['run', '--rm', '--add-host', 'db:10.1.2.3', '--add-host', 'gw:host-gateway', 'busybox', 'sh', '-c', 'cat /etc/hosts; ping -c1 -W2 gw >/dev/null && echo gw-answers']);
    assert.match(out, /^10\.1\.2\.3\tdb$/m);
    assert.match(out, /^172\.17\.0\.1\tgw$/m, 'the default bridge\'s gateway, as in Docker');
    assert.match(out, /^gw-answers$/m);
    const user = await ok(['run', '--rm', '--network', 'n1', '--add-host', 'gw:host-gateway', 'busybox', 'sh', '-c', 'grep gw /etc/hosts; ping -c1 -W2 gw >/dev/null && echo gw-answers']);
    assert.match(user, /^172\.\d+\.0\.1\tgw$/m);
    assert.match(user, /^gw-answers$/m);
    await refused(['run', '--rm', '--add-host', 'nocolon', 'busybox', 'true'], 125, /bad format for add-host/);
  });

  it('--dns-search and --dns-option reach resolv.conf, and a short name is completed by the search domain', async () => {
    const out = await ok(['run', '--rm', '--dns', B, '--dns-search', 'test', '--dns-option', 'ndots:1', '--dns-option', 'timeout:1', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; ping -c1 -W1 own; true']);
    assert.match(out, /^search test$/m);
    assert.match(out, new RegExp(`^nameserver ${B.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(out, /^options ndots:1 timeout:1$/m);
    assert.match(out, /PING own \(203\.0\.113\.9\)/, 'own + search test = own.test, answered by the --dns server');
    const user = await ok(['run', '--rm', '--network', 'n1', '--dns-search', 'test', '--dns-option', 'ndots:2', 'busybox', 'cat', '/etc/resolv.conf']);
    assert.equal(user, 'search test\nnameserver 127.0.0.11\noptions ndots:2\n', 'no ndots:0 when an ndots is given');
  });

  it('--link on the default bridge: a hosts entry, Docker\'s variables, and the alias answers', async () => {
    await ok(['run', '-d', '--name', 'lweb', '--expose', '80', '-e', 'COLOR=blue', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    const ip = (await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'lweb'])).trim();
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'lweb'])).trim().slice(0, 12);
    const out = await ok(['run', '--rm', '--name', 'lcli', '--link', 'lweb:site', 'busybox', 'sh', '-c', 'cat /etc/hosts; env; wget -qO- http://site/']);
    assert.match(out, new RegExp(`^${ip.replace(/\./g, '\\.')}\\tsite ${id} lweb$`, 'm'));
    for (const v of [`SITE_PORT=tcp://${ip}:80`, `SITE_PORT_80_TCP=tcp://${ip}:80`, `SITE_PORT_80_TCP_ADDR=${ip}`, 'SITE_PORT_80_TCP_PORT=80', 'SITE_PORT_80_TCP_PROTO=tcp', 'SITE_NAME=/lcli/site', 'SITE_ENV_COLOR=blue']) {
      assert.match(out, new RegExp(`^${v.replace(/[./]/g, '\\$&')}$`, 'm'), v);
    }
    assert.match(out, /It works!/);
    await refused(['run', '--rm', '--link', 'nosuch:x', 'busybox', 'true'], 125, /could not get container for nosuch/);
  });

  it('-P publishes every exposed port on a free host port, and it answers from another machine', async () => {
    await ok(['run', '-d', '--name', 'pall', '--expose', '80', '--expose', '90/udp', '-P', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    const port = await ok(['port', 'pall']);
    const m = /^80\/tcp -> 0\.0\.0\.0:(\d+)$/m.exec(port);
    assert.ok(m, port);
    assert.match(port, /^90\/udp -> 0\.0\.0\.0:\d+$/m);
    const r = await b.exec(['timeout', '5', 'busybox', 'wget', '-qO-', `http://${A}:${m[1]}/`]);
    assert.match(r.stdout, /It works!/, r.stderr);
    await ok(['rm', '-f', 'pall', 'lweb']);
  });

  it('--aux-address: never given to a container, refused as --ip, shown by inspect', async () => {
    await ok(['network', 'create', '--subnet', '10.230.0.0/29', '--aux-address', 'a1=10.230.0.2', '--aux-address', 'a2=10.230.0.3', 'auxn']);
    assert.equal((await ok(['network', 'inspect', '-f', '{{json (index .IPAM.Config 0).AuxiliaryAddresses}}', 'auxn'])).trim(), '{"a1":"10.230.0.2","a2":"10.230.0.3"}');
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      await ok(['run', '-d', '--name', `ax${i}`, '--network', 'auxn', 'busybox', 'sleep', '600']);
      got.push(await ipIn(`ax${i}`, 'auxn'));
    }
    assert.deepEqual(got, ['10.230.0.4', '10.230.0.5', '10.230.0.6']);
    await refused(['run', '--rm', '--network', 'auxn', 'busybox', 'true'], 125, /no free address in auxn/);
    await ok(['rm', '-f', 'ax2']);
    await refused(['run', '--rm', '--network', 'auxn', '--ip', '10.230.0.2', 'busybox', 'true'], 125, /10\.230\.0\.2 is reserved in network auxn \(an auxiliary address\)/);
    await ok(['rm', '-f', 'ax0', 'ax1']);
    await ok(['network', 'rm', 'auxn']);
  });
});

describe('4. --ip, --dns, -p 53:53/udp, --network MISSING', () => {
  it('--ip outside the ip-range is given: the range limits only automatic addresses', async () => {
    await ok(['network', 'create', '--subnet', '10.231.0.0/16', '--ip-range', '10.231.5.0/24', '--gateway', '10.231.5.254', 'ranged']);
    await ok(['run', '-d', '--name', 'rfix', '--network', 'ranged', '--ip', '10.231.1.10', 'busybox', 'sleep', '600']);
    assert.match(await ok(['exec', 'rfix', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), /inet 10\.231\.1\.10\/16/);
    await ok(['run', '-d', '--name', 'rdyn', '--network', 'ranged', 'busybox', 'sleep', '600']);
    assert.match(await ipIn('rdyn', 'ranged'), /^10\.231\.5\.\d+$/);
    assert.ok(await reaches('rdyn', '10.231.1.10'));
    await ok(['rm', '-f', 'rfix', 'rdyn']);
    await ok(['network', 'rm', 'ranged']);
  });

  it('--dns on a user network keeps the embedded resolver, which forwards to those servers (from inside the sandbox)', async () => {
    await ok(['run', '-d', '--name', 'dns1', '--network', 'n1', '--dns', B, 'busybox', 'sleep', '600']);
    assert.equal(await ok(['exec', 'dns1', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0\n');
    assert.deepEqual(await lookup('dns1', 'own.test'), ['203.0.113.9'], 'the container\'s --dns server answers');
    assert.deepEqual(await lookup('dns1', 'daemon.test'), [], 'the daemon\'s upstream is not asked');
    assert.deepEqual(await lookup('dns1', 'web1'), [await ipIn('dc1', 'n1')], 'names of the network still resolve');
    assert.deepEqual(await lookup('dprobe', 'daemon.test'), ['203.0.113.5'], 'without --dns: the daemon\'s upstream');
    await ok(['rm', '-f', 'dns1']);
  });

  it('-p 53:53/udp works while user-defined networks exist, and their containers still resolve names', async () => {
    await ok(['run', '-d', '--name', 'u53', '-p', '53:53/udp', 'busybox', 'sleep', '600']);
    const sandbox = (await ok(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'u53'])).trim();
    const ip = (await ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'u53'])).trim();
    // A name server inside the container's namespace, as a containerised DNS server would be.
    const js = `const d=require('dgram'),m=require(${JSON.stringify(MESSAGE_JS)});const s=d.createSocket('udp4');s.on('message',(x,r)=>{const q=m.parseQuery(x);if(q)s.send(m.buildAnswer(q,[{type:m.TYPE_A,data:'198.51.100.53'}]),r.port,r.address)});s.bind(53,'${ip}',()=>console.log('ready'))`;
    const srv = spawn('nsenter', [`--net=${sandbox}`, process.execPath, '-e', js], { stdio: ['ignore', 'pipe', 'inherit'] });
    procs.push(srv);
    await new Promise((resolve) => srv.stdout!.once('data', resolve));
    const r = await b.exec(['busybox', 'nslookup', 'anything.example', A]);
    assert.match(r.stdout, /Address: 198\.51\.100\.53/, `${r.stdout}${r.stderr}`);
    assert.deepEqual(await lookup('dprobe', 'web1'), [await ipIn('dc1', 'n1')]);
    srv.kill();
    await ok(['rm', '-f', 'u53']);
  });

  it('run --network MISSING says the network is not found (not that the image is)', async () => {
    await refused(['run', '--rm', '--network', 'MISSING', 'busybox', 'true'], 125, /network MISSING not found/);
    const r = await docker(['run', '--rm', '--network', 'MISSING', 'busybox', 'true']);
    assert.doesNotMatch(r.stderr, /image|pull/i);
  });
});

describe('5. inspect', () => {
  it('the short id in Aliases, IPAM.Options, the default bridge\'s options and MTU', async () => {
    const id = (await ok(['inspect', '-f', '{{.Id}}', 'dc1'])).trim();
    // The CLI 28 negotiates API 1.50: Aliases as given, the short id among DNSNames (1.44+); a
    // client at 1.41 sees the short id added to Aliases, as Docker 20.10 shows them.
    assert.equal((await ok(['inspect', '-f', '{{json .NetworkSettings.Networks.n1.Aliases}}', 'dc1'])).trim(), '["web1"]');
    assert.ok(JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks.n1.DNSNames}}', 'dc1'])).includes(id.slice(0, 12)));
    const at141 = await sh(['docker', 'inspect', '-f', '{{json .NetworkSettings.Networks.n1.Aliases}}', 'dc1'], { env: { ...process.env, DOCKER_HOST: `unix://${a.socket}`, DOCKER_CONFIG: `${a.dir}/docker-config`, DOCKER_API_VERSION: '1.41' } });
    assert.equal(at141.stdout.trim(), `["web1","${id.slice(0, 12)}"]`);
    assert.equal((await ok(['network', 'inspect', '-f', '{{json .IPAM.Options}}', 'n1'])).trim(), '{}');
    assert.equal((await ok(['network', 'inspect', '-f', '{{json .IPAM.Options}}', 'bridge'])).trim(), 'null');
    const opts = JSON.parse(await ok(['network', 'inspect', '-f', '{{json .Options}}', 'bridge'])) as Record<string, string>;
    assert.deepEqual(opts, {
      'com.docker.network.bridge.default_bridge': 'true',
      'com.docker.network.bridge.enable_icc': 'true',
      'com.docker.network.bridge.enable_ip_masquerade': 'true',
      'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
      'com.docker.network.bridge.name': 'ctrnet0',
      'com.docker.network.driver.mtu': '1500',
    });
  });
});

describe('6. macvlan (on the LAN of test hosts), ipvlan and sub-interfaces on this kernel', () => {
  const mv = (mode: string, extra: string[] = []) => ok(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvp0', '-o', `macvlan_mode=${mode}`, '--subnet', '10.229.0.0/24', '--gateway', LAN, ...extra, `mv-${mode}`]);
  const two = async (mode: string) => {
    for (const n of [1, 2]) await ok(['run', '-d', '--name', `${mode}${n}`, '--network', `mv-${mode}`, 'busybox', 'sleep', '600']);
    return [await ipIn(`${mode}1`, `mv-${mode}`), await ipIn(`${mode}2`, `mv-${mode}`)];
  };
  const cleanup = async (mode: string, n = 2) => {
    await ok(['rm', '-f', ...Array.from({ length: n }, (_, i) => `${mode}${i + 1}`)]);
    await ok(['network', 'rm', `mv-${mode}`]);
  };

  it('bridge mode: containers on the LAN with their own MACs, reaching each other and the LAN; names resolve; the host cannot reach them', async () => {
    const base = await snapshot(a);
    await mv('bridge');
    const [ip1, ip2] = await two('bridge');
    assert.notEqual(ip1, '10.229.0.1', 'never the host\'s own address on the parent');
    const mac = (await ok(['exec', 'bridge1', 'cat', '/sys/class/net/eth0/address'])).trim();
    assert.equal(mac, `02:42:0a:e5:00:${Number(ip1.split('.')[3]).toString(16).padStart(2, '0')}`);
    assert.ok(await reaches('bridge1', ip2), 'children of one parent, bridge mode');
    assert.ok(await reaches('bridge1', LAN), 'the LAN');
    assert.equal((await lan.exec(['ping', '-c1', '-W1', ip1])).code, 0, 'from the LAN');
    assert.notEqual((await a.exec(['ping', '-c1', '-W1', ip1])).code, 0, 'the host cannot reach its macvlan children (as in Docker)');
    assert.deepEqual(await lookup('bridge1', 'bridge2'), [ip2], 'the resolver answers inside the sandbox, where the host is out of reach');
    assert.match(await ok(['exec', 'bridge1', 'ip', 'route']), new RegExp(`default via ${LAN.replace(/\./g, '\\.')} dev eth0`));
    await refused(['run', '--rm', '--network', 'mv-bridge', '-p', '8082:80', 'busybox', 'true'], 125, /ports cannot be published on network mv-bridge \(driver macvlan\)/);
    await refused(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvp0', '--subnet', '10.232.0.0/24', 'mv-again'], 1, /network mv-bridge is already using parent interface mvp0/);
    await cleanup('bridge');
    assert.deepEqual(await snapshot(a), base, 'nothing left');
  });

  it('private mode: they never reach each other, even through a switch that reflects frames; vepa: only through such a switch', async () => {
    await lan.run(['ip', 'link', 'set', 'pa', 'type', 'bridge_slave', 'hairpin', 'on']);
    try {
      await mv('private');
      const [, p2] = await two('private');
      assert.equal(await reaches('private1', p2), false);
      assert.ok(await reaches('private1', LAN));
      await cleanup('private');
      await mv('vepa');
      const [, v2] = await two('vepa');
      assert.ok(await reaches('vepa1', v2), 'reflected by the switch (hairpin on)');
      await lan.run(['ip', 'link', 'set', 'pa', 'type', 'bridge_slave', 'hairpin', 'off']);
      assert.equal(await reaches('vepa1', v2), false, 'not without');
      await cleanup('vepa');
    } finally {
      await lan.exec(['ip', 'link', 'set', 'pa', 'type', 'bridge_slave', 'hairpin', 'off']);
    }
  });

  it('passthru mode: one container takes the parent (and its MAC); a second is refused', async () => {
    const parentMac = JSON.parse(await a.run(['ip', '-j', 'link', 'show', 'mvp0']))[0].address as string;
    await mv('passthru');
    await ok(['run', '-d', '--name', 'passthru1', '--network', 'mv-passthru', 'busybox', 'sleep', '600']);
    assert.equal((await ok(['exec', 'passthru1', 'cat', '/sys/class/net/eth0/address'])).trim(), parentMac);
    assert.ok(await reaches('passthru1', LAN));
    await refused(['run', '--rm', '--network', 'mv-passthru', 'busybox', 'true'], 125, /passthru mode: its parent mvp0 holds one container/);
    await cleanup('passthru', 1);
  });

  it('an 802.1Q sub-interface parent, a network without parent, ipvlan: made, or the missing kernel feature said plainly', async () => {
    const base = await snapshot(a);
    const vlan = await docker(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvp0.10', '--subnet', '10.233.0.0/24', 'mv10']);
    if (vlan.code === 0) {
      assert.match(await a.run(['ip', '-d', 'link', 'show', 'mvp0.10']), /vlan protocol 802\.1Q id 10/);
      await ok(['network', 'rm', 'mv10']);
      assert.notEqual((await a.exec(['ip', 'link', 'show', 'mvp0.10'])).code, 0, 'the sub-interface went with the network that made it');
    } else {
      assert.match(vlan.stderr, /cannot create the 802\.1Q sub-interface mvp0\.10 for network mv10: this kernel has no 802\.1Q VLAN support \(CONFIG_VLAN_8021Q, module 8021q\)/);
    }
    const iv = await docker(['network', 'create', '-d', 'ipvlan', '-o', 'parent=mvp0', '--subnet', '10.234.0.0/24', 'iv']);
    if (iv.code === 0) {
      await ok(['run', '--rm', '--network', 'iv', 'busybox', 'ip', 'addr']);
      await ok(['network', 'rm', 'iv']);
    } else {
      assert.match(iv.stderr, /cannot make ipvlan network iv: this kernel has no ipvlan support \(CONFIG_IPVLAN, module ipvlan\)/);
    }
    const dummy = await docker(['network', 'create', '-d', 'macvlan', '--subnet', '10.235.0.0/24', 'mvnone']);
    if (dummy.code === 0) await ok(['network', 'rm', 'mvnone']);
    else assert.match(dummy.stderr, /network mvnone has no -o parent, so it needs a dummy parent link: this kernel has no dummy link support/);
    await refused(['network', 'create', '-d', 'macvlan', '-o', 'parent=nosuch0', 'mvx'], 1, /-o parent interface was not found on the host: nosuch0/);
    await refused(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvp0', '-o', 'macvlan_mode=sideways', 'mvx'], 1, /requested macvlan mode 'sideways' is not valid/);
    assert.deepEqual(await snapshot(a), base, 'nothing left behind');
  });
});

describe('the resolver across a connect and a daemon restart', () => {
  it('a default-bridge container connected to a user network gets the resolver and resolv.conf names it; both survive a daemon restart', async () => {
    await ok(['run', '-d', '--name', 'rc1', 'busybox', 'sleep', '600']);
    assert.doesNotMatch(await ok(['exec', 'rc1', 'cat', '/etc/resolv.conf']), /127\.0\.0\.11/);
    await ok(['network', 'connect', 'n1', 'rc1']);
    assert.equal(await ok(['exec', 'rc1', 'cat', '/etc/resolv.conf']), 'nameserver 127.0.0.11\noptions ndots:0\n', 'rewritten in place, as Docker does');
    assert.deepEqual(await lookup('rc1', 'web1'), [await ipIn('dc1', 'n1')]);
    await ok(['network', 'create', '-d', 'macvlan', '-o', 'parent=mvp0', '--subnet', '10.229.0.0/24', '--gateway', LAN, 'mvr']);
    await ok(['run', '-d', '--name', 'mvr1', '--network', 'mvr', 'busybox', 'sleep', '600']);
    await ok(['run', '-d', '--name', 'mvr2', '--network', 'mvr', 'busybox', 'sleep', '600']);
    await a.stopDaemon();
    await a.startDaemon(['--dns-upstream', `${B}:5353`]);
    assert.deepEqual(await lookup('rc1', 'web1'), [await ipIn('dc1', 'n1')], 'the restarted daemon answers inside the running sandboxes again');
    assert.deepEqual(await lookup('rc1', 'daemon.test'), ['203.0.113.5'], 'and forwards from inside them');
    assert.deepEqual(await lookup('mvr1', 'mvr2'), [await ipIn('mvr2', 'mvr')], 'in a macvlan sandbox too');
    assert.ok(await reaches('mvr1', LAN));
    await ok(['rm', '-f', 'rc1', 'mvr1', 'mvr2', 'dc1', 'dprobe']);
    await ok(['network', 'rm', 'mvr', 'n1']);
  });
});

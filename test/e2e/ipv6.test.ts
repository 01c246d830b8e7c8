/**
 * IPv6 end to end: ctrnetd in a test host "a" with IPv6 (its default bridge with --ipv6
 * --fixed-cidr-v6), a client test host "b" joined to it by a dual-stack link (a: 10.240.0.1 and
 * fd00:240::1, b: 10.240.0.2 and fd00:240::2). Containers are driven with the CLI (and the docker
 * CLI), observed from inside them (ping, nslookup, wget), from b, and with nft and ip on a.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { LabHost, linkHosts, must, sh } from '../../scripts/lab';
import { assertNoLeftovers, PAGE, until, wget } from './_util';

let a: LabHost;
let b: LabHost;

const A6 = 'fd00:240::1';
const B6 = 'fd00:240::2';

before(async () => {
  a = await LabHost.create('v6', { ipv6: true });
  b = await LabHost.create('v6c', { ipv6: true });
  await linkHosts(a, b, '10.240.0.1', '10.240.0.2', 1500, { a: A6, b: B6 });
  await a.startDaemon(['--ipv6', '--fixed-cidr-v6', 'fd00:17::/64']);
  // The attacker's image: busybox and a program that forges neighbour discovery (test/helpers/nd6.c).
  const root = `${a.dir}/attacker`;
  mkdirSync(`${root}/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(`${root}/${d}`);
  copyFileSync('/bin/busybox', `${root}/bin/busybox`);
  for (const l of ['sh', 'sleep', 'ping', 'ip']) symlinkSync('busybox', `${root}/bin/${l}`);
  await must(['gcc', '-static', '-O2', '-o', `${root}/nd6`, path.resolve(__dirname, '../../../test/helpers/nd6.c')]);
  await must(['tar', '-C', root, '-cf', `${a.dir}/attacker.tar`, '.']);
  await a.ctl(['image', 'import', `${a.dir}/attacker.tar`, 'attacker:1']);
});

after(async () => {
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

const inspect = async (what: string, fmt: string) => (await a.ctl(['inspect', '-f', fmt, what])).trim();
/** A container's settings on one network, from inspect. */
const on = async (ctr: string, net: string): Promise<Record<string, unknown>> => JSON.parse(await a.ctl(['inspect', ctr]))[0].NetworkSettings.Networks[net];
const ip6Of = async (ctr: string, net: string) => (await on(ctr, net)).GlobalIPv6Address as string;
const ok = async (ctr: string, ...cmd: string[]) => (await a.cli(['exec', ctr, ...cmd])).code === 0;
const docker = (args: string[]) => sh(['docker', ...args], { env: { ...process.env, DOCKER_HOST: `unix://${a.socket}`, DOCKER_CONFIG: `${a.dir}/docker-cli` } });

/**
 * An HTTP server in a test host that answers each client with the address it came from (what the
 * other end sees as the source). Returns its stop function.
 */
async function peerEcho(h: LabHost, port: number): Promise<() => void> {
  const code = `require('net').createServer((c) => c.end('HTTP/1.0 200 OK\\r\\n\\r\\n' + c.remoteAddress + '\\n')).listen({ port: ${port}, host: '::', ipv6Only: false }, () => console.log('ready'))`;
  const child: ChildProcess = spawn('nsenter', [`--net=${h.netnsPath}`, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (c) => reject(new Error(`peer echo server exited ${c}`)));
  });
  return () => child.kill();
}

describe('IPv6 networks', () => {
  it('network create --ipv6 (a given subnet, gateway and range; one from the ULA pool, with the docker CLI): inspect shows EnableIPv6, EnableIPv4 and both IPAM configs', async () => {
    await a.ctl(['network', 'create', '--ipv6', '--subnet', 'fd00:66::/64', '--gateway', 'fd00:66::1', '--ip-range', 'fd00:66::100/120', 'v6a']);
    const net = JSON.parse(await a.ctl(['network', 'inspect', 'v6a']))[0];
    assert.equal(net.EnableIPv6, true);
    assert.equal(net.EnableIPv4, true);
    assert.equal(net.IPAM.Config.length, 2);
    assert.match(net.IPAM.Config[0].Subnet, /^172\.\d+\.0\.0\/16$/);
    assert.deepEqual(net.IPAM.Config[1], { Subnet: 'fd00:66::/64', IPRange: 'fd00:66::100/120', Gateway: 'fd00:66::1' });
    const made = await docker(['network', 'create', '--ipv6', 'ula']);
    assert.equal(made.code, 0, made.stderr);
    const ula = JSON.parse((await docker(['network', 'inspect', 'ula'])).stdout)[0];
    assert.equal(ula.EnableIPv6, true);
    // Docker 27+: a /64 of a ULA /48 whose 40-bit global ID comes from the engine
    assert.match(ula.IPAM.Config[1].Subnet, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/);
    assert.equal(ula.IPAM.Config[1].Gateway, ula.IPAM.Config[1].Subnet.replace('::/64', '::1'));
    assert.equal((await docker(['network', 'rm', 'ula'])).code, 0);
  });

  it('containers get an IPv6 address (the range, or --ip6 anywhere in the subnet), a default route via the IPv6 gateway, and inspect shows them', async () => {
    await a.ctl(['run', '-d', '--name', 'c1', '--network', 'v6a', 'busybox', 'sleep', '600']);
    const run = await docker(['run', '-d', '--name', 'c2', '--network', 'v6a', '--ip6', 'fd00:66::1:5', 'busybox', 'sleep', '600']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await ip6Of('c1', 'v6a'), 'fd00:66::100');
    assert.equal(await ip6Of('c2', 'v6a'), 'fd00:66::1:5');
    const s1 = await on('c1', 'v6a');
    assert.deepEqual([s1.IPv6Gateway, s1.GlobalIPv6PrefixLen], ['fd00:66::1', 64]);
    assert.deepEqual((await on('c2', 'v6a')).IPAMConfig, { IPv6Address: 'fd00:66::1:5' });
    const addrs = await a.ctl(['exec', 'c1', 'ip', '-6', 'addr', 'show', 'eth0']);
    assert.match(addrs, /inet6 fd00:66::100\/64 scope global/);
    assert.doesNotMatch(addrs, /tentative/, 'no duplicate address detection to wait for');
    assert.match(await a.ctl(['exec', 'c1', 'ip', '-6', 'route']), /default via fd00:66::1 dev eth0/);
  });

  it('two containers ping each other over IPv6 by name; the resolver answers AAAA and IPv6 PTR; an IPv4-only network\'s interface stays without IPv6', async () => {
    assert.ok(await ok('c1', 'ping', '-6', '-c1', '-W2', 'c2'));
    assert.ok(await ok('c2', 'ping', '-6', '-c1', '-W2', 'c1'));
    assert.match(await a.ctl(['exec', 'c1', 'nslookup', '-type=aaaa', 'c2']), /Address: fd00:66::1:5/);
    assert.match(await a.ctl(['exec', 'c1', 'nslookup', 'fd00:66::1:5']), /name = c2/);
    await a.ctl(['network', 'create', 'v4only']);
    await a.ctl(['network', 'connect', 'v4only', 'c1']);
    assert.doesNotMatch(await a.ctl(['exec', 'c1', 'ip', 'addr', 'show', 'eth1']), /inet6/);
    await a.ctl(['network', 'disconnect', 'v4only', 'c1']);
  });

  it('published ports answer over IPv6 and IPv4 from another host, which the server sees as the client; [::1] answers on the host only; a given IPv6 host address only there', async () => {
    // a second address of a's, which b can reach: a port published on A6 must not answer there
    await a.run(['ip', 'addr', 'add', 'fd00:241::1/128', 'dev', 'lo']);
    await b.run(['ip', '-6', 'route', 'add', 'fd00:241::1/128', 'via', A6]);
    await a.ctl(['run', '-d', '--name', 'web', '--network', 'v6a', '-p', '8080:80', '-p', '[::1]:8081:80', '-p', `[${A6}]:8082:80`, 'busybox', 'httpd', '-f', '-v', '-p', '80', '-h', '/var/www']);
    await until(async () => PAGE.test((await wget(b, `http://[${A6}]:8080/`)).body), 5000, 'IPv6 published port');
    assert.match((await wget(b, 'http://10.240.0.1:8080/')).body, PAGE);
    const logs = (await a.cli(['logs', 'web'])).stderr;
    assert.match(logs, new RegExp(`\\[${B6}\\]`), 'the IPv6 client keeps its own address');
    assert.match(logs, /10\.240\.0\.2/, 'the IPv4 client keeps its own address');
    assert.match((await wget(a, 'http://[::1]:8081/')).body, PAGE, '[::1] answers on the host');
    assert.match((await wget(a, 'http://[::1]:8080/')).body, PAGE, 'a port on every address answers on [::1] too');
    assert.notEqual((await wget(b, `http://[${A6}]:8081/`)).code, 0, '[::1] never answers another host');
    assert.match((await wget(b, `http://[${A6}]:8082/`)).body, PAGE);
    assert.notEqual((await wget(b, 'http://[fd00:241::1]:8082/')).code, 0, 'a port on one address answers only there');
    assert.match((await wget(b, 'http://[fd00:241::1]:8080/')).body, PAGE);
    const port = await a.ctl(['port', 'web', '80']);
    for (const l of ['0.0.0.0:8080', '[::]:8080', '[::1]:8081', `[${A6}]:8082`]) assert.ok(port.split('\n').includes(l), port);
    const explain = await a.ctl(['explain', 'web']);
    assert.match(explain, /published \[::\]:8080\/tcp → \[fd00:66::\w+\]:80 \(DNAT\), [1-9]\d* connection/);
    assert.match(explain, /Kernel and state agree/);
  });

  it('outbound IPv6 from a container reaches another host with the host\'s address as the source (NAT66)', async () => {
    const stop = await peerEcho(b, 8090);
    try {
      assert.equal((await a.ctl(['exec', 'c1', 'wget', '-qO-', `http://[${B6}]:8090/`])).trim(), A6);
    } finally {
      stop();
    }
    assert.match(await a.run(['nft', 'list', 'table', 'ip6', 'ctrnet']), /ip6 saddr fd00:66::\/64 oifname != "br-\w+" counter packets [1-9]\d* bytes \d+ masquerade/);
  });

  it('two IPv6 networks cannot reach each other, nor each other\'s gateway; an internal one reaches its gateway and nothing beyond', async () => {
    await a.ctl(['network', 'create', '--ipv6', '--subnet', 'fd00:67::/64', 'v6b']);
    await a.ctl(['run', '-d', '--name', 'c3', '--network', 'v6b', 'busybox', 'sleep', '600']);
    assert.ok(await ok('c3', 'ping', '-6', '-c1', '-W2', 'fd00:67::1'));
    assert.equal(await ok('c3', 'ping', '-6', '-c1', '-W1', 'fd00:66::100'), false, 'another network\'s container');
    assert.equal(await ok('c3', 'ping', '-6', '-c1', '-W1', 'fd00:66::1'), false, 'another network\'s gateway');
    assert.equal(await ok('c1', 'ping', '-6', '-c1', '-W1', await ip6Of('c3', 'v6b')), false, 'the other way');
    await a.ctl(['network', 'create', '--internal', '--ipv6', '--subnet', 'fd00:68::/64', 'v6i']);
    await a.ctl(['run', '-d', '--name', 'c4', '--network', 'v6i', 'busybox', 'sleep', '600']);
    assert.ok(await ok('c4', 'ping', '-6', '-c1', '-W2', 'fd00:68::1'), 'an internal network finds its gateway (neighbour discovery passes)');
    assert.equal(await ok('c4', 'ping', '-6', '-c1', '-W1', B6), false, 'nothing beyond');
    assert.equal(await ok('c4', 'ping', '-6', '-c1', '-W1', A6), false, 'not the host');
    await a.ctl(['rm', '-f', 'c3', 'c4']);
  });

  it('an IPv6-only network (--ipv4=false): no IPv4 address, names and a published port over IPv6, EnableIPv4 false, IPv4 ports refused', async () => {
    await a.ctl(['network', 'create', '--ipv6', '--ipv4=false', '--subnet', 'fd00:69::/64', 'v6o']);
    const net = JSON.parse(await a.ctl(['network', 'inspect', 'v6o']))[0];
    assert.deepEqual([net.EnableIPv4, net.EnableIPv6, net.IPAM.Config], [false, true, [{ Subnet: 'fd00:69::/64', Gateway: 'fd00:69::1' }]]);
    await a.ctl(['run', '-d', '--name', 'o1', '--network', 'v6o', 'busybox', 'sleep', '600']);
    await a.ctl(['run', '-d', '--name', 'o2', '--network', 'v6o', '-p', '8083:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    assert.doesNotMatch(await a.ctl(['exec', 'o1', 'ip', '-4', 'addr', 'show', 'eth0']), /inet /);
    const o1 = await on('o1', 'v6o');
    assert.deepEqual([o1.IPAddress, o1.Gateway, o1.GlobalIPv6Address, o1.IPv6Gateway], ['', '', 'fd00:69::2', 'fd00:69::1']);
    assert.ok(await ok('o1', 'ping', '-c1', '-W2', 'o2'), 'the name resolves to its IPv6 address');
    await until(async () => PAGE.test((await wget(b, `http://[${A6}]:8083/`)).body), 5000, 'IPv6-only published port');
    assert.match(await a.ctl(['port', 'o2']), /^80\/tcp -> \[::\]:8083$/m);
    const refused = await a.cli(['run', '--rm', '--network', 'v6o', '-p', '127.0.0.1:8084:80', 'busybox', 'true']);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /is IPv4, and container \S+ has no IPv4 address/);
  });

  it('a large answer is truncated over UDP and the client asks again over TCP, where it comes whole', async () => {
    // 20 IPv6-only replicas under one alias: 20 AAAA records do not fit in 512 bytes.
    await Promise.all(Array.from({ length: 20 }, (_, i) => a.ctl(['run', '-d', '--name', `pool${i}`, '--network', 'v6o', '--network-alias', 'pool', 'busybox', 'sleep', '600'])));
    const sandbox = await inspect('o1', '{{.NetworkSettings.SandboxKey}}');
    // Node's resolver (c-ares) inside o1's namespace: it retries over TCP on the TC bit.
    const code = "const r = new (require('dns').promises.Resolver)(); r.setServers(['127.0.0.11']); r.resolve6('pool').then((x) => console.log(x.length), (e) => { console.log(e.code); process.exit(1); })";
    const out = await must(['nsenter', `--net=${sandbox}`, process.execPath, '-e', code]);
    assert.equal(out.trim(), '20');
    await a.ctl(['rm', '-f', ...Array.from({ length: 20 }, (_, i) => `pool${i}`)]);
  });

  it('a container cannot send from a foreign IPv6 address, answer neighbour discovery for another one, or advertise a router', async () => {
    await a.ctl(['run', '-d', '--name', 'victim', '--network', 'v6a', 'busybox', 'sleep', '600']);
    await a.ctl(['run', '-d', '--name', 'attacker', '--network', 'v6a', 'attacker:1', 'sleep', '600']);
    const v6 = await ip6Of('victim', 'v6a');
    const vmac = (await on('victim', 'v6a')).MacAddress as string;
    const bridge = `br-${(await a.ctl(['network', 'inspect', '-f', '{{.Id}}', 'v6a'])).trim().slice(0, 12)}`;
    // The gateway (the host) and a neighbour (c2) learn the victim's address.
    assert.ok(await ok('victim', 'ping', '-6', '-c1', '-W2', 'fd00:66::1'));
    assert.ok(await ok('c2', 'ping', '-6', '-c1', '-W2', v6));
    const counter = async (comment: string) => Number(new RegExp(`counter packets (\\d+) bytes \\d+ drop comment "${comment}"`).exec(await a.run(['nft', 'list', 'table', 'bridge', 'ctrnet']))?.[1] ?? 0);
    assert.match(await a.ctl(['exec', 'attacker', '/nd6', 'eth0', 'na', v6, '5']), /sent 5 neighbour advertisements/);
    assert.ok((await counter('spoofed neighbour advertisement')) >= 3);
    assert.match(await a.run(['ip', '-6', 'neigh', 'show', v6, 'dev', bridge]), new RegExp(vmac), 'the host still knows the victim\'s MAC');
    assert.match(await a.ctl(['exec', 'c2', 'ip', '-6', 'neigh', 'show', v6]), new RegExp(vmac), 'so does its neighbour');
    assert.ok(await ok('c2', 'ping', '-6', '-c1', '-W2', v6), 'the victim is still reached');
    assert.match(await a.ctl(['exec', 'attacker', '/nd6', 'eth0', 'ra', 'fd00:dead::', '3']), /sent 3 router advertisements/);
    assert.ok((await counter('router advertisement or redirect from a container')) >= 2);
    // An address added by hand (as with CAP_NET_ADMIN) gets nothing through.
    const sandbox = await inspect('attacker', '{{.NetworkSettings.SandboxKey}}');
    await must(['nsenter', `--net=${sandbox}`, 'ip', '-6', 'addr', 'add', 'fd00:66::99/64', 'dev', 'eth0', 'nodad']);
    const before = await counter('spoofed IPv6 source address');
    assert.equal(await ok('attacker', 'ping', '-6', '-c1', '-W1', '-I', 'fd00:66::99', 'fd00:66::1'), false);
    assert.ok((await counter('spoofed IPv6 source address')) > before);
    await a.ctl(['rm', '-f', 'victim', 'attacker']);
    assert.doesNotMatch(await a.run(['nft', 'list', 'set', 'bridge', 'ctrnet', 'port_ip6']), new RegExp(v6), 'ports leave the sets with their containers');
  });

  it("gateway_mode_ipv6=routed: no NAT66 (the other host sees the container's own address); only published ports, on the container's address", async () => {
    await a.ctl(['network', 'create', '--ipv6', '--subnet', 'fd00:70::/64', '-o', 'com.docker.network.bridge.gateway_mode_ipv6=routed', 'v6r']);
    await b.run(['ip', '-6', 'route', 'add', 'fd00:70::/64', 'via', A6]);
    await a.ctl(['run', '-d', '--name', 'rweb', '--network', 'v6r', '-p', '8085:80', 'busybox', 'sh', '-c', 'httpd -p 81 -h /var/www; exec httpd -f -p 80 -h /var/www']);
    const r6 = await ip6Of('rweb', 'v6r');
    await until(async () => PAGE.test((await wget(b, `http://[${r6}]:80/`)).body), 5000, 'routed published port');
    assert.notEqual((await wget(b, `http://[${r6}]:81/`)).code, 0, 'an unpublished port is not reachable');
    assert.notEqual((await wget(b, `http://[${A6}]:8085/`)).code, 0, 'no host port for routed IPv6');
    assert.match((await wget(b, 'http://10.240.0.1:8085/')).body, PAGE, 'IPv4 stays NATed');
    assert.deepEqual(JSON.parse(await a.ctl(['inspect', 'rweb']))[0].NetworkSettings.Ports['80/tcp'], [{ HostIp: '0.0.0.0', HostPort: '8085' }, { HostIp: '::', HostPort: '' }], "Docker's form of a routed port: no host port");
    const stop = await peerEcho(b, 8091);
    try {
      assert.equal((await a.ctl(['exec', 'rweb', 'wget', '-qO-', `http://[${B6}]:8091/`])).trim(), r6);
    } finally {
      stop();
    }
    await a.ctl(['rm', '-f', 'rweb']);
  });

  it('a macvlan network with IPv6 on the uplink\'s LAN: its container and the other host reach each other directly', async () => {
    const links = JSON.parse(await a.run(['ip', '-j', '-6', 'addr', 'show'])) as { ifname: string; addr_info: { local: string }[] }[];
    const parent = links.find((l) => l.addr_info.some((x) => x.local === A6))!.ifname;
    await a.ctl(['network', 'create', '-d', 'macvlan', '-o', `parent=${parent}`, '--ipv6', '--ipv4=false', '--subnet', 'fd00:240::/64', '--gateway', B6, 'mv6']);
    await a.ctl(['run', '-d', '--name', 'm1', '--network', 'mv6', '--ip6', 'fd00:240::50', 'busybox', 'sleep', '600']);
    assert.ok(await ok('m1', 'ping', '-6', '-c1', '-W2', B6));
    assert.equal((await b.exec(['ping', '-6', '-c1', '-W2', 'fd00:240::50'])).code, 0);
    assert.match(await a.ctl(['exec', 'm1', 'ip', '-6', 'route']), new RegExp(`default via ${B6} dev eth0`));
    await a.ctl(['rm', '-f', 'm1']);
    await a.ctl(['network', 'rm', 'mv6']);
  });

  it('after a daemon restart, IPv6 published ports answer again, the [::1] relay included', async () => {
    await a.stopDaemon();
    await a.startDaemon(['--ipv6', '--fixed-cidr-v6', 'fd00:17::/64']);
    assert.match((await wget(b, `http://[${A6}]:8080/`)).body, PAGE);
    await until(async () => PAGE.test((await wget(a, 'http://[::1]:8081/')).body), 5000, 'the relay back on [::1]');
    assert.ok(await ok('c1', 'ping', '-6', '-c1', '-W2', 'c2'));
    assert.equal((await a.cli(['explain', 'web'])).code, 0, 'kernel and state agree');
  });

  it('the default bridge with --ipv6 --fixed-cidr-v6: its containers get IPv6, shown at the top of NetworkSettings', async () => {
    const bridge = JSON.parse(await a.ctl(['network', 'inspect', 'bridge']))[0];
    assert.equal(bridge.EnableIPv6, true);
    assert.equal(bridge.IPAM.Config[1].Subnet, 'fd00:17::/64');
    await a.ctl(['run', '-d', '--name', 'd1', 'busybox', 'sleep', '600']);
    assert.match(await inspect('d1', '{{.NetworkSettings.GlobalIPv6Address}} {{.NetworkSettings.IPv6Gateway}} {{.NetworkSettings.GlobalIPv6PrefixLen}}'), /^fd00:17::\w+ fd00:17::1 64$/);
    assert.ok(await ok('d1', 'ping', '-6', '-c1', '-W2', B6), 'out through NAT66');
    await a.ctl(['rm', '-f', 'd1', 'web', 'c1', 'c2', 'o1', 'o2']);
    for (const n of ['v6a', 'v6b', 'v6i', 'v6o', 'v6r', 'v4only']) await a.ctl(['network', 'rm', n]);
    assert.doesNotMatch(await a.run(['nft', 'list', 'table', 'ip6', 'ctrnet']), /fd00:6[6-9]|fd00:70/, 'the networks\' IPv6 rules go with them');
  });
});

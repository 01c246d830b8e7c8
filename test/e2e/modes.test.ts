/**
 * host, none and container:NAME network modes, observed as a user would: interfaces, hostnames,
 * addresses and servers reached over the network or over lo. Test host "a" runs ctrnetd, test host
 * "b" is another machine on a's uplink (a: 10.211.0.1, b: 10.211.0.2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { LabHost, linkHosts } from '../../scripts/lab';
import { assertNoLeftovers, ipOf, PAGE, snapshot, until, wget } from './_util';

let a: LabHost;
let b: LabHost;

before(async () => {
  a = await LabHost.create('md');
  b = await LabHost.create('mc');
  await linkHosts(a, b, '10.211.0.1', '10.211.0.2');
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

describe('--network host', () => {
  it("sees the host's links, addresses and hostname, but only its own processes", async () => {
    const out = await a.ctl(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'ip link; ip addr; echo HOSTNAME=$(hostname); ps']);
    assert.match(out, /ctrnet0/);
    assert.match(out, /inet 10\.211\.0\.1\/24/);
    assert.match(out, new RegExp(`HOSTNAME=${os.hostname()}`));
    const procs = out.split('\n').filter((l) => /^\s*\d+\s/.test(l));
    assert.ok(procs.length <= 3, `own pid namespace expected, saw:\n${procs.join('\n')}`);
  });

  it("a server in the container listens on the host's addresses; -p is ignored with a warning", async () => {
    const r = await a.cli(['run', '-d', '--name', 'hostweb', '--network', 'host', '-p', '9999:80', 'busybox', 'httpd', '-f', '-p', '8090', '-h', '/var/www']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /WARNING: Published ports are discarded when using host network mode/);
    await until(async () => PAGE.test((await wget(b, 'http://10.211.0.1:8090/')).body));
    const info = await a.ctl(['inspect', '-f', '{{.HostConfig.NetworkMode}} ip={{.NetworkSettings.IPAddress}} key={{.NetworkSettings.SandboxKey}}', 'hostweb']);
    assert.equal(info, 'host ip= key=\n');
    assert.match(await a.ctl(['explain', 'hostweb']), /host mode: no network namespace of its own/);
    assert.doesNotMatch(await a.run(['nft', 'list', 'table', 'ip', 'ctrnet']), /9999/);
    await a.ctl(['rm', '-f', 'hostweb']);
  });
});

describe('--network none', () => {
  it('has exactly one interface, lo, up with 127.0.0.1, and no route', async () => {
    const before = await snapshot(a);
    const out = await a.ctl(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ip -o link; ip -o addr; echo ROUTES; ip route']);
    const links = out.split('\n').filter((l) => /^\d+: /.test(l) && l.includes('mtu'));
    assert.equal(links.length, 1, out);
    assert.match(links[0], /^1: lo: <LOOPBACK,UP,LOWER_UP>/);
    assert.match(out, /inet 127\.0\.0\.1\/8/);
    assert.match(out, /ROUTES\n$/);
    assert.deepEqual(await snapshot(a), before, 'nothing of it appears on the host');
  });

  it('its SandboxKey takes a veth added by hand, as the seed describes', async () => {
    await a.ctl(['run', '-d', '--name', 'closed', '--network', 'none', 'busybox', 'sleep', '300']);
    const key = (await a.ctl(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', 'closed'])).trim();
    assert.match(key, new RegExp(`^${a.execRoot}/netns/[0-9a-f]{12}$`));
    await a.run(['ip', 'link', 'add', 'handA', 'type', 'veth', 'peer', 'name', 'handB']);
    await a.run(['ip', 'link', 'set', 'handB', 'netns', key]);
    await a.run(['ip', 'addr', 'add', '10.212.0.1/30', 'dev', 'handA']);
    await a.run(['ip', 'link', 'set', 'handA', 'up']);
    await a.run(['nsenter', `--net=${key}`, 'ip', 'addr', 'add', '10.212.0.2/30', 'dev', 'handB']);
    await a.run(['nsenter', `--net=${key}`, 'ip', 'link', 'set', 'handB', 'up']);
    assert.match(await a.ctl(['exec', 'closed', 'ip', 'addr']), /inet 10\.212\.0\.2\/30/);
    assert.equal((await a.cli(['exec', 'closed', 'ping', '-c1', '-W2', '10.212.0.1'])).code, 0);
    await a.ctl(['rm', '-f', 'closed']);
    assert.equal((await a.exec(['ip', 'link', 'show', 'handA'])).code, 1, 'the pair went with the namespace');
  });
});

describe('--network container:NAME', () => {
  it('shares IP, MAC and port space with its target; lo connects them', async () => {
    await a.ctl(['run', '-d', '--name', 'web', '-p', '8085:8000', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    const ip = await ipOf(a, 'web');
    const webAddr = await a.ctl(['exec', 'web', 'ip', '-o', 'link', 'show', 'eth0']);
    const mac = /link\/ether ([0-9a-f:]+)/.exec(webAddr)![1];
    const out = await a.ctl(['run', '--rm', '--network', 'container:web', 'busybox', 'sh', '-c', 'ip addr show eth0; wget -qO- http://127.0.0.1:80/']);
    assert.match(out, new RegExp(`inet ${ip.replace(/\./g, '\\.')}/16`));
    assert.match(out, new RegExp(`link/ether ${mac}`));
    assert.match(out, PAGE);
  });

  it("the target's published ports reach a server started in the joiner; chains end in the same namespace", async () => {
    await a.ctl(['run', '-d', '--name', 'joiner', '--network', 'container:web', 'busybox', 'httpd', '-f', '-p', '8000', '-h', '/var/www']);
    await until(async () => PAGE.test((await wget(b, 'http://10.211.0.1:8085/')).body));
    await a.ctl(['run', '-d', '--name', 'chained', '--network', 'container:joiner', 'busybox', 'sleep', '300']);
    const ip = await ipOf(a, 'web');
    assert.match(await a.ctl(['exec', 'chained', 'ip', 'addr', 'show', 'eth0']), new RegExp(`inet ${ip.replace(/\./g, '\\.')}/16`));
    const webId = (await a.ctl(['inspect', '-f', '{{.Id}}', 'web'])).trim();
    assert.equal(await a.ctl(['inspect', '-f', '{{.HostConfig.NetworkMode}}', 'joiner']), `container:${webId}\n`);
  });

  it('errors as Docker gives them, leaving nothing behind', async () => {
    const base = await snapshot(a);
    await a.ctl(['create', '--name', 'idle', 'busybox', 'true']);
    const cases: [string[], RegExp][] = [
      [['run', '--rm', '--network', 'container:nosuch', 'busybox', 'true'], /No such container: nosuch/],
      [['run', '--rm', '--network', 'container:idle', 'busybox', 'true'], /cannot join network of a non running container: idle/],
      [['run', '--rm', '--network', 'container:web', '-p', '81:81', 'busybox', 'true'], /conflicting options: port publishing/],
      [['run', '--rm', '--network', 'container:web', '--hostname', 'x', 'busybox', 'true'], /conflicting options: hostname/],
      [['run', '--rm', '--network', 'container:web', '--network-alias', 'x', 'busybox', 'true'], /conflicting options: network aliases/],
      [['run', '--rm', '--network', 'container:web', '--dns', '10.0.0.53', 'busybox', 'true'], /conflicting options: DNS servers/],
      [['run', '--rm', '--network', 'container:web', '--mac-address', '02:42:0a:00:00:09', 'busybox', 'true'], /conflicting options: MAC address/],
      [['run', '--rm', '--network', 'none', '-p', '81:81', 'busybox', 'true'], /conflicting options: port publishing/],
      [['run', '--rm', '--network', 'nosuchnet', 'busybox', 'true'], /network nosuchnet not found/],
    ];
    for (const [args, msg] of cases) {
      const r = await a.cli(args);
      assert.equal(r.code, 125, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    await a.ctl(['rm', 'idle']);
    assert.deepEqual(await snapshot(a), base);
  });

  it('the target cannot be removed while joined unless forced; then the joiners lose their network', async () => {
    const r = await a.cli(['rm', 'web']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /containers (joiner, chained|chained, joiner) use its network namespace/);
    await a.ctl(['stop', '-t', '1', 'web']);
    const out = await a.ctl(['exec', 'chained', 'ip', '-o', 'link']);
    assert.doesNotMatch(out, /eth0/);
    await a.ctl(['rm', '-f', 'chained', 'joiner', 'web']);
  });
});

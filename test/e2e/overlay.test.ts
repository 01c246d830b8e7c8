/**
 * Overlay networks across hosts: an underlay "switch" (test host sw, bridge sw0, 10.220.0.254)
 * with three test hosts on it (10.220.0.1-3, MTU 1400), a real etcd on the switch, a ctrnetd on
 * each host. Observed from inside containers (ping, wget, nslookup) and on the wire (VXLAN packets
 * counted in the switch).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabEtcd, LabHost, plugIntoSwitch, sh } from '../../scripts/lab';
import { assertNoLeftovers, PAGE, until, wget } from './_util';

let sw: LabHost;
const hosts: LabHost[] = [];
let etcd: LabEtcd;
const TTL = 4;

const daemonArgs = (i: number) => ['--cluster-store', 'etcd://10.220.0.254:2379', '--advertise-addr', `10.220.0.${i + 1}`, '--cluster-lease-ttl', String(TTL)];
const addrOf = async (h: LabHost, ctr: string, dev = 'eth0') => (await h.ctl(['exec', ctr, 'ip', '-o', '-4', 'addr', 'show', dev])).match(/inet ([\d.]+)/)![1];
/** Bytes of VXLAN (UDP 4789) crossing the switch; packets are GSO aggregates, so bytes tell more. */
const vxlanBytes = async () => {
  const out = await sw.run(['nft', '-j', 'list', 'table', 'bridge', 'vxcount']);
  return (JSON.parse(out).nftables as { rule?: { expr: { counter?: { bytes: number } }[] } }[])
    .flatMap((o) => o.rule?.expr ?? [])
    .reduce((n, e) => n + (e.counter?.bytes ?? 0), 0);
};

before(async () => {
  sw = await LabHost.create('sw');
  for (let i = 0; i < 3; i++) {
    const h = await LabHost.create(`ov${i + 1}`);
    hosts.push(h);
    await plugIntoSwitch(sw, h, `10.220.0.${i + 1}`, '10.220.0.254', 1400);
  }
  // Count VXLAN packets crossing the switch.
  await sw.run(['nft', '-f', '-'], { input: 'table bridge vxcount {\n chain vx {\n type filter hook forward priority 0;\n ether type ip ip protocol udp udp dport 4789 counter\n }\n}\n' });
  etcd = new LabEtcd(sw, '10.220.0.254');
  await etcd.start();
  for (const [i, h] of hosts.entries()) await h.startDaemon(daemonArgs(i));
});

after(async () => {
  for (const h of hosts) await h.destroy();
  await etcd?.stop();
  await sw?.destroy();
  assertNoLeftovers([sw, ...hosts].filter(Boolean));
});

describe('overlay networks', () => {
  it('a network created on one host is listed and usable on every host', async () => {
    const [h1, h2, h3] = hosts;
    await h2.ctl(['network', 'create', '-d', 'overlay', '--subnet', '10.0.9.0/24', 'ov1']);
    for (const h of [h1, h3]) await until(async () => /ov1\s+overlay\s+swarm/.test(await h.ctl(['network', 'ls'])));
    const dup = await h1.cli(['network', 'create', '-d', 'overlay', 'ov1']);
    assert.equal(dup.code, 125);
    assert.match(dup.stderr, /network with name ov1 already exists/);
    const overlap = await h3.cli(['network', 'create', '-d', 'overlay', '--subnet', '10.0.9.128/25', 'ovx']);
    assert.match(overlap.stderr, /overlaps overlay network ov1 \(10\.0\.9\.0\/24\)/);
  });

  it('containers on hosts 1 and 3 reach each other by address and by name, full-size TCP included, over VXLAN', async () => {
    const [h1, , h3] = hosts;
    await h1.ctl(['run', '-d', '--name', 'a', '--network', 'ov1', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await h1.ctl(['exec', 'a', 'dd', 'if=/dev/urandom', 'of=/var/www/big', 'bs=1024', 'count=1024']);
    await h3.ctl(['run', '-d', '--name', 'b', '--network', 'ov1', 'busybox', 'sleep', '300']);
    const a = await addrOf(h1, 'a');
    assert.match(a, /^10\.0\.9\.\d+$/);
    assert.match(await h1.ctl(['exec', 'a', 'ip', 'link', 'show', 'eth0']), /mtu 1350/);
    const before = await vxlanBytes();
    await until(async () => (await h3.cli(['exec', 'b', 'ping', '-c1', '-W1', a])).code === 0, 10_000);
    assert.equal((await h3.cli(['exec', 'b', 'ping', '-c1', '-W2', 'a'])).code, 0, 'by name');
    assert.match(await h3.ctl(['exec', 'b', 'nslookup', 'a']), new RegExp(`Address: ${a.replace(/\./g, '\\.')}`));
    assert.match(await h3.ctl(['exec', 'b', 'wget', '-qO-', 'http://a/']), PAGE);
    assert.equal((await h3.ctl(['exec', 'b', 'sh', '-c', 'wget -qO- http://a/big | wc -c'])).trim(), '1048576');
    const after = await vxlanBytes();
    const ex = await h1.ctl(['explain', 'a']);
    assert.match(ex, /Overlay ov1: VXLAN device vx-[0-9a-f]{12} \(VNI \d+, UDP 4789\)/);
    assert.match(ex, /remote 10\.0\.9\.\d+ \(02:42:0a:00:09:\w\w\) is reached through host 10\.220\.0\.3/);
    assert.ok(after - before > 1_048_576, `the 1 MiB crossed the switch as VXLAN (${before} → ${after} bytes)`);
  });

  it('the docker CLI uses the overlay like any network', async () => {
    const [, , h3] = hosts;
    const env = { ...process.env, DOCKER_HOST: `unix://${h3.socket}`, DOCKER_CONFIG: `${h3.dir}/docker-config` };
    const ls = await sh(['docker', 'network', 'ls'], { env });
    assert.match(ls.stdout, /ov1\s+overlay\s+swarm/);
    const r = await sh(['docker', 'run', '--rm', '--network', 'ov1', 'busybox', 'wget', '-qO-', 'http://a/'], { env, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, PAGE);
  });

  it('containers get a way out and published ports through the gateway bridge', async () => {
    const [h1, , h3] = hosts;
    assert.match(await h1.ctl(['exec', 'a', 'ip', 'route']), /default via [\d.]+ dev eth1/);
    assert.equal((await h1.cli(['exec', 'a', 'ping', '-c1', '-W2', '10.220.0.254'])).code, 0, 'the underlay, masqueraded');
    await h1.ctl(['run', '-d', '--name', 'pub', '--network', 'ov1', '-p', '8088:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await until(async () => PAGE.test((await wget(h3, 'http://10.220.0.1:8088/')).body));
    await h1.ctl(['rm', '-f', 'pub']);
  });

  it('two overlay networks are isolated from each other', async () => {
    const [h1, h2] = hosts;
    await h1.ctl(['network', 'create', '-d', 'overlay', 'ov2']);
    await h2.ctl(['run', '-d', '--name', 'other', '--network', 'ov2', 'busybox', 'sleep', '300']);
    const a = await addrOf(h1, 'a');
    assert.notEqual((await h2.cli(['exec', 'other', 'ping', '-c1', '-W1', a])).code, 0);
    assert.doesNotMatch((await h2.cli(['exec', 'other', 'nslookup', 'a'])).stdout, /Address: 10\.0\.9/);
    await h2.ctl(['rm', '-f', 'other']);
  });

  it('20 containers started at once on three hosts get distinct addresses', async () => {
    const runs = await Promise.all(
      Array.from({ length: 20 }, (_, i) => hosts[i % 3].cli(['run', '-d', '--name', `m${i}`, '--network', 'ov1', 'busybox', 'sleep', '300'], { timeoutMs: 120_000 })),
    );
    assert.deepEqual(runs.filter((r) => r.code !== 0).map((r) => r.stderr), []);
    const ips = await Promise.all(Array.from({ length: 20 }, (_, i) => addrOf(hosts[i % 3], `m${i}`)));
    assert.equal(new Set(ips).size, 20, ips.join(' '));
    for (let i = 0; i < 20; i++) await hosts[i % 3].ctl(['rm', '-f', `m${i}`]);
  });

  it("a host that dies disappears from the others when its lease expires", async () => {
    const [h1, h2] = hosts;
    await h2.ctl(['run', '-d', '--name', 'doomed', '--network', 'ov1', 'busybox', 'sleep', '300']);
    const ip = await addrOf(h2, 'doomed');
    const vx = (await h1.run(['ip', '-o', 'link', 'show', 'type', 'vxlan'])).match(/\d+: (vx-[0-9a-f]+)/)![1];
    await until(async () => (await h1.run(['ip', 'neigh', 'show', 'dev', vx])).includes(ip));
    await h2.stopDaemon('SIGKILL');
    await h2.exec(['sh', '-c', `for c in $(runc --root ${h2.execRoot}/runc list -q); do runc --root ${h2.execRoot}/runc kill $c KILL; done`]);
    await until(async () => !(await h1.run(['ip', 'neigh', 'show', 'dev', vx])).includes(ip) && !(await h1.run(['bridge', 'fdb', 'show', 'dev', vx])).includes('10.220.0.2'), (TTL + 10) * 1000);
    await h2.startDaemon(daemonArgs(1));
    assert.match(await h2.ctl(['ps', '-a']), /doomed/);
    await h2.ctl(['rm', '-f', 'doomed']);
  });

  it('etcd restarted mid-test: traffic continues, new containers fail clearly meanwhile and work after', async () => {
    const [h1, , h3] = hosts;
    const a = await addrOf(h1, 'a');
    await etcd.stop();
    assert.equal((await h3.cli(['exec', 'b', 'ping', '-c1', '-W2', a])).code, 0, 'running containers keep talking');
    const r = await h3.cli(['run', '--rm', '--network', 'ov1', 'busybox', 'true'], { timeoutMs: 30_000 });
    assert.equal(r.code, 125);
    assert.match(r.stderr, /cluster store etcd:\/\/10\.220\.0\.254:2379/);
    await etcd.start();
    await until(async () => (await h3.cli(['run', '-d', '--name', 'late', '--network', 'ov1', 'busybox', 'sleep', '300'])).code === 0, 30_000);
    const late = await addrOf(h3, 'late');
    await until(async () => (await h1.cli(['exec', 'a', 'ping', '-c1', '-W1', late])).code === 0, 20_000);
    assert.equal((await h1.cli(['exec', 'a', 'ping', '-c1', '-W2', 'late'])).code, 0);
  });

  it('a network in use cannot be removed; once empty it is removed everywhere', async () => {
    const [h1, h2, h3] = hosts;
    const r = await h2.cli(['network', 'rm', 'ov1']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /active endpoints/);
    await h1.ctl(['rm', '-f', 'a']);
    await h3.ctl(['rm', '-f', 'b', 'late']);
    await h2.ctl(['network', 'rm', 'ov1', 'ov2']);
    // A watch that was cut by the etcd restart may still be reconnecting (backoff): allow for it.
    for (const h of hosts) await until(async () => !/ov1|ov2/.test(await h.ctl(['network', 'ls'])), 30_000);
    for (const h of hosts) assert.doesNotMatch(await h.run(['ip', '-o', 'link']), /vx-|ov-/);
  });

  it('a daemon without --cluster-store says what to add', async () => {
    const plain = await LabHost.create('plain');
    try {
      await plain.startDaemon();
      const r = await plain.cli(['network', 'create', '-d', 'overlay', 'x']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /--cluster-store etcd:\/\/HOST:2379 --advertise-addr IP/);
    } finally {
      await plain.destroy();
    }
  });
});

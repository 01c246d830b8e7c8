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

const daemonArgs = (i: number, ttl = TTL) => ['--cluster-store', 'etcd://10.220.0.254:2379', '--advertise-addr', `10.220.0.${i + 1}`, '--cluster-lease-ttl', String(ttl)];
const addrOf = async (h: LabHost, ctr: string, dev = 'eth0') => (await h.ctl(['exec', ctr, 'ip', '-o', '-4', 'addr', 'show', dev])).match(/inet ([\d.]+)/)![1];
/** Bytes of VXLAN (UDP 4789) crossing the switch; packets are GSO aggregates, so bytes tell more. */
const vxlanBytes = async () => {
  const out = await sw.run(['nft', '-j', 'list', 'table', 'bridge', 'vxcount']);
  return (JSON.parse(out).nftables as { rule?: { expr: { counter?: { bytes: number } }[] } }[])
    .flatMap((o) => o.rule?.expr ?? [])
    .reduce((n, e) => n + (e.counter?.bytes ?? 0), 0);
};

/**
 * Cuts a host off etcd in the switch, both ways. etcd listens on the switch's own address, so the
 * host's packets to it end in the switch's input hook, and etcd's answers leave by its output hook;
 * the host's VXLAN traffic is only bridged and passes.
 */
const partition = (ip: string) =>
  sw.run(['nft', '-f', '-'], { input: `table ip partition {\n chain in {\n  type filter hook input priority -10; policy accept;\n  ip saddr ${ip} tcp dport 2379 counter drop\n }\n chain out {\n  type filter hook output priority -10; policy accept;\n  ip daddr ${ip} tcp sport 2379 counter drop\n }\n}\n` });
const heal = () => sw.run(['nft', 'delete', 'table', 'ip', 'partition']);
/** Packets the partition dropped so far (host → etcd). */
const dropped = async () => Number(/tcp dport 2379 counter packets (\d+)/.exec(await sw.run(['nft', 'list', 'table', 'ip', 'partition']))?.[1]);
/** The VXLAN device of network ov1 on host h. */
const vxOf = async (h: LabHost) => `vx-${(await h.ctl(['network', 'inspect', '-f', '{{.Id}}', 'ov1'])).trim().slice(0, 12)}`;
/** Whether host h has remote entries (FDB and neighbour) for the address ip on its VXLAN device. */
const programmed = async (h: LabHost, ip: string) => {
  const vx = await vxOf(h);
  const neigh = await h.run(['ip', 'neigh', 'show', 'dev', vx]);
  const mac = new RegExp(`^${ip.replace(/\./g, '\\.')} lladdr (\\S+)`, 'm').exec(neigh)?.[1];
  return mac !== undefined && (await h.run(['bridge', 'fdb', 'show', 'dev', vx])).includes(mac);
};
const pings = async (h: LabHost, ctr: string, ip: string) => (await h.cli(['exec', ctr, 'ping', '-c1', '-W2', ip])).code === 0;

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

  it('the fast path carries the containers\' IPv4 frames past the overlay bridges both ways (VXLAN device and host veths carry the program), and explain says so', async () => {
    const [h1, , h3] = hosts;
    const a = await addrOf(h1, 'a');
    const redirected = async (h: LabHost, ctr: string) => (JSON.parse(await h.ctl(['explain', '--json', ctr])) as { fastPath?: { redirected: number } }).fastPath?.redirected ?? -1;
    const vx = await vxOf(h1);
    for (const h of [h1, h3]) assert.match(await h.run(['tc', 'filter', 'show', 'dev', vx, 'ingress']), /ctrnet_fastpath.*direct-action/);
    const r1 = await redirected(h1, 'a');
    const r3 = await redirected(h3, 'b');
    assert.match(await h3.ctl(['exec', 'b', 'ping', '-c3', '-W2', a]), /3 packets received/);
    // Host 3: b's requests into the VXLAN device, the replies from it to b; host 1 the other way round.
    assert.ok((await redirected(h3, 'b')) >= r3 + 6, 'host 3 fast-pathed the requests and the replies');
    assert.ok((await redirected(h1, 'a')) >= r1 + 6, 'host 1 fast-pathed them too');
    const ex = await h1.ctl(['explain', 'a']);
    assert.match(ex, /Fast path: IPv4 frames from veth\w+ .*VXLAN device/);
    assert.match(ex, /Kernel and state agree/);
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

  it('a host cut off etcd for less than its lease keeps its data plane both ways; after the partition heals it programs what changed meanwhile', async () => {
    const [h1, h2, h3] = hosts;
    // The others keep a host's endpoints as long as its lease lives; with the file's 4 s they
    // would drop it as dead during this test (the next test covers that): 60 s for host 2.
    await h2.stopDaemon();
    await h2.startDaemon(daemonArgs(1, 60));
    await h2.ctl(['run', '-d', '--name', 'px', '--network', 'ov1', 'busybox', 'sleep', '300']);
    await h3.ctl(['run', '-d', '--name', 'gone', '--network', 'ov1', 'busybox', 'sleep', '300']);
    const [a, px, gone] = [await addrOf(h1, 'a'), await addrOf(h2, 'px'), await addrOf(h3, 'gone')];
    await until(async () => (await pings(h2, 'px', a)) && (await pings(h2, 'px', gone)) && (await pings(h3, 'b', px)), 20_000, 'px reaches a and gone, b reaches px');

    const mark = h2.log.length;
    await partition('10.220.0.2');
    try {
      const r = await h2.cli(['run', '--rm', '--network', 'ov1', 'busybox', 'true'], { timeoutMs: 30_000 });
      assert.equal(r.code, 125, 'host 2 cannot reach etcd');
      assert.match(r.stderr, /cluster store etcd:\/\/10\.220\.0\.254:2379/);
      assert.ok((await dropped()) > 0, 'the switch dropped host 2 → etcd packets');
      // Meanwhile, on the hosts that see etcd: a container starts, another goes.
      await h1.ctl(['run', '-d', '--name', 'dur', '--network', 'ov1', 'busybox', 'sleep', '300']);
      const dur = await addrOf(h1, 'dur');
      await h3.ctl(['rm', '-f', 'gone']);
      await until(async () => !(await programmed(h1, gone)) && (await pings(h3, 'b', dur)), 20_000, 'hosts 1 and 3 see the change');
      // The silent partition must be noticed (keepalive pings), and the watch error flushes nothing.
      await until(async () => h2.log.slice(mark).includes('watch disconnected'), 30_000, 'host 2 notices it lost etcd');
      assert.ok(await pings(h2, 'px', a), 'px (partitioned) still reaches a');
      assert.ok(await pings(h1, 'a', px), 'a still reaches px (partitioned)');
      assert.ok(await pings(h3, 'b', px), 'b still reaches px (partitioned)');
      assert.ok(await programmed(h2, a), 'host 2 kept its entries');
      assert.ok(!(await programmed(h2, dur)), 'host 2 did not learn of dur while cut off (or the partition leaks)');
      await heal();
      await until(async () => (await programmed(h2, dur)) && !(await programmed(h2, gone)), 60_000, 'host 2 programs dur and forgets gone after the heal');
      assert.ok(await pings(h2, 'px', dur), 'px reaches dur');
      assert.ok(await pings(h1, 'dur', px), 'dur reaches px');
      await until(async () => (await h2.cli(['run', '--rm', '--network', 'ov1', 'busybox', 'ping', '-c1', '-W2', 'dur'], { timeoutMs: 30_000 })).code === 0, 30_000, 'host 2 runs overlay containers again');
    } finally {
      await heal().catch(() => {
        // already healed
      });
    }
    await h2.ctl(['rm', '-f', 'px']);
  });

  it('a host cut off etcd for longer than its lease is dropped by the others, keeps its own entries, and comes back when the partition heals', async () => {
    const [h1, , h3] = hosts;
    const [a, b, dur] = [await addrOf(h1, 'a'), await addrOf(h3, 'b'), await addrOf(h1, 'dur')];
    assert.ok(await programmed(h1, b));
    const mark = h3.log.length;
    await partition('10.220.0.3');
    try {
      // The others cannot tell a cut-off host from a dead one: its endpoints go with its lease.
      await until(async () => !(await programmed(h1, b)), (TTL + 15) * 1000, 'host 1 drops b when the lease of host 3 expires');
      await h1.ctl(['rm', '-f', 'dur']);
      // A fixed address: the lowest free one may be b's, released with the lease (the stale-state case).
      await h1.ctl(['run', '-d', '--name', 'dur2', '--network', 'ov1', '--ip', '10.0.9.200', 'busybox', 'sleep', '300']);
      const dur2 = await addrOf(h1, 'dur2');
      await until(async () => !(await programmed(h1, dur)), 10_000, 'host 1 forgets dur');
      const since = () => h3.log.slice(mark);
      await until(async () => since().includes('watch disconnected') && since().includes('cluster lease lost'), 30_000, 'host 3 notices it lost etcd and its lease');
      assert.ok((await programmed(h3, a)) && (await programmed(h3, dur)), 'host 3 kept its entries through watch errors and the lost lease');
      await heal();
      await until(async () => (await programmed(h1, b)) && (await programmed(h3, dur2)) && !(await programmed(h3, dur)), 60_000, 'host 3 republishes b, programs dur2, forgets dur');
      assert.ok(await pings(h1, 'a', b), 'a reaches b again');
      assert.ok(await pings(h3, 'b', dur2), 'b reaches dur2');
    } finally {
      await heal().catch(() => {
        // already healed
      });
    }
    await h1.ctl(['rm', '-f', 'dur2']);
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

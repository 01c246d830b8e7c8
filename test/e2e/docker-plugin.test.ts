/**
 * The Docker network + IPAM plugin: Debian's dockerd 20.10 on two test hosts, each in a mount
 * namespace of its own (so each sees only its own /run/docker/plugins) with its own ctrnetd
 * (--docker-plugin /run/docker/plugins/ctrnet.sock), and one etcd on the underlay switch
 * (sw: 10.232.0.254; hosts 10.232.0.1-2). One overlay shared through the plugin: ping and HTTP
 * across hosts, distinct addresses, `docker network rm` leaves nothing on either host. What dockerd
 * sends is read from ctrnetd's trace of the plugin calls (CTRNET_PLUGIN_TRACE=1).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { LabEtcd, LabHost, plugIntoSwitch } from '../../scripts/lab';
import { ensureDocker, LabDocker, MountNs } from '../../scripts/lab-docker';
import { clientOf } from '../../src/cni/client';
import { cni } from '../helpers/cni';
import { assertNoLeftovers, until } from './_util';

let sw: LabHost;
let etcd: LabEtcd;
const hosts: { h: LabHost; mnt: MountNs; dk: LabDocker }[] = [];
const PLUGIN = '/run/docker/plugins/ctrnet.sock';

const calls = (h: LabHost) => [...h.log.matchAll(/docker plugin \/(\w+\.\w+) /g)].map((m) => m[1]);
const ctrOf = (i: number) => hosts[i];

before(async () => {
  const why = await ensureDocker();
  assert.equal(why, undefined, `docker.io: ${why}`);
  sw = await LabHost.create('dsw');
  etcd = new LabEtcd(sw, '10.232.0.254');
  for (let i = 0; i < 2; i++) {
    const h = await LabHost.create(`dk${i + 1}`);
    await plugIntoSwitch(sw, h, `10.232.0.${i + 1}`, '10.232.0.254');
    const mnt = await MountNs.create(h);
    h.mountNs = mnt.path;
    hosts.push({ h, mnt, dk: new LabDocker(h, { mountNs: mnt }) });
  }
  await etcd.start();
  process.env.CTRNET_PLUGIN_TRACE = '1';
  for (const [i, { h, dk }] of hosts.entries()) {
    // ctrnetd first: it turns on ip_forward, so dockerd leaves iptables' FORWARD policy at ACCEPT.
    await h.startDaemon(['--cluster-store', 'etcd://10.232.0.254:2379', '--advertise-addr', `10.232.0.${i + 1}`, '--docker-plugin', PLUGIN]);
    await dk.start();
    await dk.importBusybox(['sh', 'true', 'sleep', 'ip', 'cat', 'ping', 'wget', 'httpd', 'echo', 'mkdir', 'timeout']);
  }
  delete process.env.CTRNET_PLUGIN_TRACE;
});

after(async () => {
  // CTRNET_TEST_LOGS=DIR keeps each host's ctrnetd log (with the plugin calls) and dockerd log.
  if (process.env.CTRNET_TEST_LOGS) for (const { h, dk } of hosts) writeFileSync(`${process.env.CTRNET_TEST_LOGS}/${h.ns}.log`, `${h.log}\n---- dockerd\n${dk.log}`);
  for (const { h, mnt, dk } of hosts) {
    await dk.stop().catch(() => undefined);
    await h.destroy();
    await mnt.destroy();
  }
  await etcd?.stop();
  await sw?.destroy();
  assertNoLeftovers([sw, ...hosts.map((x) => x.h)].filter(Boolean));
});

describe('docker network create -d ctrnet --ipam-driver ctrnet on two Docker hosts', () => {
  const ips: string[] = [];

  it('each host sees only its own plugin, and the driver is named after the socket', async () => {
    for (const { h } of hosts) assert.match(h.log, /Docker network and IPAM plugin "ctrnet" on unix:\/\/\/run\/docker\/plugins\/ctrnet\.sock/);
    assert.equal((await ctrOf(0).h.exec(['ls', '/run/docker/plugins'])).stdout.trim(), 'ctrnet.sock');
    assert.equal((await ctrOf(0).h.exec(['true'])).code, 0);
  });

  it('gives one overlay on both hosts (ctrnet.network joins them), through RequestPool, RequestAddress and CreateNetwork', async () => {
    for (const { dk } of hosts) {
      await dk.must(['network', 'create', '-d', 'ctrnet', '--ipam-driver', 'ctrnet', '--subnet', '10.0.9.0/24', '-o', 'ctrnet.type=overlay', '-o', 'ctrnet.network=ov', 'ov']);
    }
    const sent = calls(ctrOf(0).h).filter((c) => /RequestPool|RequestAddress|CreateNetwork/.test(c));
    assert.deepEqual(sent.slice(0, 3), ['IpamDriver.RequestPool', 'IpamDriver.RequestAddress', 'NetworkDriver.CreateNetwork']);
    for (const { h } of hosts) {
      const n = JSON.parse(await h.ctl(['network', 'inspect', 'ov']))[0];
      assert.equal(n.Driver, 'overlay');
      assert.deepEqual(n.IPAM.Config, [{ Subnet: '10.0.9.0/24', Gateway: '10.0.9.1' }]);
    }
  });

  it('containers on different hosts get distinct addresses and reach each other (ping and HTTP)', async () => {
    for (const [i, { dk }] of hosts.entries()) {
      await dk.must(['run', '-d', '--name', `w${i}`, '--network', 'ov', 'busybox', 'sh', '-c', `mkdir -p /www && echo hello-from-${i} > /www/index.html && exec httpd -f -p 80 -h /www`]);
      ips.push((await dk.must(['inspect', '-f', '{{.NetworkSettings.Networks.ov.IPAddress}}', `w${i}`])).trim());
    }
    assert.match(ips[0], /^10\.0\.9\.\d+$/);
    assert.match(ips[1], /^10\.0\.9\.\d+$/);
    assert.notEqual(ips[0], ips[1]);
    const seq = calls(ctrOf(0).h);
    const run = seq.slice(seq.lastIndexOf('IpamDriver.RequestAddress'));
    assert.deepEqual(run.filter((c) => /RequestAddress|CreateEndpoint|Join/.test(c)).slice(0, 3), ['IpamDriver.RequestAddress', 'NetworkDriver.CreateEndpoint', 'NetworkDriver.Join']);
    const dk0 = ctrOf(0).dk;
    const dk1 = ctrOf(1).dk;
    await until(async () => (await dk0.docker(['exec', 'w0', 'ping', '-c1', '-W1', ips[1]])).code === 0, 10_000, 'w0 pings w1 across hosts');
    assert.equal((await dk1.docker(['exec', 'w1', 'ping', '-c1', '-W2', ips[0]])).code, 0);
    assert.match((await dk0.docker(['exec', 'w0', 'timeout', '5', 'wget', '-qO-', `http://${ips[1]}/`])).stdout, /hello-from-1/);
    assert.match((await dk1.docker(['exec', 'w1', 'timeout', '5', 'wget', '-qO-', `http://${ips[0]}/`])).stdout, /hello-from-0/);
    // Docker's own DNS keeps answering the names it knows (its host's containers on the network).
    assert.match((await dk0.docker(['run', '--rm', '--network', 'ov', 'busybox', 'timeout', '5', 'wget', '-qO-', 'http://w0/'])).stdout, /hello-from-0/);
    // dockerd moved and renamed the veth: eth0 inside, with ctrnet's address and MAC.
    const inside = await dk0.must(['exec', 'w0', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    assert.match(inside, new RegExp(`inet ${ips[0].replace(/\./g, '\\.')}/24`));
  });

  it('published ports work (the overlay\'s way out is Docker\'s docker_gwbridge, as for its own overlay)', async () => {
    const { dk } = ctrOf(1);
    await dk.must(['run', '-d', '--name', 'pub', '--network', 'ov', '-p', '8090:80', 'busybox', 'sh', '-c', 'mkdir -p /www && echo published > /www/index.html && exec httpd -f -p 80 -h /www']);
    await until(async () => (await sw.exec(['timeout', '5', 'busybox', 'wget', '-qO-', 'http://10.232.0.2:8090/'])).stdout.includes('published'), 10_000, 'port 8090 of host 2 from the switch');
    await dk.must(['rm', '-f', 'pub']);
  });

  it('-o ctrnet.type=bridge gives ctrnet\'s bridge: its gateway is the way out, -p is ctrnet\'s DNAT', async () => {
    const { h, dk } = ctrOf(0);
    await dk.must(['network', 'create', '-d', 'ctrnet', '--ipam-driver', 'ctrnet', '--subnet', '10.0.10.0/24', '-o', 'ctrnet.type=bridge', '-o', 'ctrnet.network=lb', 'lb']);
    await dk.must(['run', '-d', '--name', 'lbw', '--network', 'lb', '-p', '8091:80', 'busybox', 'sh', '-c', 'mkdir -p /www && echo on-ctrnet-bridge > /www/index.html && exec httpd -f -p 80 -h /www']);
    assert.match(await dk.must(['exec', 'lbw', 'ip', 'route']), /default via 10\.0\.10\.1 dev eth0/);
    const n = JSON.parse(await h.ctl(['network', 'inspect', 'lb']))[0];
    assert.equal(n.Driver, 'bridge');
    assert.match(await h.run(['nft', 'list', 'map', 'ip', 'ctrnet', 'pub_any']), /tcp \. 8091 .*: 10\.0\.10\.2 \. 80/);
    await until(async () => (await sw.exec(['timeout', '5', 'busybox', 'wget', '-qO-', 'http://10.232.0.1:8091/'])).stdout.includes('on-ctrnet-bridge'), 10_000, 'port 8091 of host 1 from the switch');
    await dk.must(['rm', '-f', 'lbw']);
    await dk.must(['network', 'rm', 'lb']);
    assert.match((await h.cli(['network', 'inspect', 'lb'])).stderr, /network lb not found/, 'the ctrnet network made for it went with it');
    assert.doesNotMatch(await h.run(['nft', 'list', 'map', 'ip', 'ctrnet', 'pub_any']), /8091/);
  });

  it('a CNI sandbox on the same overlay (ctrnet-cni, this host) reaches the Docker container of the other host', async () => {
    const { h } = ctrOf(0);
    const name = `${h.ns}-cni`;
    await h.run(['ip', 'netns', 'add', name]);
    try {
      const conf = { cniVersion: '1.0.0', name: 'ovc', type: 'ctrnet-cni', socket: `unix://${h.socket}`, network: 'ov' };
      const r = await cni(h, { command: 'ADD', conf, containerId: 'ovc1', netns: `/run/netns/${name}`, ifName: 'eth0' });
      assert.equal(r.code, 0, r.stdout);
      const ifs = (r.json!.interfaces as { name: string; sandbox?: string }[]).filter((i) => i.sandbox).map((i) => i.name);
      assert.deepEqual(ifs, ['eth0', 'eth0gw'], 'the overlay, and the way out on the gateway bridge');
      assert.equal((await h.exec(['ip', 'netns', 'exec', name, 'ping', '-c1', '-W2', ips[1]])).code, 0);
      assert.equal((await cni(h, { command: 'DEL', conf, containerId: 'ovc1', netns: `/run/netns/${name}`, ifName: 'eth0' })).code, 0);
    } finally {
      await h.exec(['ip', 'netns', 'del', name]);
    }
  });

  it('ctrnet sees the Docker containers: network inspect, topology and explain on both hosts', async () => {
    for (const [i, { h }] of hosts.entries()) {
      const n = JSON.parse(await h.ctl(['network', 'inspect', 'ov']))[0];
      assert.deepEqual(Object.values(n.Containers as Record<string, { IPv4Address: string }>).map((c) => c.IPv4Address), [`${ips[i]}/24`]);
      const topo = JSON.parse(await h.ctl(['topology', '--format', 'json']));
      const net = topo.networks.find((x: { name: string }) => x.name === 'ov');
      assert.deepEqual(net.remoteHosts.map((r: { containers: { ip: string }[] }) => r.containers.map((c) => c.ip)).flat(), [ips[1 - i]]);
      const ext = topo.containers.find((c: { external?: string }) => c.external === 'docker');
      const x = JSON.parse(await h.ctl(['explain', '--json', ext.id]));
      assert.deepEqual(x.mismatches, []);
      assert.ok(x.interfaces.some((f: { name: string; addresses: string[] }) => f.addresses.includes(`${ips[i]}/24`) && f.name.startsWith('eth')), JSON.stringify(x.interfaces));
    }
  });

  it('says so when iptables\' FORWARD policy is DROP (dockerd\'s), which stops bridged traffic', async () => {
    const { h, dk } = ctrOf(0);
    await h.run(['iptables', '-P', 'FORWARD', 'DROP']);
    try {
      const ext = JSON.parse(await h.ctl(['topology', '--format', 'json'])).containers.find((c: { external?: string }) => c.external === 'docker');
      const r = await h.cli(['explain', '--json', ext.id]);
      assert.equal(r.code, 3, 'explain exits 3 on a mismatch');
      const x = JSON.parse(r.stdout);
      assert.ok(x.mismatches.some((m: string) => /FORWARD policy is DROP.*iptables -P FORWARD ACCEPT/.test(m)), JSON.stringify(x.mismatches));
      assert.notEqual((await dk.docker(['exec', 'w0', 'ping', '-c1', '-W1', ips[1]])).code, 0, 'the policy does drop it');
    } finally {
      await h.run(['iptables', '-P', 'FORWARD', 'ACCEPT']);
    }
  });

  it('docker rm and docker network rm leave nothing on either host', async () => {
    for (const [i, { dk }] of hosts.entries()) await dk.must(['rm', '-f', `w${i}`]);
    for (const { dk } of hosts) await dk.must(['network', 'rm', 'ov']);
    const seq = calls(ctrOf(0).h);
    const tail = seq.slice(seq.lastIndexOf('NetworkDriver.Leave'));
    assert.deepEqual(tail.filter((c) => /Leave|DeleteEndpoint|ReleaseAddress|ReleasePool|DeleteNetwork/.test(c)), [
      'NetworkDriver.Leave', 'NetworkDriver.DeleteEndpoint', 'IpamDriver.ReleaseAddress', 'IpamDriver.ReleaseAddress', 'IpamDriver.ReleasePool', 'NetworkDriver.DeleteNetwork',
    ]);
    for (const { h } of hosts) {
      await until(async () => !(await h.ctl(['network', 'ls'])).includes(' ov '), 5000, `ov gone on ${h.ns}`);
      const links = (await h.run(['ip', '-o', 'link', 'show'])).split('\n').map((l) => l.split(':')[1]?.trim().split('@')[0]).filter(Boolean);
      assert.deepEqual(links.filter((l) => /^(ov-|vx-|veth|ceth)/.test(l)), [], `links left on ${h.ns}`);
      assert.deepEqual((await clientOf(`unix://${h.socket}`)('GET', '/ctrnet/attachments')).body, [], 'no attachment or lease left');
    }
  });
});

/**
 * Overlay networks and IPv6: an underlay "switch" (test host sw, bridge sw0: 10.221.0.254 and
 * fd00:221::fe) with two test hosts on it (10.221.0.1-2, fd00:221::1-2, MTU 1500), a real etcd on
 * the switch, a ctrnetd on each host advertising its IPv6 address: VXLAN runs over IPv6. A
 * dual-stack overlay carries IPv4 and IPv6 between containers of both hosts, with the IPv6
 * neighbour entries programmed from etcd; an IPv6-only overlay too.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabEtcd, LabHost, plugIntoSwitch } from '../../scripts/lab';
import { assertNoLeftovers, until } from './_util';

let sw: LabHost;
const hosts: LabHost[] = [];
let etcd: LabEtcd;

const underlay6 = (i: number) => `fd00:221::${i + 1}`;
const on = async (h: LabHost, ctr: string, net: string): Promise<Record<string, string>> => JSON.parse(await h.ctl(['inspect', ctr]))[0].NetworkSettings.Networks[net];
const pings = async (h: LabHost, ctr: string, ...args: string[]) => (await h.cli(['exec', ctr, 'ping', '-c1', '-W2', ...args])).code === 0;

before(async () => {
  sw = await LabHost.create('sw6', { ipv6: true });
  for (let i = 0; i < 2; i++) {
    const h = await LabHost.create(`o6${i + 1}`, { ipv6: true });
    hosts.push(h);
    await plugIntoSwitch(sw, h, `10.221.0.${i + 1}`, '10.221.0.254', 1500, { ip: underlay6(i), sw: 'fd00:221::fe' });
  }
  etcd = new LabEtcd(sw, '10.221.0.254');
  await etcd.start();
  for (const [i, h] of hosts.entries()) await h.startDaemon(['--cluster-store', 'etcd://10.221.0.254:2379', '--advertise-addr', underlay6(i), '--cluster-lease-ttl', '4']);
});

after(async () => {
  for (const h of hosts) await h.destroy();
  await etcd?.stop();
  await sw?.destroy();
  assertNoLeftovers([sw, ...hosts].filter(Boolean));
});

describe('overlay networks with IPv6', () => {
  it('VXLAN over an IPv6 underlay: the device\'s local end is the IPv6 advertise address, the MTU the underlay\'s minus 70', async () => {
    const [h1, h2] = hosts;
    await h1.ctl(['network', 'create', '-d', 'overlay', '--ipv6', '--subnet', '10.0.21.0/24', '--subnet', 'fd00:21::/64', 'ov6']);
    const net = JSON.parse(await h2.ctl(['network', 'inspect', 'ov6']))[0];
    assert.deepEqual([net.EnableIPv6, net.IPAM.Config.map((c: { Subnet: string }) => c.Subnet)], [true, ['10.0.21.0/24', 'fd00:21::/64']], 'the other host mirrors it from etcd');
    await h1.ctl(['run', '-d', '--name', 'x1', '--network', 'ov6', 'busybox', 'sleep', '600']);
    await h2.ctl(['run', '-d', '--name', 'x2', '--network', 'ov6', 'busybox', 'sleep', '600']);
    const vx = `vx-${net.Id.slice(0, 12)}`;
    const [link] = JSON.parse(await h1.run(['ip', '-j', '-d', 'link', 'show', vx])) as { linkinfo: { info_data: { local6?: string } } }[];
    assert.equal(link.linkinfo.info_data.local6, underlay6(0));
    assert.match(await h1.ctl(['exec', 'x1', 'ip', 'link', 'show', 'eth0']), /mtu 1430/);
  });

  it('containers on two hosts reach each other over IPv6 (by name) and IPv4 inside the overlay; the IPv6 neighbour entries come from etcd', async () => {
    const [h1, h2] = hosts;
    const x1 = await on(h1, 'x1', 'ov6');
    const x2 = await on(h2, 'x2', 'ov6');
    assert.match(x1.GlobalIPv6Address, /^fd00:21::/);
    assert.notEqual(x1.GlobalIPv6Address, x2.GlobalIPv6Address, 'addresses are leased cluster-wide');
    const vx = `vx-${(await h1.ctl(['network', 'inspect', '-f', '{{.Id}}', 'ov6'])).trim().slice(0, 12)}`;
    await until(async () => (await h1.run(['ip', '-6', 'neigh', 'show', 'dev', vx])).includes(`${x2.GlobalIPv6Address} lladdr ${x2.MacAddress}`), 10_000, 'IPv6 neighbour entry of x2 on host 1');
    assert.match(await h1.run(['bridge', 'fdb', 'show', 'dev', vx]), new RegExp(`${x2.MacAddress} dst ${underlay6(1)}`), 'frames for x2 go to host 2 over IPv6');
    assert.ok(await pings(h1, 'x1', '-6', 'x2'), 'IPv6 by name across hosts');
    assert.ok(await pings(h2, 'x2', '-6', x1.GlobalIPv6Address));
    assert.ok(await pings(h1, 'x1', x2.IPAddress), 'IPv4 inside the same overlay');
    assert.match(await h1.ctl(['exec', 'x1', 'nslookup', '-type=aaaa', 'x2']), new RegExp(`Address: ${x2.GlobalIPv6Address}`));
    const explain = await h1.ctl(['explain', 'x1']);
    assert.match(explain, new RegExp(`remote ${x2.IPAddress} \\(${x2.MacAddress}\\) is reached through host ${underlay6(1)}`));
  });

  it('an IPv6-only overlay: addresses, names and neighbours over IPv6 alone; removing the containers withdraws them everywhere', async () => {
    const [h1, h2] = hosts;
    await h2.ctl(['network', 'create', '-d', 'overlay', '--ipv6', '--ipv4=false', '--subnet', 'fd00:22::/64', 'ov6only']);
    await h1.ctl(['run', '-d', '--name', 'y1', '--network', 'ov6only', 'busybox', 'sleep', '600']);
    await h2.ctl(['run', '-d', '--name', 'y2', '--network', 'ov6only', 'busybox', 'sleep', '600']);
    const y2 = await on(h2, 'y2', 'ov6only');
    assert.deepEqual([y2.IPAddress, y2.GlobalIPv6Address.startsWith('fd00:22::')], ['', true]);
    await until(async () => pings(h1, 'y1', 'y2'), 10_000, 'y1 reaches y2 by name over IPv6');
    const vx = `vx-${(await h1.ctl(['network', 'inspect', '-f', '{{.Id}}', 'ov6only'])).trim().slice(0, 12)}`;
    await h2.ctl(['rm', '-f', 'y2']);
    await until(async () => !(await h1.run(['ip', '-6', 'neigh', 'show', 'dev', vx])).includes(y2.GlobalIPv6Address), 10_000, 'y2\'s neighbour entry withdrawn on host 1');
    await h1.ctl(['rm', '-f', 'y1', 'x1']);
    await h2.ctl(['rm', '-f', 'x2']);
    await h1.ctl(['network', 'rm', 'ov6only', 'ov6']);
  });
});

/**
 * The fast path between endpoints of one bridge network (kernel/fast-path.ts, native/fastpath/):
 * it carries traffic between containers of a network, and it keeps every rule of the path it
 * bypasses: forged source MACs and addresses are still dropped (and counted) by the anti-spoofing
 * chain, networks stay apart, a network with inter-container traffic off never gets it, and a
 * restarted daemon puts it back. The program's own verdicts are checked frame by frame with the
 * kernel's test run (no frame sent). Test host "fp" runs ctrnetd; "fpp" holds only veths.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { LabHost, must } from '../../scripts/lab';
import { KernelHelper } from '../../src/kernel/helper';
import { FASTPATH_BIN } from '../../src/kernel/fast-path';
import { assertNoLeftovers, until } from './_util';

let a: LabHost;
let p: LabHost;

before(async () => {
  a = await LabHost.create('fp');
  p = await LabHost.create('fpp');
  await a.startDaemon();
  // The attacker's image: busybox and a program that sends forged frames (test/helpers/spoof.c).
  const root = `${a.dir}/attacker`;
  mkdirSync(`${root}/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(`${root}/${d}`);
  copyFileSync('/bin/busybox', `${root}/bin/busybox`);
  for (const l of ['sh', 'sleep', 'ping']) symlinkSync('busybox', `${root}/bin/${l}`);
  await must(['gcc', '-static', '-O2', '-o', `${root}/spoof`, path.resolve(__dirname, '../../../test/helpers/spoof.c')]);
  await must(['tar', '-C', root, '-cf', `${a.dir}/attacker.tar`, '.']);
  await a.ctl(['image', 'import', `${a.dir}/attacker.tar`, 'attacker:1']);
});

after(async () => {
  await a?.destroy();
  await p?.destroy();
  assertNoLeftovers([a, p].filter(Boolean));
});

const inspect = async (name: string, fmt: string) => (await a.ctl(['inspect', '-f', fmt, name])).trim();
/** The host end of a container's eth0 (its peer), from the kernel. */
async function hostIf(name: string): Promise<string> {
  const key = await inspect(name, '{{.NetworkSettings.SandboxKey}}');
  const idx = JSON.parse(await must(['nsenter', `--net=${key}`, 'ip', '-j', 'link', 'show', 'eth0']))[0].link_index as number;
  return (JSON.parse(await a.run(['ip', '-j', 'link', 'show'])) as { ifindex: number; ifname: string }[]).find((l) => l.ifindex === idx)!.ifname;
}
/** A container's settings on one network, from inspect. */
async function onNet(name: string, net: string): Promise<{ IPAddress: string; MacAddress: string }> {
  return (JSON.parse(await a.ctl(['inspect', name])) as { NetworkSettings: { Networks: Record<string, { IPAddress: string; MacAddress: string }> } }[])[0].NetworkSettings.Networks[net];
}
const filters = async (dev: string) => a.run(['tc', 'filter', 'show', 'dev', dev, 'ingress']);
/** UDP datagrams that arrived at a closed port in a container (the spoof tool sends to port 9). */
async function noPorts(name: string): Promise<number> {
  const snmp = await must(['nsenter', `--net=${await inspect(name, '{{.NetworkSettings.SandboxKey}}')}`, 'cat', '/proc/net/snmp']);
  const [head, vals] = snmp.split('\n').filter((l) => l.startsWith('Udp:'));
  return Number(vals.split(/\s+/)[head.split(/\s+/).indexOf('NoPorts')]);
}
const redirected = async (name: string) => (JSON.parse(await a.ctl(['explain', '--json', name])) as { fastPath?: { redirected: number } }).fastPath?.redirected ?? -1;
const counter = async (comment: string) => {
  const t = await a.run(['nft', 'list', 'table', 'bridge', 'ctrnet']);
  return Number(new RegExp(`counter packets (\\d+) bytes \\d+ drop comment "${comment}"`).exec(t)?.[1] ?? NaN);
};

describe('fast path between containers of one network', () => {
  it('puts the program on every host veth of the network; traffic between the containers goes through it, and explain says so', async () => {
    await a.ctl(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '600']);
    await a.ctl(['run', '-d', '--name', 'attacker', 'attacker:1', 'sleep', '600']);
    for (const c of ['victim', 'attacker']) assert.match(await filters(await hostIf(c)), /ctrnet_fastpath.*direct-action/);
    const before = await redirected('victim');
    const vip = await inspect('victim', '{{.NetworkSettings.IPAddress}}');
    assert.match(await a.ctl(['exec', 'attacker', 'ping', '-c3', '-W2', vip]), /3 packets received/);
    assert.ok((await redirected('victim')) >= before + 6, 'three requests and three replies took the fast path');
    const text = await a.ctl(['explain', 'victim']);
    assert.match(text, /Fast path: IPv4 frames from veth\w+ .*bpf_redirect_peer/);
    assert.match(text, /Kernel and state agree/);
  });

  it('a forged source address or MAC is not fast-pathed: the anti-spoofing chain drops and counts it, the victim gets nothing', async () => {
    const vip = await inspect('victim', '{{.NetworkSettings.IPAddress}}');
    const vmac = await inspect('victim', '{{.NetworkSettings.MacAddress}}');
    const aip = await inspect('attacker', '{{.NetworkSettings.IPAddress}}');
    // The control: the attacker's own MAC and address reach the victim (through the fast path).
    let n0 = await noPorts('victim');
    let r0 = await redirected('victim');
    assert.match(await a.ctl(['exec', 'attacker', '/spoof', 'eth0', '-', aip, vmac, vip, '10']), /sent 10 frames/);
    await until(async () => (await noPorts('victim')) >= n0 + 10, 5000, 'the genuine datagrams arrive');
    assert.ok((await redirected('victim')) >= r0 + 10);
    // A neighbour's address (the victim would take it: same subnet, same link).
    const forged = vip.replace(/\.\d+$/, '.250');
    const ipDrops = await counter('spoofed source address');
    const macDrops = await counter('spoofed MAC');
    n0 = await noPorts('victim');
    r0 = await redirected('victim');
    await a.ctl(['exec', 'attacker', '/spoof', 'eth0', '-', forged, vmac, vip, '10']);
    await a.ctl(['exec', 'attacker', '/spoof', 'eth0', '02:42:ac:11:00:fa', aip, vmac, vip, '10']);
    await until(async () => (await counter('spoofed source address')) >= ipDrops + 10 && (await counter('spoofed MAC')) >= macDrops + 10, 5000, 'the forged frames are counted as dropped');
    assert.equal(await noPorts('victim'), n0, 'no forged datagram arrived');
    assert.ok((await redirected('victim')) < r0 + 10, 'the forged frames did not take the fast path');
  });

  it('networks stay apart: a frame to a container of another network is not delivered', async () => {
    await a.ctl(['network', 'create', '--subnet', '10.221.0.0/24', 'other']);
    await a.ctl(['run', '-d', '--name', 'far', '--network', 'other', 'busybox', 'sleep', '600']);
    const { IPAddress: fip, MacAddress: fmac } = await onNet('far', 'other');
    const aip = await inspect('attacker', '{{.NetworkSettings.IPAddress}}');
    const n0 = await noPorts('far');
    await a.ctl(['exec', 'attacker', '/spoof', 'eth0', '-', aip, fmac, fip, '10']);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await noPorts('far'), n0);
    await a.ctl(['rm', '-f', 'far']);
    await a.ctl(['network', 'rm', 'other']);
  });

  it('a network with inter-container traffic off gets no fast path, and its containers stay apart', async () => {
    await a.ctl(['network', 'create', '-o', 'com.docker.network.bridge.enable_icc=false', 'isol']);
    await a.ctl(['run', '-d', '--name', 'i1', '--network', 'isol', 'busybox', 'sleep', '600']);
    await a.ctl(['run', '-d', '--name', 'i2', '--network', 'isol', 'busybox', 'sleep', '600']);
    for (const c of ['i1', 'i2']) assert.doesNotMatch(await filters(await hostIf(c)), /ctrnet_fastpath/);
    const ip2 = (await onNet('i2', 'isol')).IPAddress;
    assert.notEqual((await a.cli(['exec', 'i1', 'ping', '-c1', '-W1', ip2])).code, 0);
    assert.match(await a.ctl(['explain', 'i1']), /Kernel and state agree/);
    await a.ctl(['rm', '-f', 'i1', 'i2']);
    await a.ctl(['network', 'rm', 'isol']);
  });

  it('a restarted daemon puts the program back with its new maps; rm takes it off', async () => {
    const dev = await hostIf('victim');
    const id = (s: string) => /\bid (\d+)/.exec(s)?.[1];
    const old = id(await filters(dev));
    const vip = await inspect('victim', '{{.NetworkSettings.IPAddress}}');
    await a.stopDaemon();
    // Meanwhile the old program goes on with the old maps (they still describe these endpoints).
    await a.startDaemon();
    await until(async () => { const now = id(await filters(dev)); return !!now && now !== old; }, 10_000, 'the new program on the victim veth');
    assert.match(await a.ctl(['exec', 'attacker', 'ping', '-c2', '-W2', vip]), /2 packets received/);
    assert.ok((await redirected('victim')) >= 4);
    assert.match(await a.ctl(['explain', 'victim']), /Kernel and state agree/);
    await a.ctl(['rm', '-f', 'victim', 'attacker']);
  });
});

describe('namespace files', () => {
  it('are kept on a tmpfs of the daemon\'s own, which a restart keeps (running containers keep their namespaces)', async () => {
    assert.equal((await must(['stat', '-f', '-c', '%T', `${a.execRoot}/netns`])).trim(), 'tmpfs');
  });
});

describe('the fast-path program, frame by frame (kernel test run, nothing sent)', () => {
  it('redirects only a sender\'s own IPv4 frame to another endpoint of its network', async () => {
    for (const [h, peer] of [['va', 'pa'], ['vb', 'pb'], ['vc', 'pc']]) await p.run(['ip', 'link', 'add', h, 'type', 'veth', 'peer', 'name', peer]);
    const helper = new KernelHelper(FASTPATH_BIN, ['nsenter', `--net=${p.netnsPath}`]);
    try {
      const A = { mac: '02:42:0a:00:00:02', ip: '10.0.0.2' };
      const B = { mac: '02:42:0a:00:00:03', ip: '10.0.0.3' };
      const C = { mac: '02:42:0a:00:01:02', ip: '10.0.1.2' };
      await helper.request(`add va ${A.mac} ${A.ip} 1`);
      await helper.request(`add vb ${B.mac} ${B.ip} 1`);
      await helper.request(`add vc ${C.mac} ${C.ip} 2`);
      const index = async (dev: string) => JSON.parse(await p.run(['ip', '-j', 'link', 'show', dev]))[0].ifindex as number;
      const va = await index('va');
      const vc = await index('vc');
      const verdict = async (ifindex: number, hex: string) => Number(/verdict=(\d+)/.exec((await helper.query(`probe ${ifindex} ${hex}`))[0])![1]);
      const REDIRECT = 7;
      const PASS = 0;
      const cases: [string, number, string, number][] = [
        ['its own frame to a neighbour', va, frame(B.mac, A.mac, '0800', A.ip, B.ip), REDIRECT],
        ['a forged source address', va, frame(B.mac, A.mac, '0800', '10.0.0.99', B.ip), PASS],
        ['a forged source MAC', va, frame(B.mac, '02:42:0a:00:00:99', '0800', A.ip, B.ip), PASS],
        ['another endpoint\'s MAC and address', va, frame(B.mac, B.mac, '0800', B.ip, B.ip), PASS],
        ['ARP', va, frame('ff:ff:ff:ff:ff:ff', A.mac, '0806'), PASS],
        ['IPv6', va, frame(B.mac, A.mac, '86dd'), PASS],
        ['a broadcast', va, frame('ff:ff:ff:ff:ff:ff', A.mac, '0800', A.ip, '10.0.0.255'), PASS],
        ['to the gateway (no endpoint)', va, frame('02:42:0a:00:00:01', A.mac, '0800', A.ip, '8.8.8.8'), PASS],
        ['to itself', va, frame(A.mac, A.mac, '0800', A.ip, A.ip), PASS],
        ['to an endpoint of another network', vc, frame(B.mac, C.mac, '0800', C.ip, B.ip), PASS],
        ['from an interface that is no endpoint', 999_999, frame(B.mac, A.mac, '0800', A.ip, B.ip), PASS],
      ];
      for (const [what, ifx, hex, want] of cases) assert.equal(await verdict(ifx, hex), want, what);
      // An overlay endpoint D (network 3) whose frames to other hosts go to a VXLAN device (vt
      // stands in for it: the program sees only ifindexes), and that device's own entry.
      await p.run(['ip', 'link', 'add', 'vd', 'type', 'veth', 'peer', 'name', 'pd']);
      await p.run(['ip', 'link', 'add', 'vt', 'type', 'veth', 'peer', 'name', 'pt']);
      const D = { mac: '02:42:0a:00:03:02', ip: '10.0.3.2' };
      const remote = '02:42:0a:00:03:09';
      await helper.request(`add vd ${D.mac} ${D.ip} 3 vt`);
      await helper.request('tunnel vt 3');
      const vd = await index('vd');
      const vt = await index('vt');
      const overlay: [string, number, string, number][] = [
        ['an overlay endpoint\'s own frame to a remote container', vd, frame(remote, D.mac, '0800', D.ip, '10.0.3.9'), REDIRECT],
        ['an overlay endpoint\'s broadcast', vd, frame('ff:ff:ff:ff:ff:ff', D.mac, '0800', D.ip, '10.0.3.255'), PASS],
        ['an overlay endpoint\'s forged source address to a remote container', vd, frame(remote, D.mac, '0800', '10.0.3.99', '10.0.3.9'), PASS],
        ['an overlay endpoint\'s forged source MAC to a remote container', vd, frame(remote, '02:42:0a:00:03:99', '0800', D.ip, '10.0.3.9'), PASS],
        ['a bridge endpoint\'s frame to an unknown MAC (no VXLAN device)', va, frame(remote, A.mac, '0800', A.ip, '10.0.3.9'), PASS],
        ['from the VXLAN device to its network\'s local endpoint', vt, frame(D.mac, remote, '0800', '10.0.3.9', D.ip), REDIRECT],
        ['from the VXLAN device to an endpoint of another network', vt, frame(A.mac, remote, '0800', '10.0.3.9', A.ip), PASS],
        ['from the VXLAN device to an unknown MAC (not back out)', vt, frame('02:42:0a:00:03:77', remote, '0800', '10.0.3.9', '10.0.3.7'), PASS],
      ];
      for (const [what, ifx, hex, want] of overlay) assert.equal(await verdict(ifx, hex), want, what);
      assert.match(await p.run(['tc', 'filter', 'show', 'dev', 'vt', 'ingress']), /ctrnet_fastpath/);
      await helper.request('del vt');
      assert.equal(await verdict(vt, overlay[5][2]), PASS, 'after del of the VXLAN device');
      // Off the maps: the same frame is passed to the bridge.
      await helper.request('del vb');
      assert.equal(await verdict(va, cases[0][2]), PASS, 'after del of the receiver');
      assert.match(await p.run(['tc', 'filter', 'show', 'dev', 'va', 'ingress']), /ctrnet_fastpath/);
      assert.doesNotMatch(await p.run(['tc', 'filter', 'show', 'dev', 'vb', 'ingress']), /ctrnet_fastpath/);
    } finally {
      helper.stop();
    }
  });
});

/** An Ethernet frame in hex: dst, src, type, and for IPv4 a 20-byte header (+ 8 bytes of UDP). */
function frame(dst: string, src: string, type: string, srcIp = '0.0.0.0', dstIp = '0.0.0.0'): string {
  const mac = (m: string) => m.replace(/:/g, '');
  const ip = (a: string) => a.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('');
  // IPv4 + UDP; IPv6 + UDP (fe80::1 → fe80::2); ARP
  const body =
    type === '0800' ? `4500001c000000004011 0000${ip(srcIp)}${ip(dstIp)}9c400009000800 00`
    : type === '86dd' ? `60000000 0008 11 40 fe80${'0'.repeat(27)}1 fe80${'0'.repeat(27)}2 9c40000900080000`
    : '0001080006040001'.padEnd(56, '0');
  return `${mac(dst)}${mac(src)}${type}${body.replace(/\s/g, '')}`;
}

/**
 * The kernel contract on real namespaces: ctrnet-kernel (the daemon's fast path) makes exactly
 * what the iproute2 reference adapter makes, reads back exactly what iproute2 reads, reports
 * failures with the kernel's errno, survives malformed requests, keeps the namespace it runs in,
 * applies nft scripts atomically, and comes back after it died. FakeKernel runs the same
 * operations and must report, through the same read methods, what both real adapters report,
 * failures included: the fake cannot drift from the kernel.
 * Every helper runs inside a test host (nsenter), so nothing touches the root namespace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { LabHost, must } from '../../scripts/lab';
import { KERNEL_HELPER_BIN, KernelHelper } from '../../src/kernel/helper';
import { IpKernel } from '../../src/kernel/ip-kernel';
import { NativeKernel } from '../../src/kernel/native-kernel';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { Family, Kernel, KernelError, LinkInfo } from '../../src/kernel/kernel';
import { nativeNft } from '../../src/firewall/nft/nft-native';
import { assertNoLeftovers, until } from './_util';

let a: LabHost;
let b: LabHost;
let helperA: KernelHelper;

before(async () => {
  a = await LabHost.create('kern');
  b = await LabHost.create('kern');
  helperA = new KernelHelper(undefined, ['nsenter', `--net=${a.netnsPath}`]);
});

after(async () => {
  helperA?.stop();
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

/** A FakeKernel machine that starts as a test host does (LabHost.create: IPv6 off, lo up). */
async function fakeHost(missingKinds: string[] = []): Promise<FakeKernel> {
  const f = new FakeKernel({ missingKinds });
  await f.sysctlSet('net.ipv6.conf.all.disable_ipv6', '1');
  await f.sysctlSet('net.ipv6.conf.default.disable_ipv6', '1');
  return f;
}

/** One of everything a Batch can do, in the namespace of `k`, with a sandbox at `sb`. */
async function build(k: Kernel, sb: string): Promise<void> {
  await k.netnsAdd(sb);
  await k.batch().linkAddBridge('kbr0', { mtu: 1450, mac: '02:42:0a:3c:00:01' }).addrReplace('kbr0', '10.60.0.1/24').linkSetUp('kbr0').commit();
  // IPv6 on the bridge alone (no link-local address: addr_gen_mode 1)
  await k.sysctlSet('net.ipv6.conf.kbr0.addr_gen_mode', '1');
  await k.sysctlSet('net.ipv6.conf.kbr0.disable_ipv6', '0');
  await k.batch().addrReplace('kbr0', 'fd00:60::1/64').routeReplace('fd00:63::/64', { via: 'fd00:60::fe' }).neighReplace('kbr0', 'fd00:60::9', '02:42:0a:3c:00:09').commit();
  await k
    .batch()
    .linkAddVeth('vethk1', 'eth0', { mtu: 1450, peerNetns: sb, peerMac: '02:42:0a:3c:00:02', singleQueue: true })
    .linkSetMaster('vethk1', 'kbr0')
    .linkSetIsolated('vethk1')
    .linkSetUp('vethk1')
    .linkAddVxlan('kvx0', { vni: 4242, local: '10.61.0.1', port: 4789, mtu: 1400 })
    .linkSetUp('kvx0')
    .neighReplace('kvx0', '10.62.0.9', '02:42:0a:3e:00:09')
    .fdbReplace('kvx0', '02:42:0a:3e:00:09', '10.61.0.9')
    .fdbReplace('kvx0', '02:42:0a:3e:00:0a', '10.61.0.10')
    .routeReplace('10.63.0.0/16', { via: '10.60.0.254', dev: 'kbr0' })
    .commit();
  await k.batch().fdbDel('kvx0', '02:42:0a:3e:00:0a').commit();
  await k.at(sb).batch().linkSetUp('lo').addrReplace('eth0', '10.60.0.2/24').linkSetUp('eth0').routeReplace('default', { via: '10.60.0.1', dev: 'eth0' }).commit();
  await k.at(sb).sysctlSet('net.ipv4.ip_forward', '1');
}

/** What `ip`/`bridge` show of a namespace, without what differs by chance (indexes, random MACs). */
async function state(h: LabHost, sb: string): Promise<string> {
  const j = async (argv: string[]) => JSON.parse((await must(argv)) || '[]') as Record<string, unknown>[];
  const inHost = (argv: string[]) => ['nsenter', `--net=${h.netnsPath}`, ...argv];
  const links = (await j(inHost(['ip', '-j', '-d', 'link', 'show']))).map((l) => {
    const info = l.linkinfo as { info_kind?: string; info_data?: Record<string, unknown>; info_slave_data?: Record<string, unknown> } | undefined;
    const data = info?.info_data ?? {};
    return [l.ifname, l.mtu, l.ifname === 'vethk1' || l.ifname === 'kvx0' ? '' : l.address, info?.info_kind, l.master, (l.flags as string[]).includes('UP'), l.num_tx_queues, data.id, data.local, data.port, data.learning, data.proxy, info?.info_slave_data?.isolated].join(' ');
  });
  const addrs = (await j(inHost(['ip', '-j', '-4', 'addr', 'show']))).map((l) => `${l.ifname} ${JSON.stringify((l.addr_info as { local: string; prefixlen: number }[]).map((x) => `${x.local}/${x.prefixlen}`))}`);
  // Without the flags: "linkdown" follows the bridge's carrier, which the kernel settles in the
  // background (linkwatch), whichever adapter made the links.
  const routes = (await j(inHost(['ip', '-j', '-4', 'route', 'show']))).map(({ flags: _flags, ...r }) => JSON.stringify(r));
  const neigh = (await j(inHost(['ip', '-j', '-4', 'neigh', 'show', 'dev', 'kvx0']))).map((r) => JSON.stringify(r));
  const fdb = (await j(inHost(['bridge', '-j', 'fdb', 'show', 'dev', 'kvx0']))).filter((r) => r.dst).map((r) => JSON.stringify(r));
  const inSb = (argv: string[]) => ['nsenter', `--net=${sb}`, ...argv];
  const sbLinks = (await j(inSb(['ip', '-j', 'link', 'show']))).map((l) => `${l.ifname} ${l.mtu} ${l.address} ${(l.flags as string[]).includes('UP')}`);
  const sbAddrs = (await j(inSb(['ip', '-j', 'addr', 'show']))).map((l) => `${l.ifname} ${JSON.stringify(l.addr_info)}`);
  const sbRoutes = (await j(inSb(['ip', '-j', '-4', 'route', 'show']))).map((r) => JSON.stringify(r));
  const sysctls = (await must(inSb(['sysctl', '-n', 'net.ipv4.ip_forward', 'net.ipv6.conf.all.disable_ipv6', 'net.ipv6.conf.default.disable_ipv6']))).trim();
  // IPv6 without what follows timing (DAD's "tentative", lifetimes, route flags)
  const addrs6 = (await j(inHost(['ip', '-j', '-6', 'addr', 'show']))).map((l) => `${l.ifname} ${JSON.stringify(((l.addr_info ?? []) as { local: string; prefixlen: number }[]).map((x) => `${x.local}/${x.prefixlen}`))}`);
  const routes6 = (await j(inHost(['ip', '-j', '-6', 'route', 'show']))).map(({ flags: _flags, ...r }) => JSON.stringify(r));
  const neigh6 = (await j(inHost(['ip', '-j', '-6', 'neigh', 'show', 'dev', 'kbr0']))).map((r) => JSON.stringify(r));
  return [...links, ...addrs, ...routes, ...neigh, ...fdb, ...addrs6, ...routes6, ...neigh6, ...sbLinks, ...sbAddrs, ...sbRoutes, sysctls].join('\n');
}

/**
 * Links as a read reports them, without indexes, and without the MACs the kernel chose at random;
 * but a bridge's MAC says whether it is its ports' lowest (the kernel's rule when none was given).
 */
function normLinks(ls: LinkInfo[]): Omit<LinkInfo, 'index'>[] {
  const given = (mac: string) => mac === '00:00:00:00:00:00' || mac.startsWith('02:42:');
  const lowestPort = (br: string) => ls.filter((x) => x.master === br).map((x) => x.mac).sort()[0];
  const mac = (l: LinkInfo) => (given(l.mac) ? l.mac : l.kind === 'bridge' && l.mac === lowestPort(l.name) ? '(its lowest port\'s)' : '(random)');
  return ls.map(({ index: _index, ...l }) => ({ ...l, mac: mac({ index: _index, ...l }) }));
}
/** Neighbours and FDB entries come in hash order from the kernel: compared as sets. */
const sorted = <T>(xs: T[]): T[] => [...xs].sort((x, y) => (JSON.stringify(x) < JSON.stringify(y) ? -1 : 1));

interface Devs {
  neigh: [string, Family][];
  fdb: string[];
}
/** Everything the Kernel read methods report of one namespace; `exact`: as reported, else normalised. */
async function reads(k: Kernel, devs: Devs, exact = false): Promise<unknown> {
  const set = exact ? <T>(xs: T[]) => xs : sorted;
  const links = await k.linkList();
  return {
    links: exact ? links : normLinks(links),
    addrs: [await k.addrList(), await k.addrList(6)],
    routes: [await k.routeList(), await k.routeList(6)],
    neigh: await Promise.all(devs.neigh.map(async ([d, f]) => [d, f, set(await k.neighList(d, f))])),
    fdb: await Promise.all(devs.fdb.map(async (d) => [d, set(await k.fdbList(d))])),
  };
}

/** Link names in test host a (the helper runs there; this process does not). */
const linksOfA = async (): Promise<string[]> => (JSON.parse(await a.run(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

/** Operations that fail, each with the errno the kernel gives (after the setup in the test). */
const FAILURES: [string, (k: Kernel, sb: string) => Promise<unknown>, string][] = [
  ['a second link of a name', (k) => k.batch().linkAddBridge('kf0').commit(), 'EEXIST'],
  ['a veth whose peer name is taken', (k) => k.batch().linkAddVeth('kfv1', 'kf0', { mtu: 1500 }).commit(), 'EEXIST'],
  ['a VNI taken on the port', (k) => k.batch().linkAddVxlan('kfx1', { vni: 77, local: '10.70.0.2', port: 4789, mtu: 1450 }).commit(), 'EEXIST'],
  ['a namespace file that exists', (k, sb) => k.netnsAdd(sb), 'EEXIST'],
  ['a missing device', (k) => k.batch().linkSetUp('nosuch0').commit(), 'ENOENT'],
  ['a missing master', (k) => k.batch().linkSetMaster('kfv0', 'nosuch0').commit(), 'ENOENT'],
  ['a missing namespace', (k) => k.at('/nonexistent/ns').batch().linkSetUp('lo').commit(), 'ENOENT'],
  ['a read in a missing namespace', (k) => k.at('/nonexistent/ns').linkList(), 'ENOENT'],
  ['a veth peer into a missing namespace', (k) => k.batch().linkAddVeth('kfv9', 'kfp9', { mtu: 1500, peerNetns: '/nonexistent/ns' }).commit(), 'ENOENT'],
  ['neighbours of a missing device', (k) => k.neighList('nosuch0'), 'ENOENT'],
  ['FDB entries of a missing device', (k) => k.fdbList('nosuch0'), 'ENOENT'],
  ['a route without device or gateway', (k) => k.batch().routeReplace('10.71.0.0/16', {}).commit(), 'ENOENT'],
  ['deleting a neighbour that is not there', (k) => k.batch().neighDel('kf0', '10.70.0.99').commit(), 'ENOENT'],
  ['deleting an FDB entry that is not there', (k) => k.batch().fdbDel('kfx0', '02:42:0a:46:00:99').commit(), 'ENOENT'],
  ['a sysctl of a missing link', (k) => k.sysctlSet('net.ipv4.conf.nosuch0.forwarding', '1'), 'ENOENT'],
  ['isolating a link in no bridge', (k) => k.batch().linkSetIsolated('kfv0').commit(), 'EOPNOTSUPP'],
  ['a veth as a master', (k) => k.batch().linkSetMaster('kfp0', 'kfv0').commit(), 'EOPNOTSUPP'],
  ['deleting lo', (k) => k.batch().linkDel('lo').commit(), 'EOPNOTSUPP'],
  ['lo into a bridge', (k) => k.batch().linkSetMaster('lo', 'kf0').commit(), 'EINVAL'],
  ['an MTU below 68', (k) => k.batch().linkAddBridge('kfm0', { mtu: 60 }).commit(), 'EINVAL'],
  ['host bits in an IPv4 route', (k) => k.batch().routeReplace('10.71.0.1/16', { dev: 'kf0' }).commit(), 'EINVAL'],
  ['a gateway on no connected network', (k) => k.batch().routeReplace('10.71.0.0/16', { via: '10.72.0.1' }).commit(), 'ENETUNREACH'],
  ['a route on a link that is down', (k) => k.batch().routeReplace('10.71.0.0/16', { dev: 'kfdown0' }).commit(), 'ENETDOWN'],
  ['an IPv6 address where IPv6 is off', (k) => k.batch().addrReplace('kfdown0', 'fd00:71::1/64').commit(), 'EACCES'],
  ['an IPv6 neighbour where IPv6 is off', (k) => k.batch().neighReplace('kfdown0', 'fd00:71::9', '02:42:0a:46:00:09').commit(), 'EINVAL'],
  ['an IPv6 gateway without a route', (k) => k.batch().routeReplace('fd00:72::/64', { via: 'fd00:73::1' }).commit(), 'EHOSTUNREACH'],
  ['an IPv6 gateway that is a local address', (k) => k.batch().routeReplace('fd00:72::/64', { via: 'fd00:70::1' }).commit(), 'EINVAL'],
  ['a batch stops at its first failure', (k) => k.batch().linkAddBridge('kok0').linkSetUp('nosuch1').linkAddBridge('knever0').commit(), 'ENOENT'],
];

/** What the kernel does on its own as links come and go: the host's links after each step. */
async function lifecycle(k: Kernel, sb: string): Promise<unknown[]> {
  const steps: unknown[] = [];
  const links = async () => steps.push(normLinks(await k.linkList()));
  // A bridge follows its ports: their lowest MTU, their lowest MAC (it was given none).
  await k.batch().linkAddBridge('kfb0', { mtu: 1450 }).linkAddVeth('kfa0', 'kfa1', { mtu: 1400 }).linkAddVeth('kfc0', 'kfc1', { mtu: 1500 }).linkSetMaster('kfa0', 'kfb0').linkSetMaster('kfc0', 'kfb0').commit();
  await links();
  // Deleting a veth deletes its peer (and the port leaves its bridge).
  await k.batch().linkDel('kfa1').commit();
  await links();
  // The last port gone: the bridge is back to 1500, without a MAC.
  await k.batch().linkDel('kfc0').commit();
  await links();
  // Deleting a bridge frees its ports.
  await k.batch().linkAddVeth('kfd0', 'kfd1', { mtu: 1500 }).linkSetMaster('kfd0', 'kfb0').linkSetIsolated('kfd0').linkDel('kfb0').commit();
  await links();
  // Deleting a namespace destroys its links and their peers (the kernel: in the background).
  await k.batch().linkAddVeth('kfe0', 'eth0', { mtu: 1500, peerNetns: sb }).commit();
  await links();
  await k.netnsDel(sb);
  await until(async () => !(await k.linkList()).some((l) => l.name === 'kfe0'), 5000, 'the peer of a deleted namespace\'s veth to go');
  await links();
  return steps;
}

describe('kernel adapters', () => {
  it('ctrnet-kernel makes exactly what the iproute2 adapter makes, in its own namespace and in a sandbox', async () => {
    const sbA = `${a.execRoot}/sb`;
    const sbB = `${b.execRoot}/sb`;
    await must(['mkdir', '-p', a.execRoot, b.execRoot]);
    const nA = new NativeKernel(helperA);
    const iA = new IpKernel(a.netnsPath);
    const iB = new IpKernel(b.netnsPath);
    const fake = await fakeHost();
    const sbF = '/run/ctrnet-fake/sb';
    const hostDevs: Devs = { neigh: [['kvx0', 4], ['kbr0', 6]], fdb: ['kvx0'] };
    const sbDevs: Devs = { neigh: [['eth0', 4]], fdb: [] };
    try {
      await build(nA, sbA);
      await build(iB, sbB);
      await build(fake, sbF);
      const [sa, sbState] = [await state(a, sbA), await state(b, sbB)];
      assert.equal(sa, sbState);
      assert.match(sa, /kvx0 1400 .* vxlan .* 4242 10\.61\.0\.1 4789 false true/);
      assert.match(sa, /vethk1 1450 {2}veth kbr0 true 1 .* true$/m);
      assert.match(sa, /"dst":"fd00:63::\/64","gateway":"fd00:60::fe","dev":"kbr0"/);
      // Reads: ctrnet-kernel reports what iproute2 reports of the same namespace, exactly.
      assert.deepEqual(await reads(nA, hostDevs, true), await reads(iA, hostDevs, true));
      assert.deepEqual(await reads(nA.at(sbA), sbDevs, true), await reads(iA.at(sbA), sbDevs, true));
      // ... and the other host and the fake report the same objects (but for chance: indexes, MACs).
      const want = [await reads(nA, hostDevs), await reads(nA.at(sbA), sbDevs)];
      assert.deepEqual([await reads(iB, hostDevs), await reads(iB.at(sbB), sbDevs)], want);
      assert.deepEqual([await reads(fake, hostDevs), await reads(fake.at(sbF), sbDevs)], want);
      assert.deepEqual((await nA.routeList(6)).find((r) => r.dst === 'fd00:63::/64'), { dst: 'fd00:63::/64', dev: 'kbr0', gateway: 'fd00:60::fe' });
      assert.deepEqual(await nA.neighList('kbr0', 6), [{ ip: 'fd00:60::9', mac: '02:42:0a:3c:00:09' }]);
      assert.deepEqual(await nA.fdbList('kvx0'), [{ mac: '02:42:0a:3e:00:09', dst: '10.61.0.9' }]);
      // The sandbox works: the host reaches it across the bridge.
      await a.run(['ping', '-c1', '-W2', '10.60.0.2']);
      for (const [k, sb] of [[nA, sbA], [iB, sbB], [fake, sbF]] as const) {
        await k.netnsDel(sb);
        await k.netnsDel(sb); // deleting twice is not an error
      }
      // The sandbox's links went, and their peers with them (the kernel: in the background).
      for (const k of [nA, iB]) await until(async () => !(await k.linkList()).some((l) => l.name === 'vethk1'), 5000, 'the host end of the sandbox\'s veth to go');
      const after = { neigh: [['kvx0', 4], ['kbr0', 6]], fdb: ['kvx0'] } satisfies Devs; // not kbr0's IPv4: the ping left an entry
      const left = await reads(nA, after);
      assert.deepEqual(await reads(iB, after), left);
      assert.deepEqual(await reads(fake, after), left);
    } finally {
      // Whatever happened, the next tests start from empty hosts.
      for (const h of [a, b]) for (const l of ['kbr0', 'kvx0']) await h.exec(['ip', 'link', 'del', l]);
      for (const [h, sb] of [[a, sbA], [b, sbB]] as const) await h.exec(['umount', sb]).then(() => h.exec(['rm', '-f', sb]));
    }
  });

  it('failures carry the errno and the failing op; the helper stays in its namespace', async () => {
    const k = new NativeKernel(helperA);
    await assert.rejects(k.batch().linkSetUp('nosuch0').commit(), (e: KernelError) => e.errno === 'ENOENT' && /in: up nosuch0/.test(e.message));
    await k.batch().linkAddBridge('kdup0').commit();
    await assert.rejects(k.batch().linkAddBridge('kdup0').commit(), (e: KernelError) => e.errno === 'EEXIST');
    await assert.rejects(k.at('/nonexistent/ns').batch().linkSetUp('lo').commit(), (e: KernelError) => e.errno === 'ENOENT');
    // A failure inside a sandbox: the helper comes back to its own namespace all the same.
    const sb = `${a.execRoot}/sb-fail`;
    await k.netnsAdd(sb);
    await assert.rejects(k.at(sb).batch().linkSetUp('lo').linkSetUp('nosuch2').commit(), (e: KernelError) => e.errno === 'ENOENT');
    await k.batch().linkAddBridge('kback0').commit();
    assert.ok((await linksOfA()).includes('kback0'), 'the next op ran in the helper\'s own namespace');
    await k.batch().linkDel('kback0').commit();
    await k.netnsDel(sb);
    // A batch stops at its first failure: what came before stays, what came after never ran.
    await assert.rejects(k.batch().linkAddBridge('kok0').linkSetUp('nosuch1').linkAddBridge('knever0').commit());
    const names = await linksOfA();
    assert.ok(names.includes('kok0') && !names.includes('knever0'));
    assert.throws(() => k.batch().linkSetUp('two words'), /white space/);
    // Still answering, and still in test host a: its links are here, not in the root namespace.
    await k.batch().linkDel('kdup0').linkDel('kok0').commit();
    assert.ok(!(await linksOfA()).some((n) => n.startsWith('k')));
  });

  it('ctrnet-kernel, iproute2 and FakeKernel fail alike: errno for errno, a batch stops at its first failure', async () => {
    const fake = await fakeHost();
    const kernels: [Kernel, string][] = [
      [new NativeKernel(helperA), `${a.execRoot}/sbf`],
      [new IpKernel(b.netnsPath), `${b.execRoot}/sbf`],
      [fake, '/run/ctrnet-fake/sbf'],
    ];
    const outcomes: unknown[] = [];
    try {
      for (const [k, sb] of kernels) {
        await k.netnsAdd(sb);
        await k.batch().linkAddBridge('kf0').addrReplace('kf0', '10.70.0.1/24').linkSetUp('kf0').linkAddBridge('kfdown0').linkAddVeth('kfv0', 'kfp0', { mtu: 1500 }).linkAddVxlan('kfx0', { vni: 77, local: '10.70.0.1', port: 4789, mtu: 1450 }).commit();
        await k.sysctlSet('net.ipv6.conf.kf0.addr_gen_mode', '1');
        await k.sysctlSet('net.ipv6.conf.kf0.disable_ipv6', '0');
        await k.batch().addrReplace('kf0', 'fd00:70::1/64').commit();
        const errnos: string[] = [];
        for (const [what, f] of FAILURES) errnos.push(`${what}: ${await f(k, sb).then(() => 'ok', (e: KernelError) => e.errno)}`);
        outcomes.push({ errnos, after: await reads(k, { neigh: [['kf0', 4], ['kf0', 6]], fdb: ['kfx0'] }), lifecycle: await lifecycle(k, sb) });
      }
      assert.deepEqual(outcomes[1], outcomes[0], 'iproute2 as ctrnet-kernel');
      assert.deepEqual(outcomes[2], outcomes[0], 'FakeKernel as ctrnet-kernel');
      // and what they agree on is what the kernel says
      assert.deepEqual((outcomes[0] as { errnos: string[] }).errnos, FAILURES.map(([what, , errno]) => `${what}: ${errno}`));
      const names = (outcomes[0] as { after: { links: { name: string }[] } }).after.links.map((l) => l.name);
      assert.ok(names.includes('kok0') && !names.includes('knever0'), 'what came before the failure stays, what came after never ran');
    } finally {
      for (const h of [a, b]) {
        for (const l of ['kf0', 'kfdown0', 'kfv0', 'kfx0', 'kok0', 'kfb0', 'kfc0', 'kfd0', 'kfe0']) await h.exec(['ip', 'link', 'del', l]);
        await h.exec(['umount', `${h.execRoot}/sbf`]).then(() => h.exec(['rm', '-f', `${h.execRoot}/sbf`]));
      }
    }
    assert.ok(!(await linksOfA()).some((n) => n.startsWith('k')));
  });

  it('stacked links (macvlan in every mode, ipvlan, vlan, dummy) and namespace sockets: the three kernels agree, failures included', async () => {
    // What this kernel lacks (this machine: ipvlan, vlan, dummy), probed with iproute2 in test host b;
    // the fake is told the same, so the comparison holds on a kernel with them too.
    await b.run(['ip', 'link', 'add', 'kprobe0', 'type', 'veth', 'peer', 'name', 'kprobe1']);
    const missing: string[] = [];
    for (const [kind, argv] of [['ipvlan', ['link', 'add', 'link', 'kprobe0', 'name', 'kprobe2', 'type', 'ipvlan', 'mode', 'l2']], ['vlan', ['link', 'add', 'link', 'kprobe0', 'name', 'kprobe0.7', 'type', 'vlan', 'id', '7']], ['dummy', ['link', 'add', 'kprobe3', 'type', 'dummy']]] as [string, string[]][]) {
      const r = await b.exec(['ip', ...argv]);
      if (r.code !== 0 && /Unknown device type/.test(r.stderr)) missing.push(kind);
    }
    await b.exec(['ip', 'link', 'del', 'kprobe0']);
    await b.exec(['ip', 'link', 'del', 'kprobe3']);
    const fake = await fakeHost(missing);
    const kernels: [Kernel, string][] = [
      [new NativeKernel(helperA), `${a.execRoot}/sbm`],
      [new IpKernel(b.netnsPath), `${b.execRoot}/sbm`],
      [fake, '/run/ctrnet-fake/sbm'],
    ];
    const outcomes: unknown[] = [];
    try {
      await must(['mkdir', '-p', a.execRoot, b.execRoot]);
      for (const [k, sb] of kernels) {
        const steps: string[] = [];
        const step = async (what: string, f: () => Promise<unknown>) => steps.push(`${what}: ${await f().then(() => 'ok', (e: KernelError) => e.errno)}`);
        await k.netnsAdd(sb);
        await k.batch().linkAddVeth('kmp0', 'kmp1', { mtu: 1500 }).linkSetUp('kmp0').linkAddVeth('kmq0', 'kmq1', { mtu: 1400 }).linkSetUp('kmq0').commit();
        await step('a macvlan made in a sandbox under its final name', () => k.batch().linkAddMacvlan('eth0', 'kmp0', 'bridge', { mac: '02:42:0a:50:00:02', mtu: 1500, netns: sb }).commit());
        await step('a second bridge-mode child of the same parent, here', () => k.batch().linkAddMacvlan('kmv1', 'kmp0', 'bridge').commit());
        await step('a passthru child beside other modes', () => k.batch().linkAddMacvlan('kmv2', 'kmp0', 'passthru').commit());
        await step('a passthru child (it takes its parent\'s MAC)', () => k.batch().linkAddMacvlan('kmv3', 'kmq0', 'passthru', { mac: '02:42:0a:50:00:03' }).commit());
        await step('a second passthru child', () => k.batch().linkAddMacvlan('kmv4', 'kmq0', 'passthru').commit());
        await step('private and vepa children of another parent', () => k.batch().linkAddVeth('kmr0', 'kmr1', { mtu: 1500 }).linkAddMacvlan('kmv5', 'kmr0', 'private').linkAddMacvlan('kmv6', 'kmr0', 'vepa').commit());
        await step('a macvlan of a missing parent', () => k.batch().linkAddMacvlan('kmv7', 'nosuch0', 'bridge').commit());
        await step('a macvlan of lo', () => k.batch().linkAddMacvlan('kmv8', 'lo', 'bridge').commit());
        await step('a macvlan with a larger MTU than its parent', () => k.batch().linkAddMacvlan('kmv9', 'kmq0', 'bridge', { mtu: 1500 }).commit());
        await step('a macvlan whose name the sandbox has', () => k.batch().linkAddMacvlan('eth0', 'kmp0', 'bridge', { netns: sb }).commit());
        await step('an ipvlan in a sandbox', () => k.batch().linkAddIpvlan('eth1', 'kmp0', 'l2', 'bridge', { netns: sb }).commit());
        await step('an 802.1Q sub-interface', () => k.batch().linkAddVlan('kmp0.10', 'kmp0', 10).commit());
        await step('a dummy link', () => k.batch().linkAddDummy('kmd0').commit());
        const sbLinks = normLinks(await k.at(sb).linkList());
        const hostLinks = normLinks(await k.linkList()).filter((l) => l.name.startsWith('km'));
        const passthruSameMac = (await k.linkList()).find((l) => l.name === 'kmv3')?.mac === (await k.linkList()).find((l) => l.name === 'kmq0')?.mac;
        // Sockets of a namespace: lo down, then up; a second bind of one address; a missing namespace.
        const fds: number[] = [];
        await step('a socket on 127.0.0.12 while lo is down', async () => fds.push(await k.at(sb).udpSocket('127.0.0.12', 53)));
        await k.at(sb).batch().linkSetUp('lo').commit();
        await step('a socket on 127.0.0.11:53 in the sandbox', async () => fds.push(await k.at(sb).udpSocket('127.0.0.11', 53)));
        await step('the same address again', async () => fds.push(await k.at(sb).udpSocket('127.0.0.11', 53)));
        await step('an ephemeral port on any address', async () => fds.push(await k.at(sb).udpSocket('0.0.0.0', 0)));
        await step('a socket in a missing namespace', () => k.at('/nonexistent/ns').udpSocket('127.0.0.1', 0));
        if (k !== fake) for (const fd of fds) closeSync(fd);
        // Deleting the parent takes its children, in the sandbox too.
        await k.batch().linkDel('kmp0').commit();
        await until(async () => !(await k.at(sb).linkList()).some((l) => l.name === 'eth0'), 5000, 'the macvlan to go with its parent');
        outcomes.push({ steps, sbLinks, hostLinks, passthruSameMac, sbAfter: normLinks(await k.at(sb).linkList()) });
        await k.netnsDel(sb);
      }
      assert.deepEqual(outcomes[1], outcomes[0], 'iproute2 as ctrnet-kernel');
      assert.deepEqual(outcomes[2], outcomes[0], 'FakeKernel as ctrnet-kernel');
      const o = outcomes[0] as { steps: string[]; sbLinks: { name: string; kind?: string; mac: string }[]; passthruSameMac: boolean };
      assert.ok(o.sbLinks.some((l) => l.name === 'eth0' && l.kind === 'macvlan' && l.mac === '02:42:0a:50:00:02'), JSON.stringify(o.sbLinks));
      assert.equal(o.passthruSameMac, true);
      assert.deepEqual(o.steps.slice(0, 10), [
        'a macvlan made in a sandbox under its final name: ok', 'a second bridge-mode child of the same parent, here: ok', 'a passthru child beside other modes: EINVAL',
        'a passthru child (it takes its parent\'s MAC): ok', 'a second passthru child: EINVAL', 'private and vepa children of another parent: ok', 'a macvlan of a missing parent: ENOENT',
        'a macvlan of lo: EINVAL', 'a macvlan with a larger MTU than its parent: EINVAL', 'a macvlan whose name the sandbox has: EEXIST',
      ]);
      for (const [kind, what] of [['ipvlan', 'an ipvlan in a sandbox'], ['vlan', 'an 802.1Q sub-interface'], ['dummy', 'a dummy link']]) {
        assert.ok(o.steps.includes(`${what}: ${missing.includes(kind) ? 'EOPNOTSUPP' : 'ok'}`), `${kind}: ${o.steps.join('; ')}`);
      }
      assert.deepEqual(o.steps.slice(13), [
        'a socket on 127.0.0.12 while lo is down: ok', 'a socket on 127.0.0.11:53 in the sandbox: ok', 'the same address again: EADDRINUSE',
        'an ephemeral port on any address: ok', 'a socket in a missing namespace: ENOENT',
      ]);
    } finally {
      for (const h of [a, b]) {
        for (const l of ['kmp0', 'kmq0', 'kmr0', 'kmd0']) await h.exec(['ip', 'link', 'del', l]);
        await h.exec(['umount', `${h.execRoot}/sbm`]).then(() => h.exec(['rm', '-f', `${h.execRoot}/sbm`]));
      }
    }
    assert.ok(!(await linksOfA()).some((n) => n.startsWith('k')));
  });

  it('an IPv6 sandbox (netnsAdd ipv6): the three kernels agree; IPv6 is on there, quietly (no RA, no DAD: an address is never tentative), off in a plain one', async () => {
    const fake = await fakeHost();
    const kernels: [Kernel, string, LabHost | undefined][] = [
      [new NativeKernel(helperA), `${a.execRoot}/sb6`, a],
      [new IpKernel(b.netnsPath), `${b.execRoot}/sb6`, b],
      [fake, '/run/ctrnet-fake/sb6', undefined],
    ];
    await must(['mkdir', '-p', a.execRoot, b.execRoot]);
    const seen: unknown[] = [];
    try {
      for (const [k, sb, h] of kernels) {
        await k.netnsAdd(sb, { ipv6: true });
        await k.netnsAdd(`${sb}-4`);
        await k.batch().linkAddVeth('k6v0', 'eth0', { mtu: 1500, peerNetns: sb, peerMac: '02:42:0a:47:00:02' }).linkAddVeth('k6v1', 'eth0', { mtu: 1500, peerNetns: `${sb}-4` }).commit();
        await k.at(sb).batch().linkSetUp('lo').addrReplace('eth0', 'fd00:71::2/64').linkSetUp('eth0').commit();
        const plain = await k.at(`${sb}-4`).batch().addrReplace('eth0', 'fd00:71::3/64').commit().then(() => 'ok', (e: KernelError) => e.errno);
        const addrs = (await k.at(sb).addrList(6)).filter((x) => !x.address.startsWith('fe80:'));
        seen.push({ addrs, plain });
        if (h) {
          const inside = (args: string[]) => must(['nsenter', `--net=${sb}`, ...args]);
          assert.equal((await inside(['sysctl', '-n', 'net.ipv6.conf.eth0.accept_ra', 'net.ipv6.conf.eth0.accept_dad', 'net.ipv6.conf.eth0.disable_ipv6'])).split('\n').filter(Boolean).join(' '), '0 0 0');
          assert.doesNotMatch(await inside(['ip', '-6', 'addr', 'show', 'dev', 'eth0']), /tentative/);
        }
        await k.batch().linkDel('k6v0').linkDel('k6v1').commit();
        await k.netnsDel(sb);
        await k.netnsDel(`${sb}-4`);
      }
      assert.deepEqual(seen[0], { addrs: [{ dev: 'lo', address: '::1', prefixLen: 128 }, { dev: 'eth0', address: 'fd00:71::2', prefixLen: 64 }], plain: 'EACCES' });
      assert.deepEqual(seen[1], seen[0], 'iproute2 as ctrnet-kernel');
      assert.deepEqual(seen[2], seen[0], 'FakeKernel as ctrnet-kernel');
    } finally {
      for (const h of [a, b]) for (const l of ['k6v0', 'k6v1']) await h.exec(['ip', 'link', 'del', l]);
    }
  });

  it('ctrnet-kernel answers a malformed request with an error and goes on serving', async () => {
    const child = spawn('nsenter', [`--net=${a.netnsPath}`, KERNEL_HELPER_BIN], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const big = 16 * 1024 * 1024 + 1;
    const requests: [string, string][] = [
      ['1 nosuchverb x\n', 'EINVAL'],
      ['2 links\n', 'EINVAL'], // too few arguments
      ['3 links - extra\n', 'EINVAL'], // too many
      ['4 batch - notanumber\nup lo\n', 'EINVAL'], // its "body" is then answered as a request: "up"
      ['5 batch - 99999999999999999999999\n', 'EINVAL'],
      ['6 batch - -1\n', 'EINVAL'],
      ['7 batch - 2 extra\nup lo\nup lo\n', 'EINVAL'], // a valid count: the body is consumed all the same
      ['8 batch - 1\nveth kx0 kx1 99999 - - 0\n', 'EINVAL'],
      ['9 batch - 1\nvxlan kx0 99999999 10.0.0.1 4789 1500\n', 'EINVAL'],
      ['10 batch - 1\nbridge kx0 12abc -\n', 'EINVAL'],
      ['11 batch - 1\nneigh lo 10.0.0.1 02:00:00:00:00:zz\n', 'EINVAL'],
      ['12 batch - 1\nroute 10.0.0.0/99 - lo\n', 'EINVAL'],
      [`13 batch - 1\nup ${'x'.repeat(5000)}\n`, 'E2BIG'],
      ['14 nft 12abc\n', 'EINVAL'],
      [`15 nft ${big}\n${'#'.repeat(big)}`, 'E2BIG'],
      ['16 nft 5\n\0\0\0\0\n', 'EINVAL'],
      ['17 addrs - 5\n', 'EINVAL'],
      [`18 ${'x'.repeat(70000)}\n`, 'E2BIG'],
      ['19 sysctl - ../../etc/x 1\n', 'EINVAL'],
      ['20 neighs - 4 nosuch0\n', 'ENODEV'],
      ['21 links -\n', 'ok'],
    ];
    for (const [r] of requests) child.stdin.write(r);
    child.stdin.end();
    assert.equal(await exited, 0, 'the helper ends at EOF, not before');
    const answers = out.split('\n').filter((l) => /^\d+ (ok|err)/.test(l));
    assert.deepEqual(answers.map((l) => l.split(' ').slice(0, 3).join(' ')), requests.map(([r, e], i) => (e === 'ok' ? `${i + 1} ok` : `${r.split(' ')[0]} err ${e}`)));
    assert.match(out, /^4 err EINVAL bad op count "notanumber"$/m);
    assert.match(out, /^up err EINVAL bad request: "lo"$/m, 'an unsized body is read as requests, and answered');
    assert.match(out, /^21 \+ index=1 name=lo mtu=65536 up=1 mac=00:00:00:00:00:00$/m);
    assert.ok(!(await linksOfA()).includes('kx0'));
  });

  it('nft scripts apply atomically through libnftables and report nft\'s own message', async () => {
    const nft = nativeNft(helperA);
    await nft.apply('table ip ktest {\n set s { type ipv4_addr; }\n chain c { type filter hook input priority 0; ip saddr @s counter drop; }\n}\n');
    await nft.apply('add element ip ktest s { 10.9.9.9 }\n');
    assert.match(await a.run(['nft', 'list', 'set', 'ip', 'ktest', 's']), /10\.9\.9\.9/);
    // A bad script changes nothing: the good line before the bad one is not applied either.
    await assert.rejects(nft.apply('add element ip ktest s { 10.9.9.8 }\nadd element ip ktest nosuchset { 1.2.3.4 }\n'), /nft: Error/);
    assert.doesNotMatch(await a.run(['nft', 'list', 'set', 'ip', 'ktest', 's']), /10\.9\.9\.8/);
    await nft.apply('delete table ip ktest\n');
    assert.equal((await a.run(['nft', 'list', 'tables'])).includes('ktest'), false);
  });

  it('mount: ctrnet-kernel and iproute2 mount a tmpfs and a read-only bind alike (volumes with options); the fake fails alike', async () => {
    const k1 = new NativeKernel(helperA);
    const k2 = new IpKernel();
    const fake = await fakeHost();
    const dir = `${a.dir}/kmount`;
    const options = (target: string) => {
      const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === target);
      if (!line) return undefined;
      const f = line.split(' ');
      const sep = f.indexOf('-');
      // mount options (ro, nosuid…), the type, and the filesystem's own options (size, mode)
      return `${f[5]} ${f[sep + 1]} ${f[sep + 3]}`;
    };
    const seen: unknown[] = [];
    try {
      for (const [i, k] of [k1, k2].entries()) {
        const [t, b, src] = [`${dir}/${i}/t`, `${dir}/${i}/b`, `${dir}/${i}/src`];
        for (const d of [t, b, src]) mkdirSync(d, { recursive: true });
        writeFileSync(`${src}/f`, 'host file');
        await k.mount('tmpfs', t, { type: 'tmpfs', options: 'size=1m,mode=700,nosuid' });
        await k.mount(src, b, { type: 'none', options: 'bind,ro' });
        assert.equal(readFileSync(`${b}/f`, 'utf8'), 'host file', 'the bind shows the host directory');
        assert.throws(() => writeFileSync(`${b}/g`, 'x'), /EROFS/, 'ro refuses writes');
        writeFileSync(`${t}/f`, 'in tmpfs');
        seen.push([options(t), options(b)]);
        await k.unmount(t);
        await k.unmount(b);
        assert.equal(options(t), undefined);
        assert.equal(existsSync(`${t}/f`), false, 'the tmpfs took its files with it');
      }
      assert.deepEqual(seen[0], seen[1], 'both adapters mount the same way');
      assert.match(String((seen[0] as string[])[0]), /rw,nosuid,\S* tmpfs rw,size=1024k,mode=700/);
      assert.match(String((seen[0] as string[])[1]), /^ro,/);
      // and fail alike (the fake models no filesystem, so only the type it does not know)
      const errnos = [];
      for (const k of [k1, k2]) errnos.push(await k.mount('/nonexistent/src', `${dir}/0/b`, { type: 'none', options: 'bind' }).then(() => 'ok', (e: KernelError) => e.errno));
      for (const k of [k1, k2, fake]) errnos.push(await k.mount('x', `${dir}/0/t`, { type: 'nosuchfs', options: '' }).then(() => 'ok', (e: KernelError) => e.errno));
      assert.deepEqual(errnos, ['ENOENT', 'ENOENT', 'ENOENT', 'ENOENT', 'ENOENT']);
    } finally {
      for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((x) => x.split(' ')[4]).filter((m) => m?.startsWith(dir))) await must(['umount', '-l', l]);
    }
  });

  it('a helper that died is started again on the next request', async () => {
    const k = new NativeKernel(helperA);
    await k.batch().linkAddBridge('kre0').commit();
    const pid = helperA.pid!;
    process.kill(pid, 'SIGKILL');
    await until(async () => helperA.pid === undefined, 5000, 'the daemon side to notice the helper died');
    await k.batch().linkDel('kre0').commit();
    assert.notEqual(helperA.pid, pid);
    assert.ok(!(await linksOfA()).includes('kre0'));
  });

  it('linkStats: ctrnet-kernel and iproute2 read the same counters, traffic moves them, FakeKernel lists every link at zero', async () => {
    const sb = `${a.execRoot}/sbst`;
    await must(['mkdir', '-p', a.execRoot]);
    const nA = new NativeKernel(helperA);
    const iA = new IpKernel(a.netnsPath);
    try {
      await nA.netnsAdd(sb);
      await nA.batch().linkAddVeth('vethst', 'eth0', { mtu: 1500, peerNetns: sb, singleQueue: true }).addrReplace('vethst', '10.62.0.1/24').linkSetUp('vethst').commit();
      await nA.at(sb).batch().linkSetUp('lo').addrReplace('eth0', '10.62.0.2/24').linkSetUp('eth0').commit();
      const names = (await nA.at(sb).linkList()).map((l) => l.name);
      assert.deepEqual((await nA.at(sb).linkStats()).map((l) => l.name), names);
      // A quiet sandbox: both adapters read the same numbers of it.
      assert.deepEqual(await nA.at(sb).linkStats(), await iA.at(sb).linkStats());
      const before = (await nA.at(sb).linkStats()).find((l) => l.name === 'eth0')!;
      await a.run(['ping', '-c3', '-i0.2', '-W2', '10.62.0.2']);
      const now = (await nA.at(sb).linkStats()).find((l) => l.name === 'eth0')!;
      assert.ok(now.rxPackets >= before.rxPackets + 3 && now.txPackets >= before.txPackets + 3, JSON.stringify({ before, now }));
      assert.ok(now.rxBytes >= before.rxBytes + 3 * 84, 'three ICMP echo requests of 84 bytes at least');
      assert.deepEqual(await nA.at(sb).linkStats(), await iA.at(sb).linkStats());
      const fake = await fakeHost();
      await fake.batch().linkAddBridge('kst0').commit();
      assert.deepEqual(await fake.linkStats(), (await fake.linkList()).map((l) => ({ name: l.name, rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0 })));
    } finally {
      await nA.netnsDel(sb);
      await a.exec(['ip', 'link', 'del', 'vethst']);
    }
  });

  it('mount of a shareable /dev/shm: both adapters mount a tmpfs of the size asked (mode 1777, noexec)', async () => {
    for (const [name, k] of [['native', new NativeKernel(helperA)], ['ip', new IpKernel(a.netnsPath)]] as const) {
      const dir = `${a.dir}/shm-${name}`;
      await must(['mkdir', '-p', dir]);
      await k.mount('shm', dir, { type: 'tmpfs', options: 'nosuid,nodev,noexec,mode=1777,size=2048k' });
      try {
        const m = (await must(['findmnt', '-n', '-o', 'FSTYPE,OPTIONS', dir])).trim();
        assert.match(m, /^tmpfs .*size=2048k/);
        assert.match(m, /noexec/);
        assert.equal((await must(['stat', '-c', '%a', dir])).trim(), '1777');
      } finally {
        await k.unmount(dir);
      }
    }
  });
});

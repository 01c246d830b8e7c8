/**
 * The kernel layer's two adapters on real namespaces: ctrnet-kernel (the daemon's fast path) makes
 * exactly what the iproute2 reference adapter makes, reports failures with the kernel's errno,
 * keeps the namespace it runs in, applies nft scripts atomically, and comes back after it died.
 * Every helper runs inside a test host (nsenter), so nothing touches the root namespace.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabHost, must } from '../../scripts/lab';
import { KernelHelper } from '../../src/kernel/helper';
import { IpKernel } from '../../src/kernel/ip-kernel';
import { NativeKernel } from '../../src/kernel/native-kernel';
import { Kernel, KernelError } from '../../src/kernel/kernel';
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

/** One of everything a Batch can do, in the namespace of `k`, with a sandbox at `sb`. */
async function build(k: Kernel, sb: string): Promise<void> {
  await k.netnsAdd(sb);
  await k.batch().linkAddBridge('kbr0', { mtu: 1450, mac: '02:42:0a:3c:00:01' }).addrReplace('kbr0', '10.60.0.1/24').linkSetUp('kbr0').commit();
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
  return [...links, ...addrs, ...routes, ...neigh, ...fdb, ...sbLinks, ...sbAddrs, ...sbRoutes, sysctls].join('\n');
}

/** Link names in test host a (the helper runs there; this process does not). */
const linksOfA = async (): Promise<string[]> => (JSON.parse(await a.run(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).map((l) => l.ifname);

describe('kernel adapters', () => {
  it('ctrnet-kernel makes exactly what the iproute2 adapter makes, in its own namespace and in a sandbox', async () => {
    const sbA = `${a.execRoot}/sb`;
    const sbB = `${b.execRoot}/sb`;
    await must(['mkdir', '-p', a.execRoot, b.execRoot]);
    try {
      await build(new NativeKernel(helperA), sbA);
      await build(new IpKernel(b.netnsPath), sbB);
      const [sa, sbState] = [await state(a, sbA), await state(b, sbB)];
      assert.equal(sa, sbState);
      assert.match(sa, /kvx0 1400 .* vxlan .* 4242 10\.61\.0\.1 4789 false true/);
      assert.match(sa, /vethk1 1450 {2}veth kbr0 true 1 .* true$/m);
      // The sandbox works: the host reaches it across the bridge.
      await a.run(['ping', '-c1', '-W2', '10.60.0.2']);
      for (const [k, sb] of [[new NativeKernel(helperA), sbA], [new IpKernel(b.netnsPath), sbB]] as const) {
        await k.netnsDel(sb);
        await k.netnsDel(sb); // deleting twice is not an error
      }
    } finally {
      // Whatever happened, the next tests start from an empty host a.
      for (const l of ['kbr0', 'kvx0']) await a.exec(['ip', 'link', 'del', l]);
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
});

/**
 * ctrnet-cni, the CNI front door: driven directly with the spec's environment and stdin for every
 * verb (ADD, CHECK, DEL, STATUS, GC, VERSION, errors), and by Podman 4.3 with its CNI backend.
 * Test host "a" runs ctrnetd with network `web` (10.77.0.0/24) and a ctrnet container `srv`
 * serving HTTP on it; host "b" is another machine on a's uplink (a: 10.231.0.1, b: 10.231.0.2).
 * Everything is observed with independent tools: ip, nft, ping, wget, nslookup.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabHost, linkHosts, must, sh } from '../../scripts/lab';
import { clientOf } from '../../src/cni/client';
import { cni, LabPodman } from '../helpers/cni';
import { assertNoLeftovers, PAGE, snapshot, until, wget } from './_util';

let a: LabHost;
let b: LabHost;
let pm: LabPodman | undefined;
let srvIp = '';
const NETS: string[] = [];

/** The plugin entry as a runtime hands it over: the list's name and version added. */
const conf = (extra: Record<string, unknown> = {}, version = '1.0.0') => ({ cniVersion: version, name: 'ctr', type: 'ctrnet-cni', socket: `unix://${a.socket}`, network: 'web', ...extra });

/** A fresh network namespace for a pretend container (named after the test host, so the leak check sees it). */
async function netns(label: string): Promise<string> {
  const name = `${a.ns}-${label}`;
  await must(['ip', 'netns', 'add', name]);
  NETS.push(name);
  return `/run/netns/${name}`;
}
const inNs = (ns: string, argv: string[]) => sh(['nsenter', `--net=${ns}`, ...argv], { timeoutMs: 15_000 });

before(async () => {
  a = await LabHost.create('cn');
  b = await LabHost.create('cb');
  await linkHosts(a, b, '10.231.0.1', '10.231.0.2');
  await a.startDaemon();
  await a.ctl(['network', 'create', '--subnet', '10.77.0.0/24', 'web']);
  await a.ctl(['run', '-d', '--name', 'srv', '--network', 'web', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
  srvIp = (await a.ctl(['inspect', '-f', '{{.NetworkSettings.Networks.web.IPAddress}}', 'srv'])).trim();
});

after(async () => {
  await pm?.cleanup();
  for (const n of NETS) await sh(['ip', 'netns', 'del', n]);
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

describe('ctrnet-cni driven with the spec environment', () => {
  const id = 'c0ffee'.padEnd(64, '1');
  let ns = '';
  let result: Record<string, unknown> = {};

  it('VERSION lists 1.0.0 and 1.1.0', async () => {
    const r = await cni(a, { command: 'VERSION', conf: { cniVersion: '1.1.0' } });
    assert.equal(r.code, 0, r.stdout);
    assert.deepEqual(r.json, { cniVersion: '1.1.0', supportedVersions: ['1.0.0', '1.1.0'] });
  });

  it('ADD attaches CNI_NETNS as CNI_IFNAME and answers the spec result (interfaces, ips with interface, gateway, routes, dns)', async () => {
    ns = await netns('p1');
    const runtimeConfig = { portMappings: [{ hostPort: 8081, containerPort: 80, protocol: 'tcp' }], aliases: { ctr: ['alias1'] }, ips: ['10.77.0.42/24'], mac: '02:00:00:aa:bb:cc' };
    const r = await cni(a, { command: 'ADD', conf: conf({ runtimeConfig }), containerId: id, netns: ns, ifName: 'net1', args: 'IgnoreUnknown=1;K8S_POD_NAME=pod1' });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    result = r.json!;
    assert.equal(result.cniVersion, '1.0.0');
    const ifs = result.interfaces as { name: string; mac?: string; sandbox?: string }[];
    const ips = result.ips as { address: string; gateway: string; interface: number }[];
    assert.equal(ips.length, 1);
    assert.equal(ips[0].address, '10.77.0.42/24', 'the ips capability');
    assert.equal(ips[0].gateway, '10.77.0.1');
    assert.deepEqual({ name: ifs[ips[0].interface].name, sandbox: ifs[ips[0].interface].sandbox }, { name: 'net1', sandbox: ns });
    assert.deepEqual(result.routes, [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }]);
    assert.deepEqual((result.dns as { nameservers: string[] }).nameservers, ['127.0.0.11'], 'ctrnet\'s resolver inside the sandbox');
    // The kernel, seen with ip: the interface, its address and MAC, the default route.
    const link = JSON.parse((await inNs(ns, ['ip', '-j', 'addr', 'show', 'net1'])).stdout)[0];
    assert.equal(link.address, ifs[ips[0].interface].mac);
    assert.equal(link.address, '02:00:00:aa:bb:cc', 'the mac capability');
    assert.ok(link.addr_info.some((x: { local: string }) => `${x.local}/24` === ips[0].address));
    assert.match((await inNs(ns, ['ip', 'route'])).stdout, /default via 10\.77\.0\.1 dev net1/);
  });

  it('the attached sandbox reaches a ctrnet container by IP and by name, and ctrnet resolves it by its name and alias', async () => {
    assert.equal((await inNs(ns, ['ping', '-c1', '-W2', srvIp])).code, 0);
    // By name: the nameserver of the result answers ctrnet's names (this pretend container's resolv.conf is the machine's).
    const ns0 = (result.dns as { nameservers: string[] }).nameservers[0];
    const look = await inNs(ns, ['busybox', 'nslookup', 'srv', ns0]);
    assert.match(look.stdout, new RegExp(`Address: ${srvIp.replace(/\./g, '\\.')}`), look.stdout + look.stderr);
    const page = await inNs(ns, ['timeout', '5', 'busybox', 'wget', '-qO-', `http://${srvIp}/`]);
    assert.match(page.stdout, PAGE, page.stderr);
    const ip = (result.ips as { address: string }[])[0].address.split('/')[0];
    for (const name of ['pod1', 'alias1']) {
      const r = await a.cli(['exec', 'srv', 'nslookup', name]);
      assert.match(r.stdout, new RegExp(`Address: ${ip.replace(/\./g, '\\.')}`), `${name}: ${r.stdout}${r.stderr}`);
    }
  });

  it('the published port (portMappings) answers from another test host', async () => {
    await inNs(ns, ['sh', '-c', 'mkdir -p /tmp/cniwww && echo from-cni > /tmp/cniwww/index.html']);
    const srv = sh(['nsenter', `--net=${ns}`, 'timeout', '20', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/tmp/cniwww']);
    await until(async () => (await wget(b, 'http://10.231.0.1:8081/')).body.includes('from-cni'), 10_000, 'port 8081 from b');
    await must(['pkill', '-f', '-x', 'timeout 20 busybox httpd -f -p 80 -h /tmp/cniwww']).catch(() => undefined);
    await srv;
  });

  it('network inspect, topology and explain show it like a ctrnet container', async () => {
    const insp = JSON.parse(await a.ctl(['network', 'inspect', 'web']))[0];
    const mine = Object.values(insp.Containers as Record<string, { Name: string; IPv4Address: string }>).find((c) => c.Name === 'pod1');
    assert.ok(mine, JSON.stringify(insp.Containers));
    assert.equal(mine.IPv4Address, (result.ips as { address: string }[])[0].address);
    const topo = JSON.parse(await a.ctl(['topology', '--format', 'json']));
    const t = topo.containers.find((c: { name: string }) => c.name === 'pod1');
    assert.equal(t.external, 'cni');
    assert.equal(t.interfaces[0].onBridge, true);
    const x = JSON.parse(await a.ctl(['explain', '--json', 'pod1']));
    assert.equal(x.namespace.path, ns);
    assert.deepEqual(x.mismatches, []);
    assert.ok(x.interfaces.some((i: { name: string; hostPeer?: { bridge: string } }) => i.name === 'net1' && i.hostPeer?.bridge));
  });

  it('CHECK passes on a whole attachment and fails, naming what differs, when the kernel lost the address', async () => {
    const ok = await cni(a, { command: 'CHECK', conf: conf({ prevResult: result }), containerId: id, netns: ns, ifName: 'net1' });
    assert.equal(ok.code, 0, ok.stdout);
    assert.equal(ok.stdout, '');
    const ip = (result.ips as { address: string }[])[0].address;
    await inNs(ns, ['ip', 'addr', 'del', ip, 'dev', 'net1']);
    const bad = await cni(a, { command: 'CHECK', conf: conf({ prevResult: result }), containerId: id, netns: ns, ifName: 'net1' });
    assert.notEqual(bad.code, 0);
    assert.match(String(bad.json?.msg), new RegExp(`does not have ${ip.split('/')[0].replace(/\./g, '\\.')}`));
    await inNs(ns, ['ip', 'addr', 'add', ip, 'dev', 'net1']);
    const unknown = await cni(a, { command: 'CHECK', conf: conf({ prevResult: result }), containerId: 'nope', netns: ns, ifName: 'net1' });
    assert.equal(unknown.json?.code, 3);
  });

  it('ADD errors are the spec JSON with codes and messages that name the fix', async () => {
    const ns2 = await netns('p2');
    const cases: [Parameters<typeof cni>[1], number, RegExp][] = [
      [{ command: 'ADD', conf: conf({ network: 'nosuch' }), containerId: 'x1', netns: ns2, ifName: 'eth0' }, 7, /network nosuch not found.*ctrnet network ls/],
      [{ command: 'ADD', conf: conf({}, '0.2.0'), containerId: 'x1', netns: ns2, ifName: 'eth0' }, 1, /CNI version 0\.2\.0 is not supported/],
      [{ command: 'ADD', conf: conf(), containerId: 'x1', ifName: 'eth0' }, 4, /CNI_NETNS is not set/],
      [{ command: 'ADD', conf: conf(), containerId: 'x1', netns: '/run/netns/nosuch-ns', ifName: 'eth0' }, 7, /cannot enter the network namespace/],
      [{ command: 'ADD', conf: conf(), containerId: 'x1', netns: ns2, ifName: 'eth0', args: 'IP=10.99.0.5' }, 7, /not in network web/],
      [{ command: 'ADD', conf: conf({ socket: 'unix:///run/nosuch/ctrnet.sock' }), containerId: 'x1', netns: ns2, ifName: 'eth0' }, 11, /ctrnetd does not answer/],
    ];
    for (const [call, code, msg] of cases) {
      const r = await cni(a, call);
      assert.notEqual(r.code, 0);
      assert.equal(r.json?.code, code, r.stdout);
      assert.match(`${r.json?.msg} ${r.json?.details ?? ''}`, msg);
    }
    // Nothing of the failed ADDs stayed behind.
    assert.equal((await inNs(ns2, ['ip', '-o', 'link'])).stdout.trim().split('\n').length, 1);
    assert.deepEqual(JSON.parse(await a.ctl(['network', 'inspect', '-f', '{{json .Containers}}', 'web'])) && (await attachments()).filter((x) => x.ref === 'x1'), []);
  });

  it('STATUS succeeds while ctrnetd answers, GC needs 1.1.0', async () => {
    assert.equal((await cni(a, { command: 'STATUS', conf: conf({}, '1.1.0') })).code, 0);
    const old = await cni(a, { command: 'STATUS', conf: conf() });
    assert.equal(old.json?.code, 1);
  });

  it('DEL removes the veth, lease and rules; a repeated DEL, one for an unknown container, without CNI_NETNS or prevResult succeed', async () => {
    const before = await snapshot(a);
    const r = await cni(a, { command: 'DEL', conf: conf({ prevResult: result }), containerId: id, netns: ns, ifName: 'net1' });
    assert.equal(r.code, 0, r.stdout);
    assert.equal((await inNs(ns, ['ip', '-o', 'link'])).stdout.trim().split('\n').length, 1, 'only lo is left');
    const after1 = await snapshot(a);
    assert.equal(after1.links.length, before.links.length - 1, 'the host end is gone');
    assert.ok(before.elements.some((e) => e.includes('8081')) && !after1.elements.some((e) => e.includes('8081')), 'the port map element is gone');
    assert.equal((await attachments()).length, 0);
    for (const call of [
      { containerId: id, netns: ns, ifName: 'net1' },
      { containerId: 'never-added', netns: ns, ifName: 'eth0' },
      { containerId: id, netns: '', ifName: 'net1' },
    ]) {
      const again = await cni(a, { command: 'DEL', conf: conf(), ...call });
      assert.equal(again.code, 0, again.stdout);
    }
  });

  it('GC removes every attachment of the configuration not in cni.dev/valid-attachments, and nothing else', async () => {
    const keep = await netns('g1');
    const drop = await netns('g2');
    for (const [cid, n] of [['keep1', keep], ['drop1', drop]]) assert.equal((await cni(a, { command: 'ADD', conf: conf(), containerId: cid, netns: n, ifName: 'eth0' })).code, 0);
    const other = await cni(a, { command: 'ADD', conf: conf({ name: 'other' }), containerId: 'drop1', netns: drop, ifName: 'eth1' });
    assert.equal(other.code, 0, other.stdout);
    const r = await cni(a, { command: 'GC', conf: conf({ 'cni.dev/valid-attachments': [{ containerID: 'keep1', ifname: 'eth0' }] }, '1.1.0') });
    assert.equal(r.code, 0, r.stdout);
    const left = (await attachments()).map((x) => `${x.scope}/${x.ref}/${x.ifName}`).sort();
    assert.deepEqual(left, ['ctr/keep1/eth0', 'other/drop1/eth1']);
    assert.equal((await inNs(drop, ['ip', '-o', 'link', 'show', 'eth0'])).code, 1, 'eth0 of drop1 is gone');
    assert.equal((await a.cli(['exec', 'srv', 'true'])).code, 0, 'ctrnet containers are untouched');
    for (const [cid, n, conf2, ifn] of [['keep1', keep, conf(), 'eth0'], ['drop1', drop, conf({ name: 'other' }), 'eth1']] as const) await cni(a, { command: 'DEL', conf: conf2, containerId: cid, netns: n, ifName: ifn });
    assert.equal((await attachments()).length, 0);
  });
});

async function attachments(): Promise<{ ref: string; scope: string; ifName: string; name: string }[]> {
  return (await clientOf(`unix://${a.socket}`)('GET', '/ctrnet/attachments')).body as { ref: string; scope: string; ifName: string; name: string }[];
}

describe('attachments across a daemon crash', () => {
  it('after a SIGKILL and a restart, a live attachment keeps working and one whose namespace is gone is detached', async () => {
    const live = await netns('r1');
    const dead = await netns('r2');
    const add = (cid: string, n: string, ports: unknown[] = []) => cni(a, { command: 'ADD', conf: conf({ runtimeConfig: { portMappings: ports } }), containerId: cid, netns: n, ifName: 'eth0' });
    const r1 = await add('live1', live, [{ hostPort: 8083, containerPort: 80, protocol: 'tcp' }]);
    assert.equal(r1.code, 0, r1.stdout);
    assert.equal((await add('dead1', dead)).code, 0);
    const deadIp = ((await attachments()) as unknown as { ref: string; endpoints: { ip: string }[] }[]).find((x) => x.ref === 'dead1')!.endpoints[0].ip;
    await a.stopDaemon('SIGKILL');
    await sh(['ip', 'netns', 'del', NETS.splice(NETS.indexOf(dead.split('/').pop()!), 1)[0]]);
    await a.startDaemon();
    assert.match(a.log, /the sandbox \/run\/netns\/\S+-r2 of dead1 .* is gone: detaching it/);
    assert.deepEqual((await attachments()).map((x) => x.ref), ['live1']);
    assert.equal((await inNs(live, ['ping', '-c1', '-W2', srvIp])).code, 0);
    assert.match((await inNs(live, ['busybox', 'nslookup', 'srv', '127.0.0.11'])).stdout, new RegExp(`Address: ${srvIp.replace(/\./g, '\\.')}`), 'its resolver is back');
    const x = JSON.parse(await a.ctl(['explain', '--json', 'live1']));
    assert.deepEqual(x.mismatches, []);
    assert.ok(x.nat.ports.some((p: { hostPort: number }) => p.hostPort === 8083), 'its published port was restored');
    // The dead one's address is free again: the next ADD that asks for it gets it.
    const again = await netns('r3');
    const r3 = await cni(a, { command: 'ADD', conf: conf(), containerId: 'again1', netns: again, ifName: 'eth0', args: `IP=${deadIp}` });
    assert.equal(r3.code, 0, r3.stdout);
    for (const [cid, n] of [['live1', live], ['again1', again]]) assert.equal((await cni(a, { command: 'DEL', conf: conf(), containerId: cid, netns: n, ifName: 'eth0' })).code, 0);
    assert.deepEqual(await attachments(), []);
  });
});

/** A chain: the reference tuning plugin after ctrnet-cni, working on the interface of ctrnet-cni's result (prevResult). */
const TUNING = [{ type: 'tuning', sysctl: { 'net.ipv4.conf.eth0.arp_notify': '1' } }];

describe('Podman 4.3 (CNI backend, runc) on a ctrnet network through ctrnet-cni', () => {
  let p: LabPodman;
  let before0: Awaited<ReturnType<typeof snapshot>>;
  let pid = '';

  before(async () => {
    assert.equal((await sh(['sh', '-c', 'command -v podman'])).code, 0, 'podman is not installed: run scripts/bootstrap (Debian\'s podman 4.3)');
    p = pm = new LabPodman(a);
    p.addNetwork('ctrpod', 'web', TUNING);
    await p.importBusybox();
    before0 = await snapshot(a);
  });

  it('a podman container reaches a ctrnet container by IP and by name, and is reached by its name', async () => {
    pid = (await p.must(['run', '-d', '--name', 'pweb', '--network', 'ctrpod', '--network-alias', 'pw', '-p', '8082:80', 'localhost/busybox', 'httpd', '-f', '-p', '80', '-h', '/www'])).trim();
    assert.match(pid, /^[0-9a-f]{64}$/);
    assert.match(await p.must(['exec', 'pweb', 'cat', '/etc/resolv.conf']), /nameserver 127\.0\.0\.11/);
    assert.equal((await p.must(['exec', 'pweb', 'cat', '/proc/sys/net/ipv4/conf/eth0/arp_notify'])).trim(), '1', 'tuning, chained after ctrnet-cni, found its interface');
    assert.equal((await p.run(['exec', 'pweb', 'ping', '-c1', '-W2', srvIp])).code, 0);
    const page = await p.run(['exec', 'pweb', 'timeout', '5', 'wget', '-qO-', 'http://srv/']);
    assert.match(page.stdout, PAGE, page.stderr);
    const podIp = (await p.must(['inspect', '-f', '{{.NetworkSettings.Networks.ctrpod.IPAddress}}', 'pweb'])).trim();
    assert.match(podIp, /^10\.77\.0\.\d+$/);
    for (const name of ['pweb', 'pw']) {
      const r = await a.cli(['exec', 'srv', 'wget', '-qO-', `http://${name}/`]);
      assert.match(r.stdout, /podman here/, `${name}: ${r.stderr}`);
    }
  });

  it('its -p port answers from another test host', async () => {
    await until(async () => (await wget(b, 'http://10.231.0.1:8082/')).body.includes('podman here'), 10_000, 'podman -p 8082 from b');
  });

  it('podman rm -f leaves no veth, lease or rule, and a repeated DEL succeeds', async () => {
    await p.must(['rm', '-f', '-t', '0', 'pweb']);
    const now = await snapshot(a);
    assert.deepEqual({ links: now.links, elements: now.elements }, { links: before0.links, elements: before0.elements });
    assert.deepEqual(await attachments(), []);
    const insp = JSON.parse(await a.ctl(['network', 'inspect', 'web']))[0];
    assert.deepEqual(Object.values(insp.Containers as Record<string, { Name: string }>).map((c) => c.Name), ['srv']);
    const again = await cni(a, { command: 'DEL', conf: { ...p.addNetwork('ctrpod', 'web', TUNING), cniVersion: '1.0.0', name: 'ctrpod' }, containerId: pid, netns: '', ifName: 'eth0' });
    assert.equal(again.code, 0, again.stdout);
  });

  it('GC removes an attachment the runtime no longer lists, and keeps the ones it does', async () => {
    const keep = (await p.must(['run', '-d', '--name', 'pkeep', '--network', 'ctrpod', 'localhost/busybox', 'sleep', '600'])).trim();
    const stale = await netns('stale');
    const entry = { ...p.addNetwork('ctrpod', 'web', TUNING), name: 'ctrpod' };
    assert.equal((await cni(a, { command: 'ADD', conf: { ...entry, cniVersion: '1.0.0' }, containerId: 'f'.repeat(64), netns: stale, ifName: 'eth0' })).code, 0);
    assert.equal((await attachments()).length, 2);
    const listed = (await p.must(['ps', '-q', '--no-trunc'])).split('\n').filter(Boolean);
    assert.deepEqual(listed, [keep]);
    const gc = await cni(a, { command: 'GC', conf: { ...entry, cniVersion: '1.1.0', 'cni.dev/valid-attachments': listed.map((c) => ({ containerID: c, ifname: 'eth0' })) } });
    assert.equal(gc.code, 0, gc.stdout);
    assert.deepEqual((await attachments()).map((x) => x.ref), [keep]);
    assert.equal((await p.run(['exec', 'pkeep', 'ping', '-c1', '-W2', srvIp])).code, 0, 'the listed one still works');
    await p.must(['rm', '-f', '-t', '0', 'pkeep']);
    assert.deepEqual(await attachments(), []);
  });
});

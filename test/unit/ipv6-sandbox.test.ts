/**
 * IPv6 in sandboxes, without root: the bridge driver and Sandboxes against FakeKernel, a stub
 * firewall and a real SQLite store. A dual-stack container gets both addresses, both default
 * routes, IPv6 on in its namespace and anti-spoofing entries for its IPv6 addresses; an
 * IPv4-only one keeps IPv6 off; an IPv6-only network leases IPv6 addresses only; published ports
 * go to both families. And the store migrates an older database's endpoints.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ContainerSpec } from '../../src/base/container-spec';
import { EngineEvents } from '../../src/base/events';
import { Container, lastAddress6Key } from '../../src/base/model';
import { Networks } from '../../src/core/networks';
import { PortPublisher } from '../../src/core/publish';
import { Sandboxes } from '../../src/core/sandbox';
import { DnsServer } from '../../src/dns/resolver';
import { BridgeDriver } from '../../src/drivers/bridge-driver';
import { NetworkDriver } from '../../src/drivers/driver';
import { RecordOnlyDriver } from '../../src/drivers/host-driver';
import { DEFAULT_POOLS } from '../../src/ipam/pools';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { SqliteStore } from '../../src/state/sqlite-store';
import { StubFirewall } from '../helpers/stub-firewall';

const P = { root: '/fake/root', execRoot: '/fake/run' };

const noDns: DnsServer = { attach: async () => {}, detach: () => {}, attached: () => false, closeAll: () => {} };

function world() {
  const k = new FakeKernel();
  const fw = new StubFirewall();
  const store = new SqliteStore(':memory:');
  const bridge = new BridgeDriver(k, fw, store, { mtu: 1500, pools: DEFAULT_POOLS, pools6: [{ base: 'fd00:9::/48', size: 64 }] });
  const drivers = new Map<string, NetworkDriver>([['bridge', bridge], ['host', new RecordOnlyDriver('host', store.networks)], ['null', new RecordOnlyDriver('null', store.networks)]]);
  const networks = new Networks(store, drivers, { bridge: 'ctrnet0', bip: '172.17.0.1/16' }, k, new EngineEvents());
  const sandboxes = new Sandboxes(P, k, store, networks, new PortPublisher(store, k), noDns);
  return { k, fw, store, networks, sandboxes };
}

const spec = (network: string, over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  cmd: ['true'], entrypoint: [], env: [], workingDir: '', hostname: 'h', tty: false, openStdin: false, stdinOnce: false, labels: {},
  networkMode: network, portBindings: [], exposedPorts: [], autoRemove: false, dns: [], macAddress: '', networks: { [network]: { aliases: [] } }, ...over,
});

function container(store: SqliteStore, id: string, s: ContainerSpec): Container {
  const c: Container = { id: id.padEnd(64, '0'), name: `c-${id}`, imageId: 'sha256:0', image: 'busybox', spec: s, status: 'created', pid: 0, exitCode: 0, error: '', created: new Date().toISOString() };
  store.containers.insert(c);
  return c;
}

describe('IPv6 sandboxes (Sandboxes + BridgeDriver on FakeKernel)', () => {
  it('a dual-stack container: both addresses and default routes, IPv6 on in its namespace, its IPv6 addresses in the anti-spoofing sets, ports in both families', async () => {
    const w = world();
    await w.networks.ensureDefaults();
    await w.networks.create({ name: 'v6', driver: 'bridge', internal: false, labels: {}, options: {}, ipv6: true, subnet6: 'fd00:66::/64' });
    const c = container(w.store, 'a1', spec('v6', { portBindings: [{ proto: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 }] }));
    const ns = await w.sandboxes.setup(c);
    assert.deepEqual(w.k.calls.find((x) => x.op === 'netnsAdd')?.args, [ns, 'ipv6']);
    const inside = w.k.at(ns);
    assert.deepEqual((await inside.addrList()).filter((a) => a.dev === 'eth0').map((a) => `${a.address}/${a.prefixLen}`), ['172.18.0.2/16']);
    assert.deepEqual((await inside.addrList(6)).filter((a) => a.dev === 'eth0' && !a.address.startsWith('fe80')).map((a) => `${a.address}/${a.prefixLen}`), ['fd00:66::2/64']);
    assert.deepEqual((await inside.routeList(6)).find((r) => r.dst === 'default'), { dst: 'default', gateway: 'fd00:66::1', dev: 'eth0' });
    assert.ok((await inside.routeList()).some((r) => r.dst === 'default' && r.gateway === '172.18.0.1'));
    const [ep] = w.store.endpoints.list({ containerId: c.id });
    assert.deepEqual([ep.ip, ep.ip6, ep.mac], ['172.18.0.2', 'fd00:66::2', '02:42:ac:12:00:02']);
    assert.deepEqual(w.fw.endpoints.get(ep.hostIf)?.ip6, ['fd00:66::2', 'fe80::42:acff:fe12:2']);
    assert.deepEqual(w.store.ports.list(c.id).map((p) => `${p.hostIp} ${p.hostPort} ${p.containerIp}`), ['0.0.0.0 8080 172.18.0.2', ':: 8080 fd00:66::2']);
    // The bridge holds both gateways, with IPv6 turned on for it.
    const br = w.networks.get('v6').bridge!;
    assert.ok((await w.k.addrList(6)).some((a) => a.dev === br && a.address === 'fd00:66::1'));
    await w.sandboxes.teardown(c);
    assert.deepEqual(w.store.ports.list(c.id), []);
  });

  it('Sandboxes.setup() gives a restarted container its last IPv4 and IPv6 addresses back while free, else the lowest free ones', async () => {
    const w = world();
    await w.networks.ensureDefaults();
    await w.networks.create({ name: 'v6', driver: 'bridge', internal: false, labels: {}, options: {}, ipv6: true, subnet6: 'fd00:66::/64' });
    const net = w.networks.get('v6');
    const c = container(w.store, 'r1', spec('v6'));
    w.store.containers.update(c.id, { lastAddresses: { [net.id]: '172.18.0.9', [lastAddress6Key(net.id)]: 'fd00:66::9' } });
    await w.sandboxes.setup(w.store.containers.get(c.id)!);
    const [ep] = w.store.endpoints.list({ containerId: c.id });
    assert.deepEqual([ep.ip, ep.ip6], ['172.18.0.9', 'fd00:66::9']);
    const other = container(w.store, 'r2', spec('v6'));
    w.store.containers.update(other.id, { lastAddresses: { [net.id]: '172.18.0.9', [lastAddress6Key(net.id)]: 'fd00:66::9' } });
    await w.sandboxes.setup(w.store.containers.get(other.id)!);
    const [ep2] = w.store.endpoints.list({ containerId: other.id });
    assert.deepEqual([ep2.ip, ep2.ip6], ['172.18.0.2', 'fd00:66::2'], 'taken by the first: the lowest free ones');
  });

  it('an IPv4-only container keeps IPv6 off; one on an IPv6-only network gets IPv6 alone, a MAC from its IPv6 address, and no IPv4 port', async () => {
    const w = world();
    await w.networks.ensureDefaults();
    const c4 = container(w.store, 'b1', spec('bridge'));
    const ns4 = await w.sandboxes.setup(c4);
    assert.deepEqual(w.k.calls.find((x) => x.op === 'netnsAdd')?.args, [ns4]);
    await assert.rejects(w.k.at(ns4).batch().addrReplace('eth0', 'fd00::5/64').commit(), /IPv6 is disabled/);
    await w.networks.create({ name: 'only6', driver: 'bridge', internal: false, labels: {}, options: {}, ipv6: true, ipv4: false });
    const net = w.networks.get('only6');
    assert.deepEqual([net.subnet, net.subnet6, net.gateway6, net.ipv4], [undefined, 'fd00:9::/64', 'fd00:9::1', false]);
    const c6 = container(w.store, 'b2', spec('only6', { portBindings: [{ proto: 'tcp', hostIp: '', hostPort: 8081, containerPort: 80 }] }));
    await w.sandboxes.setup(c6);
    const [ep] = w.store.endpoints.list({ containerId: c6.id });
    assert.deepEqual([ep.ip, ep.ip6, ep.mac], ['', 'fd00:9::2', '02:42:00:00:00:02']);
    assert.deepEqual(w.store.ports.list(c6.id).map((p) => p.hostIp), ['::'], 'no IPv4 address: no IPv4 mapping');
    const bad = container(w.store, 'b3', spec('only6', { networks: { only6: { aliases: [], ipv4: '10.0.0.5' } } }));
    await assert.rejects(w.sandboxes.setup(bad), /has no IPv4/);
    const taken = container(w.store, 'b4', spec('only6', { networks: { only6: { aliases: [], ipv6: 'FD00:9::2' } } }));
    await assert.rejects(w.sandboxes.setup(taken), /Address already in use: fd00:9::2/);
    assert.deepEqual(w.store.endpoints.list({ containerId: taken.id }), [], 'a refused lease leaves nothing');
  });

  it('connect of an IPv4-only running container to an IPv6 network turns IPv6 on quietly in its namespace first', async () => {
    const w = world();
    await w.networks.ensureDefaults();
    await w.networks.create({ name: 'v6', driver: 'bridge', internal: false, labels: {}, options: {}, ipv6: true });
    const c = container(w.store, 'd1', spec('bridge'));
    const ns = await w.sandboxes.setup(c);
    await w.sandboxes.connect(c, 'v6');
    const sysctls = w.k.calls.filter((x) => x.op === 'sysctlSet' && x.netns === ns).map((x) => `${x.args[0]}=${x.args[1]}`);
    for (const s of ['net.ipv6.conf.default.accept_ra=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.default.disable_ipv6=0', 'net.ipv6.conf.lo.disable_ipv6=0']) assert.ok(sysctls.includes(s), `${s} in ${sysctls.join(' ')}`);
    assert.ok((await w.k.at(ns).addrList(6)).some((a) => a.dev === 'eth1' && a.address === 'fd00:9::2'));
    assert.deepEqual((await w.k.at(ns).routeList(6)).find((r) => r.dst === 'default'), { dst: 'default', gateway: 'fd00:9::1', dev: 'eth1' }, 'the first IPv6 network holds the IPv6 default route');
  });
});

describe('SqliteStore migrations for IPv6', () => {
  it('an older database keeps its endpoints (ip6 none); IPv6-only endpoints (no IPv4) do not collide', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctrnet-mig-'));
    const file = path.join(dir, 'ctrnet.db');
    try {
      // The schema of a phase-1 daemon (user_version 3, before images, volumes and attachments), with one endpoint.
      const db = new Database(file);
      db.exec(`CREATE TABLE networks (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, driver TEXT NOT NULL, subnet TEXT, gateway TEXT, ip_range TEXT, bridge TEXT,
          internal INTEGER NOT NULL DEFAULT 0, options TEXT NOT NULL DEFAULT '{}', labels TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL, ipam TEXT NOT NULL DEFAULT '{}', created_link TEXT);
        CREATE TABLE containers (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, image_id TEXT NOT NULL, image TEXT NOT NULL, spec TEXT NOT NULL, status TEXT NOT NULL, pid INTEGER NOT NULL DEFAULT 0,
          exit_code INTEGER NOT NULL DEFAULT 0, error TEXT NOT NULL DEFAULT '', created TEXT NOT NULL, started_at TEXT, finished_at TEXT);
        CREATE TABLE endpoints (id TEXT PRIMARY KEY, container_id TEXT NOT NULL, network_id TEXT NOT NULL, if_name TEXT NOT NULL, host_if TEXT NOT NULL DEFAULT '', ip TEXT NOT NULL, mac TEXT NOT NULL,
          aliases TEXT NOT NULL DEFAULT '[]', UNIQUE (network_id, ip), UNIQUE (container_id, network_id));
        CREATE TABLE ports (container_id TEXT NOT NULL, proto TEXT NOT NULL, host_ip TEXT NOT NULL, host_port INTEGER NOT NULL, container_ip TEXT NOT NULL, container_port INTEGER NOT NULL, PRIMARY KEY (proto, host_ip, host_port));
        CREATE TABLE images (id TEXT PRIMARY KEY, created TEXT NOT NULL, size INTEGER NOT NULL, comment TEXT NOT NULL DEFAULT '');
        CREATE TABLE tags (tag TEXT PRIMARY KEY, image_id TEXT NOT NULL);
        CREATE INDEX ports_by_container ON ports (container_id); CREATE INDEX ports_by_port ON ports (proto, host_port);
        INSERT INTO networks (id, name, driver, subnet, gateway, created) VALUES ('n1', 'old', 'bridge', '10.9.0.0/24', '10.9.0.1', 'x');
        INSERT INTO endpoints VALUES ('e1', 'c1', 'n1', 'eth0', 'veth1', '10.9.0.2', '02:42:0a:09:00:02', '["web"]');
        PRAGMA user_version = 3;`);
      db.close();
      const store = new SqliteStore(file);
      assert.deepEqual(store.endpoints.list(), [{ id: 'e1', containerId: 'c1', networkId: 'n1', ifName: 'eth0', hostIf: 'veth1', ip: '10.9.0.2', mac: '02:42:0a:09:00:02', aliases: ['web'] }]);
      assert.equal(store.networks.get('old')?.ipv4, undefined, 'IPv4 on, as before');
      const draft = (n: number) => ({ id: `e6${n}`, containerId: `c6${n}`, networkId: 'n6', ifName: 'eth0', hostIf: `veth6${n}`, mac: '', aliases: [] });
      store.endpoints.lease(draft(1), () => ({ ip: '', ip6: 'fd00::2' }));
      store.endpoints.lease(draft(2), (used) => ({ ip: '', ip6: used.has('fd00::2') ? 'fd00::3' : 'fd00::2' }));
      assert.deepEqual(store.endpoints.list({ networkId: 'n6' }).map((e) => [e.ip, e.ip6]), [['', 'fd00::2'], ['', 'fd00::3']]);
      assert.throws(() => store.endpoints.lease(draft(3), () => ({ ip: '', ip6: 'fd00::3' })), /UNIQUE/);
      store.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

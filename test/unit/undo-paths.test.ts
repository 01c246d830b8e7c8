/**
 * The undo paths, without root: every step of a join, a network create and a sandbox setup is
 * made to fail in turn (FakeKernel.failNext, StubFirewall.failNext, FakeClusterStore.failNext),
 * and each time the operation must fail and leave the kernel, the firewall and the records
 * exactly as they were. Each suite first shows the operation succeeding, so a step that is never
 * reached cannot pass by accident.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerSpec } from '../../src/base/container-spec';
import { EngineEvents } from '../../src/base/events';
import { Container, Network } from '../../src/base/model';
import { OPT_BRIDGE_NAME } from '../../src/base/network-options';
import { Networks } from '../../src/core/networks';
import { PortPublisher } from '../../src/core/publish';
import { Sandboxes } from '../../src/core/sandbox';
import { DnsServer } from '../../src/dns/resolver';
import { BridgeDriver } from '../../src/drivers/bridge-driver';
import { JoinRequest, NetworkDriver } from '../../src/drivers/driver';
import { RecordOnlyDriver } from '../../src/drivers/host-driver';
import { ControlPlane } from '../../src/drivers/overlay/control-plane';
import { OverlayDriver } from '../../src/drivers/overlay/overlay-driver';
import { VxlanPlane } from '../../src/drivers/overlay/vxlan';
import { DEFAULT_POOLS } from '../../src/ipam/pools';
import { FakeCall, FakeKernel } from '../../src/kernel/fake-kernel';
import { KernelErrno } from '../../src/kernel/kernel';
import { SqliteStore } from '../../src/state/sqlite-store';
import { FakeClusterStore } from '../helpers/fake-cluster-store';
import { StubFirewall } from '../helpers/stub-firewall';

const P = { root: '/fake/root', execRoot: '/fake/run' };
const NETNS_DIR = `${P.execRoot}/netns`;

/** A DNS server that can be told to fail its next attach. */
class StubDns implements DnsServer {
  readonly listening = new Set<string>();
  failAttach = false;
  async attach(id: string): Promise<void> {
    if (this.failAttach) {
      this.failAttach = false;
      throw new Error('stub dns: attach failed on purpose');
    }
    this.listening.add(id);
  }
  detach(id: string): void {
    this.listening.delete(id);
  }
  attached(id: string): boolean {
    return this.listening.has(id);
  }
  closeAll(): void {
    this.listening.clear();
  }
}

interface World {
  k: FakeKernel;
  fw: StubFirewall;
  store: SqliteStore;
  dns: StubDns;
  bridge: BridgeDriver;
  cluster: FakeClusterStore;
  networks: Networks;
  sandboxes: Sandboxes;
}

function world(): World {
  const k = new FakeKernel();
  const fw = new StubFirewall();
  const store = new SqliteStore(':memory:');
  const dns = new StubDns();
  const events = new EngineEvents();
  const bridge = new BridgeDriver(k, fw, store, { mtu: 1500, pools: DEFAULT_POOLS });
  const cluster = new FakeClusterStore();
  const plane = new VxlanPlane(k, fw, cluster.advertise, 1450);
  const control = new ControlPlane(store, cluster, plane, events, () => {});
  const drivers = new Map<string, NetworkDriver>([
    ['bridge', bridge],
    ['host', new RecordOnlyDriver('host', store.networks)],
    ['null', new RecordOnlyDriver('null', store.networks)],
    ['overlay', new OverlayDriver(store, plane, control)],
  ]);
  const networks = new Networks(store, drivers, { bridge: 'ctrnet0', bip: '172.17.0.1/16' }, k, events);
  const sandboxes = new Sandboxes(P, k, store, networks, new PortPublisher(store, k), dns);
  return { k, fw, store, dns, bridge, cluster, networks, sandboxes };
}

/**
 * Everything the operations under test may leave: kernel objects in every namespace, firewall
 * state, records. A namespace's lo is left out: bringing it up is harmless and belongs to the
 * namespace, which its maker deletes.
 */
async function snapshot(w: World): Promise<unknown> {
  const ns = async (path?: string) => {
    const k = path ? w.k.at(path) : w.k;
    return {
      links: (await k.linkList()).filter((l) => l.name !== 'lo').map((l) => `${l.name} ${l.kind ?? ''} master=${l.master ?? ''} up=${l.up}`).sort(),
      addrs: (await k.addrList()).filter((a) => a.dev !== 'lo').map((a) => `${a.dev} ${a.address}/${a.prefixLen}`).sort(),
      routes: (await k.routeList()).map((r) => `${r.dst} ${r.gateway ?? ''} ${r.dev ?? ''}`).sort(),
    };
  };
  const sandboxes = await w.k.netnsList(NETNS_DIR);
  return {
    host: await ns(),
    sandboxes: Object.fromEntries(await Promise.all(sandboxes.map(async (p) => [p, await ns(p)]))),
    firewall: w.fw.state(),
    networks: w.store.networks.list().map((n) => n.name).sort(),
    endpoints: w.store.endpoints.list().map((e) => `${e.networkId.slice(0, 6)} ${e.ip}`).sort(),
    ports: w.store.ports.list().map((p) => `${p.proto}/${p.hostPort}`).sort(),
    dns: [...w.dns.listening].sort(),
    cluster: { allocations: [...w.cluster.allocations.values()].flatMap((s) => [...s]).sort(), peers: [...w.cluster.peerMap.keys()].sort() },
  };
}

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  cmd: ['true'], entrypoint: [], env: [], workingDir: '', hostname: 'h', tty: false, openStdin: false, stdinOnce: false, labels: {},
  networkMode: 'bridge', portBindings: [], exposedPorts: [], autoRemove: false, dns: [], macAddress: '', networks: { bridge: { aliases: [] } }, ...over,
});

function container(w: World, id: string, s: ContainerSpec): Container {
  const c: Container = { id: id.padEnd(64, '0'), name: `c-${id}`, imageId: 'sha256:0', image: 'busybox', spec: s, status: 'created', pid: 0, exitCode: 0, error: '', created: new Date().toISOString() };
  w.store.containers.insert(c);
  return c;
}

/** A failure to inject: a kernel call (by op, optionally only inside a sandbox) or a firewall call. */
type Injection = { name: string; inject: (w: World) => void };
const kernelStep = (op: string, where: 'host' | 'sandbox' | 'any' = 'any', errno: KernelErrno = 'EPERM'): Injection => ({
  name: `kernel ${op}${where === 'any' ? '' : ` (${where})`}`,
  inject: (w) => w.k.failNext((c: FakeCall) => c.op === op && (where === 'any' || (where === 'host') === (c.netns === undefined)), errno),
});
const firewallStep = (op: Parameters<StubFirewall['failNext']>[0]): Injection => ({ name: `firewall ${op}`, inject: (w) => w.fw.failNext(op) });

describe('BridgeDriver.join() undoes every step it made when a later one fails', () => {
  const setup = async () => {
    const w = world();
    await w.networks.ensureDefaults();
    const net = w.networks.get('bridge');
    const sandbox = `${NETNS_DIR}/s1`;
    await w.k.netnsAdd(sandbox);
    const ep = w.store.endpoints.lease({ id: 'e1', containerId: 'c1', networkId: net.id, ifName: 'eth0', hostIf: 'veth0000001', mac: '02:42:ac:11:00:02', aliases: [] }, () => '172.17.0.2');
    const req: JoinRequest = { network: net, endpoint: ep, containerName: 'c1', sandbox, defaultRoute: true, ports: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: ep.ip, containerPort: 80 }] };
    return { w, req };
  };

  it('joins and leaves cleanly when nothing fails', async () => {
    const { w, req } = await setup();
    const before = await snapshot(w);
    await w.bridge.join(req);
    const joined = (await snapshot(w)) as { sandboxes: Record<string, { addrs: string[] }>; firewall: { ports: string[] } };
    assert.deepEqual(joined.sandboxes[req.sandbox].addrs, ['eth0 172.17.0.2/16']);
    assert.deepEqual(joined.firewall.ports, ['tcp 0.0.0.0:8080']);
    await w.bridge.leave(req);
    assert.deepEqual(await snapshot(w), before);
  });

  for (const step of [
    firewallStep('addEndpoint'),
    kernelStep('linkAddVeth'),
    kernelStep('linkSetMaster'),
    kernelStep('linkSetUp', 'host'),
    kernelStep('addrReplace', 'sandbox'),
    kernelStep('routeReplace', 'sandbox'),
    firewallStep('addPorts'),
  ]) {
    it(`leaves nothing when ${step.name} fails`, async () => {
      const { w, req } = await setup();
      const before = await snapshot(w);
      step.inject(w);
      await assert.rejects(w.bridge.join(req));
      assert.deepEqual(await snapshot(w), before);
    });
  }
});

describe('Networks.create() of a bridge network undoes what it made when a step fails', () => {
  const req = { name: 'n1', driver: 'bridge', internal: false, labels: {}, options: { [OPT_BRIDGE_NAME]: 'br-test' } };

  it('creates and removes cleanly when nothing fails', async () => {
    const w = world();
    await w.networks.ensureDefaults();
    const before = await snapshot(w);
    await w.networks.create(req);
    assert.ok((await w.k.linkList()).some((l) => l.name === 'br-test'));
    await w.networks.remove('n1');
    assert.deepEqual(await snapshot(w), before);
  });

  for (const step of [
    kernelStep('linkAddBridge'),
    kernelStep('addrReplace'),
    kernelStep('linkSetUp'),
    kernelStep('sysctlSet'),
    firewallStep('newNetwork'),
  ]) {
    it(`leaves nothing when ${step.name} fails`, async () => {
      const w = world();
      await w.networks.ensureDefaults();
      const before = await snapshot(w);
      step.inject(w);
      await assert.rejects(w.networks.create(req));
      assert.deepEqual(await snapshot(w), before);
    });
  }
});

describe('Sandboxes.setup() undoes every endpoint, lease, port and the namespace when a step fails', () => {
  /** A container on a user network (primary, with a published port) and the default bridge. */
  const setup = async () => {
    const w = world();
    await w.networks.ensureDefaults();
    await w.networks.create({ name: 'front', driver: 'bridge', internal: false, labels: {}, options: {} });
    const c = container(w, 'a1', spec({ networkMode: 'front', networks: { front: { aliases: ['web'] }, bridge: { aliases: [] } }, portBindings: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80 }] }));
    return { w, c };
  };

  it('sets up and tears down cleanly when nothing fails', async () => {
    const { w, c } = await setup();
    const before = await snapshot(w);
    const ns = await w.sandboxes.setup(c);
    const up = (await snapshot(w)) as { sandboxes: Record<string, { addrs: string[] }>; ports: string[]; endpoints: string[] };
    assert.equal(up.sandboxes[ns].addrs.length, 2, 'eth0 on front, eth1 on the default bridge');
    assert.deepEqual(up.ports, ['tcp/8080']);
    assert.ok(w.dns.attached(c.id), 'the resolver answers in the sandbox of a container on a user-defined network');
    await w.sandboxes.teardown(c);
    assert.deepEqual(await snapshot(w), before);
  });

  for (const step of [
    kernelStep('netnsAdd'),
    kernelStep('linkAddVeth'),
    { name: 'the host port, held by a process', inject: (w: World) => w.k.holdPort('tcp', '0.0.0.0', 8080) },
    firewallStep('addPorts'),
    // The second interface (the default bridge): the first one is already up when it fails.
    { name: 'the second join', inject: (w: World) => w.k.failNext((x: FakeCall) => x.op === 'linkAddVeth' && (x.args[1] as string) === 'eth1', 'EEXIST') },
    { name: 'the resolver', inject: (w: World) => (w.dns.failAttach = true) },
  ]) {
    it(`leaves nothing when ${step.name} fails`, async () => {
      const { w, c } = await setup();
      const before = await snapshot(w);
      step.inject(w);
      await assert.rejects(w.sandboxes.setup(c));
      assert.deepEqual(await snapshot(w), before);
    });
  }
});

describe('the overlay driver undoes a lease and a join across the cluster store and the kernel', () => {
  const setup = async () => {
    const w = world();
    await w.networks.ensureDefaults();
    const net: Network = await w.networks.create({ name: 'ov', driver: 'overlay', subnet: '10.0.9.0/24', internal: true, labels: {}, options: {} });
    const c = container(w, 'o1', spec({ networkMode: 'ov', networks: { ov: { aliases: [] } } }));
    // The overlay's devices are made at the first join and stay (as on a host that had containers on it).
    await w.sandboxes.setup(c);
    await w.sandboxes.teardown(c);
    return { w, net, c };
  };

  it('joins (published to the cluster) and leaves cleanly when nothing fails', async () => {
    const { w, c } = await setup();
    const before = await snapshot(w);
    await w.sandboxes.setup(c);
    assert.equal(w.cluster.peerMap.size, 1, 'the endpoint is published');
    await w.sandboxes.teardown(c);
    assert.deepEqual(await snapshot(w), before);
  });

  for (const step of [
    { name: 'the cluster allocation', inject: (w: World) => w.cluster.failNext('allocateAddress') },
    kernelStep('linkAddVeth'),
    kernelStep('addrReplace', 'sandbox'),
    { name: 'the publication to the cluster', inject: (w: World) => w.cluster.failNext('putPeer') },
  ]) {
    it(`leaves nothing, here or in the cluster, when ${step.name} fails`, async () => {
      const { w, c } = await setup();
      const before = await snapshot(w);
      step.inject(w);
      await assert.rejects(w.sandboxes.setup(c));
      assert.deepEqual(await snapshot(w), before);
    });
  }
});

/**
 * The fast path's logic (kernel/fast-path.ts and its use by the bridge driver), against fakes:
 * which endpoints the bridge driver puts on it and takes off (never one of a network with
 * inter-container traffic off; undone with a failed join; put back by restore), what BpfFastPath
 * asks its helper, and how it falls back when the program cannot be loaded. The program's own
 * verdicts are tested against the kernel in test/e2e/fastpath.test.ts.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from '../../src/base/model';
import { OPT_BRIDGE_NAME, OPT_ICC, OPT_VNI } from '../../src/base/network-options';
import { BridgeDriver } from '../../src/drivers/bridge-driver';
import { VxlanPlane } from '../../src/drivers/overlay/vxlan';
import { JoinRequest } from '../../src/drivers/driver';
import { DEFAULT_POOLS } from '../../src/ipam/pools';
import { BpfFastPath, FastPath, FastPathEndpoint, FastPathFacts } from '../../src/kernel/fast-path';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { KernelHelper } from '../../src/kernel/helper';
import { KernelError } from '../../src/kernel/kernel';
import { SqliteStore } from '../../src/state/sqlite-store';
import { StubFirewall } from '../helpers/stub-firewall';
import { sayExplanation } from '../../src/view/explain-text';
import { Explanation } from '../../src/base/explanation';

/** Records what the driver asks; fails on misuse (a del of what was never added is fine: idempotent). */
class RecordingFastPath implements FastPath {
  readonly on = new Map<string, FastPathEndpoint>();
  readonly calls: string[] = [];
  async add(ep: FastPathEndpoint): Promise<void> {
    this.calls.push(`add ${ep.hostIf}`);
    this.on.set(ep.hostIf, ep);
  }
  async addTunnel(dev: string, network: string): Promise<void> {
    this.calls.push(`tunnel ${dev}`);
    this.on.set(dev, { hostIf: dev, mac: '', ip: '', network });
  }
  async del(hostIf: string): Promise<void> {
    this.calls.push(`del ${hostIf}`);
    this.on.delete(hostIf);
  }
  async describe(): Promise<FastPathFacts> {
    return { active: true, redirected: 0, endpoints: this.on.size, attached: [...this.on.keys()] };
  }
  stop(): void {}
}

const NETNS = '/fake/run/netns';

async function world(options: Record<string, string> = {}) {
  const k = new FakeKernel();
  const fw = new StubFirewall();
  const store = new SqliteStore(':memory:');
  const fp = new RecordingFastPath();
  const driver = new BridgeDriver(k, fw, store, { mtu: 1500, pools: DEFAULT_POOLS }, () => {}, fp);
  const net: Network = await driver.createNetwork(
    { id: 'n'.repeat(64), name: 'n1', driver: 'bridge', subnet: '10.50.0.0/24', gateway: '10.50.0.1', internal: false, labels: {}, options: { [OPT_BRIDGE_NAME]: 'br-n1', ...options } },
    [],
  );
  const join = async (i: number, ports = false): Promise<JoinRequest> => {
    const sandbox = `${NETNS}/s${i}`;
    await k.netnsAdd(sandbox);
    const ip = `10.50.0.${i + 1}`;
    const endpoint = store.endpoints.lease({ id: `e${i}`, containerId: `c${i}`, networkId: net.id, ifName: 'eth0', hostIf: `veth000000${i}`, mac: `02:42:0a:32:00:0${i + 1}`, aliases: [] }, () => ip);
    const req: JoinRequest = { network: net, endpoint, containerName: `c${i}`, sandbox, defaultRoute: true, ports: ports ? [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerIp: ip, containerPort: 80 }] : [] };
    await driver.join(req);
    return req;
  };
  return { k, fw, store, fp, driver, net, join };
}

describe('BridgeDriver and the fast path', () => {
  it('join() puts the endpoint on it with its MAC, address and network; leave() takes it off first', async () => {
    const w = await world();
    const r = await w.join(1);
    assert.deepEqual(w.fp.on.get('veth0000001'), { hostIf: 'veth0000001', mac: '02:42:0a:32:00:02', ip: '10.50.0.2', network: w.net.id });
    await w.driver.leave(r);
    assert.equal(w.fp.on.size, 0);
    assert.deepEqual(w.fp.calls, ['add veth0000001', 'del veth0000001']);
  });

  it('a network with enable_icc=false never puts an endpoint on it', async () => {
    const w = await world({ [OPT_ICC]: 'false' });
    const r = await w.join(1);
    assert.deepEqual(w.fp.calls, []);
    await w.driver.leave(r);
    assert.equal(w.fp.on.size, 0);
  });

  it('a join that fails after the fast path (its ports) takes the endpoint off again', async () => {
    const w = await world();
    w.fw.failNext('addPorts');
    await assert.rejects(w.join(1, true));
    assert.equal(w.fp.on.size, 0);
    assert.deepEqual(w.fp.calls, ['add veth0000001', 'del veth0000001']);
  });

  it('restore() puts every live endpoint back (a new daemon has new maps)', async () => {
    const w = await world();
    const reqs = [await w.join(1), await w.join(2)];
    // The next daemon: the same kernel and records, a new firewall and a new fast path.
    const fp = new RecordingFastPath();
    const next = new BridgeDriver(w.k, new StubFirewall(), w.store, { mtu: 1500, pools: DEFAULT_POOLS }, () => {}, fp);
    await next.restore([{ network: w.net, endpoints: reqs }]);
    assert.deepEqual([...fp.on.keys()].sort(), ['veth0000001', 'veth0000002']);
  });
});

describe('VxlanPlane (overlay) and the fast path', () => {
  async function overlay() {
    const k = new FakeKernel();
    const fp = new RecordingFastPath();
    const plane = new VxlanPlane(k, new StubFirewall(), '10.99.0.1', 1450, fp);
    const net = { id: 'o'.repeat(64), name: 'ov1', driver: 'overlay', subnet: '10.60.0.0/24', gateway: '10.60.0.1', internal: false, labels: {}, options: { [OPT_VNI]: '4100' } } as unknown as Network;
    const join = async (i: number, ip: string | undefined = `10.60.0.${i + 1}`): Promise<JoinRequest> => {
      const sandbox = `${NETNS}/o${i}`;
      await k.netnsAdd(sandbox);
      const endpoint = { id: `e${i}`, containerId: `c${i}`, networkId: net.id, ifName: 'eth0', hostIf: `vethov0000${i}`, mac: `02:42:0a:3c:00:0${i + 1}`, ip, aliases: [] } as unknown as JoinRequest['endpoint'];
      const req = { network: net, endpoint, containerName: `c${i}`, sandbox, defaultRoute: false, ports: [] } as unknown as JoinRequest;
      await plane.join(req);
      return req;
    };
    return { k, fp, plane, net, join };
  }

  it('the first join puts the VXLAN device on it, then the endpoint with the device as its way to other hosts; leave() takes the endpoint off first', async () => {
    const w = await overlay();
    const r = await w.join(1);
    assert.deepEqual(w.fp.calls, ['tunnel vx-oooooooooooo', 'add vethov00001']);
    assert.deepEqual(w.fp.on.get('vethov00001'), { hostIf: 'vethov00001', mac: '02:42:0a:3c:00:02', ip: '10.60.0.2', network: w.net.id, tunnel: 'vx-oooooooooooo' });
    await w.plane.leave(r);
    assert.equal(w.fp.calls.at(-1), 'del vethov00001');
    assert.equal(w.fp.on.has('vethov00001'), false);
    await w.plane.remove(w.net);
    assert.equal(w.fp.on.size, 0, 'the VXLAN device is taken off with the network');
  });

  it('an endpoint without IPv4 (an IPv6-only overlay) is not put on it', async () => {
    const w = await overlay();
    await w.join(1, '');
    assert.deepEqual(w.fp.calls, ['tunnel vx-oooooooooooo']);
  });

  it('restore() puts the device and every live endpoint back (a new daemon has new maps)', async () => {
    const w = await overlay();
    const reqs = [await w.join(1), await w.join(2)];
    const fp = new RecordingFastPath();
    const next = new VxlanPlane(w.k, new StubFirewall(), '10.99.0.1', 1450, fp);
    await next.restore(w.net, reqs);
    assert.deepEqual([...fp.on.keys()].sort(), ['vethov00001', 'vethov00002', 'vx-oooooooooooo']);
  });
});

/** A stand-in for the helper process: answers requests as ctrnet-fastpath would, or fails. */
class FakeHelper {
  readonly sent: string[] = [];
  failWith?: KernelError;
  async request(header: string): Promise<void> {
    await this.query(header);
  }
  async query(header: string): Promise<string[]> {
    this.sent.push(header);
    if (this.failWith) throw this.failWith;
    if (header === 'stats') return ['redirected=42 endpoints=2'];
    if (header.startsWith('show ')) return [`attached=${header.endsWith('a') ? 1 : 0}`];
    return [];
  }
  stop(): void {}
}

describe('BpfFastPath', () => {
  it('numbers networks (stable, distinct) and asks the helper to add and delete endpoints', async () => {
    const h = new FakeHelper();
    const fp = new BpfFastPath(h as unknown as KernelHelper);
    await fp.add({ hostIf: 'vetha', mac: '02:42:ac:11:00:02', ip: '172.17.0.2', network: 'net-one' });
    await fp.add({ hostIf: 'vethb', mac: '02:42:ac:12:00:02', ip: '172.18.0.2', network: 'net-two' });
    await fp.add({ hostIf: 'vethc', mac: '02:42:ac:11:00:03', ip: '172.17.0.3', network: 'net-one' });
    await fp.del('vetha');
    await fp.addTunnel('vx-0123456789ab', 'net-three');
    await fp.add({ hostIf: 'vethd', mac: '02:42:0a:00:00:02', ip: '10.0.0.2', network: 'net-three', tunnel: 'vx-0123456789ab' });
    assert.deepEqual(h.sent, [
      'add vetha 02:42:ac:11:00:02 172.17.0.2 1', 'add vethb 02:42:ac:12:00:02 172.18.0.2 2', 'add vethc 02:42:ac:11:00:03 172.17.0.3 1', 'del vetha',
      'tunnel vx-0123456789ab 3', 'add vethd 02:42:0a:00:00:02 10.0.0.2 3 vx-0123456789ab',
    ]);
  });

  it('describe() reads the counters and, per veth, whether the program is on it', async () => {
    const fp = new BpfFastPath(new FakeHelper() as unknown as KernelHelper);
    assert.deepEqual(await fp.describe(['vetha', 'vethb']), { active: true, redirected: 42, endpoints: 2, attached: ['vetha'] });
  });

  it('a helper that cannot load the program turns the fast path off once, says why, and endpoints take the bridge', async () => {
    const h = new FakeHelper();
    const logs: string[] = [];
    const fp = new BpfFastPath(h as unknown as KernelHelper, (m) => logs.push(m));
    h.failWith = new KernelError('ctrnet-kernel exited 1: ctrnet-fastpath: cannot start: loading ctrnet-fastpath.bpf.o into the kernel: Operation not permitted', 'UNKNOWN');
    await fp.add({ hostIf: 'vetha', mac: '02:42:ac:11:00:02', ip: '172.17.0.2', network: 'n' });
    await fp.add({ hostIf: 'vethb', mac: '02:42:ac:11:00:03', ip: '172.17.0.3', network: 'n' });
    await fp.del('vetha');
    assert.equal(h.sent.length, 1, 'no request after the first failure');
    assert.equal(logs.length, 1);
    const f = await fp.describe(['vetha']);
    assert.equal(f.active, false);
    assert.match(f.why!, /cannot start/);
  });

  it('a failure of one endpoint (its veth) leaves the fast path on for the others', async () => {
    const h = new FakeHelper();
    const fp = new BpfFastPath(h as unknown as KernelHelper);
    h.failWith = new KernelError('no interface vetha', 'ENOENT');
    await fp.add({ hostIf: 'vetha', mac: '02:42:ac:11:00:02', ip: '172.17.0.2', network: 'n' });
    h.failWith = undefined;
    await fp.add({ hostIf: 'vethb', mac: '02:42:ac:11:00:03', ip: '172.17.0.3', network: 'n' });
    assert.equal(h.sent.length, 2);
    assert.equal((await fp.describe()).active, true);
  });
});

describe('explain says the fast path', () => {
  const x = (fastPath: Explanation['fastPath']): Explanation => ({
    container: { id: 'c'.repeat(64), name: 'web', status: 'running' }, mode: 'bridge', interfaces: [], routes: [], dns: [], nat: { rules: [], ports: [] }, overlays: [], mismatches: [], fastPath,
  });
  it('in English and Chinese, on and off', () => {
    const on = x({ active: true, redirected: 7, ports: [{ hostIf: 'veth1234567', attached: true }] });
    assert.match(sayExplanation(on, 'en'), /Fast path: IPv4 frames from veth1234567 .* 7 frame\(s\) so far/);
    assert.match(sayExplanation(on, 'zh'), /快速路径：从 veth1234567 .*7 帧/);
    const off = x({ active: false, why: 'CTRNET_FAST_PATH=off', redirected: 0, ports: [{ hostIf: 'veth1234567', attached: false }] });
    assert.match(sayExplanation(off, 'en'), /Fast path: off \(CTRNET_FAST_PATH=off\); every frame takes the bridge/);
    assert.doesNotMatch(sayExplanation(x(undefined), 'en'), /Fast path/);
  });
});

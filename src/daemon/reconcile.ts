/**
 * Startup reconciliation, both ways: records whose kernel objects are missing are rebuilt (bridge,
 * addresses, veths, nftables rules); kernel objects of ours that no record explains are removed
 * (namespaces under EXEC_ROOT/netns, veths on our bridges, runc containers under our runc root).
 */
import { Containers } from '../core/containers';
import { describe } from '../base/errors';
import { Paths, paths, VETH_PREFIX } from '../base/names';
import { Networks } from '../core/networks';
import { modeOf, Sandboxes } from '../core/sandbox';
import { ContainerSpec } from '../base/container-spec';
import { Kernel } from '../kernel/kernel';
import { RuncRuntime } from '../runtime/runc';
import { Store } from '../state/store';

export interface ReconcileDeps {
  p: Paths;
  store: Store;
  kernel: Kernel;
  networks: Networks;
  sandboxes: Sandboxes;
  containers: Containers;
  runtime: RuncRuntime;
  log: (msg: string) => void;
}

export async function reconcile(d: ReconcileDeps): Promise<void> {
  d.networks.ensureDefaults();
  await d.containers.restore();

  const running = d.store.containers().filter((c) => c.status === 'running');
  for (const row of d.networks.list()) {
    const driver = d.networks.driver(row);
    if (!driver) continue;
    const reqs = running.flatMap((c) => d.sandboxes.requests(c)).filter((r) => r.network.id === row.id);
    await driver.restore(d.networks.info(row), reqs);
  }

  const ownNetns = new Set(
    running.filter((c) => ['none', 'network'].includes(modeOf((JSON.parse(c.spec) as ContainerSpec).networkMode).kind)).map((c) => paths.netns(d.p, c.id)),
  );
  for (const ns of await d.kernel.netnsList(paths.netnsDir(d.p))) {
    if (ownNetns.has(ns)) continue;
    d.log(`removing stale network namespace ${ns}`);
    await d.kernel.netnsDel(ns).catch((e) => d.log(`removing ${ns}: ${describe(e)}`));
  }

  const bridges = new Set(d.networks.list().map((n) => n.bridge).filter(Boolean));
  const veths = new Set(d.store.endpoints().map((e) => e.host_if));
  for (const l of await d.kernel.linkList()) {
    if (!l.name.startsWith(VETH_PREFIX) || !l.master || !bridges.has(l.master) || veths.has(l.name)) continue;
    d.log(`removing stale veth ${l.name}`);
    await d.kernel.batch().linkDel(l.name).commit().catch((e) => d.log(`removing ${l.name}: ${describe(e)}`));
  }

  // Overlay bridges and VXLAN devices of networks that no longer exist.
  const overlayIds = d.networks.list().filter((n) => n.driver === 'overlay').map((n) => n.id.slice(0, 12));
  for (const l of await d.kernel.linkList()) {
    const m = /^(ov|vx)-([0-9a-f]{12})$/.exec(l.name);
    if (!m || overlayIds.includes(m[2])) continue;
    d.log(`removing stale overlay link ${l.name}`);
    await d.kernel.batch().linkDel(l.name).commit().catch((e) => d.log(`removing ${l.name}: ${describe(e)}`));
  }

  const live = new Set(running.map((c) => c.id));
  for (const id of await d.runtime.list()) {
    if (live.has(id)) continue;
    d.log(`removing stale runc container ${id}`);
    await d.runtime.delete(id).catch((e) => d.log(`removing runc container ${id}: ${describe(e)}`));
  }
}

/**
 * Startup reconciliation, both ways: records whose kernel objects are missing are rebuilt (bridge,
 * addresses, veths, nftables rules: each driver's restore); kernel objects of ours that no record
 * explains are removed (namespaces under EXEC_ROOT/netns; stale veths and devices: the drivers';
 * runc containers under our runc root).
 */
import { modeOf } from '../base/container-spec';
import { describe } from '../base/errors';
import { Paths, paths } from '../base/names';
import { Containers } from '../core/containers/containers';
import { Networks } from '../core/networks';
import { Sandboxes } from '../core/sandbox';
import { RestoreSet } from '../drivers/driver';
import { Kernel } from '../kernel/kernel';
import { ContainerRuntime } from '../runtime/runtime';
import { Repos } from '../state/repos';

export interface ReconcileDeps {
  p: Paths;
  store: Repos;
  kernel: Kernel;
  networks: Networks;
  sandboxes: Sandboxes;
  containers: Containers;
  runtime: ContainerRuntime;
  log: (msg: string) => void;
  /** sandboxes of other runtimes (the CNI and Docker plugins): their endpoints are restored with the rest */
  external?: { restorable(): Promise<RestoreSet['endpoints']> };
}

export async function reconcile(d: ReconcileDeps): Promise<void> {
  await d.networks.ensureDefaults();
  await d.containers.restore();

  const running = d.store.containers.list().filter((c) => c.status === 'running');
  const requests = [...running.flatMap((c) => d.sandboxes.requests(c)), ...((await d.external?.restorable()) ?? [])];
  // Each driver restores all its networks at once, so it can tell its stale objects from the rest.
  for (const driver of d.networks.allDrivers()) {
    const sets: RestoreSet[] = d.networks
      .list()
      .filter((n) => n.driver === driver.name)
      .map((network) => ({ network, endpoints: requests.filter((r) => r.network.id === network.id) }));
    await driver.restore(sets);
  }

  const ownNetns = new Set(running.filter((c) => ['none', 'network'].includes(modeOf(c.spec.networkMode).kind)).map((c) => paths.netns(d.p, c.id)));
  for (const ns of await d.kernel.netnsList(paths.netnsDir(d.p))) {
    if (ownNetns.has(ns)) continue;
    d.log(`removing stale network namespace ${ns}`);
    await d.kernel.netnsDel(ns).catch((e) => d.log(`removing ${ns}: ${describe(e)}`));
  }

  const live = new Set(running.map((c) => c.id));
  for (const id of await d.runtime.list()) {
    if (live.has(id)) continue;
    d.log(`removing stale runc container ${id}`);
    await d.runtime.delete(id).catch((e) => d.log(`removing runc container ${id}: ${describe(e)}`));
  }
}

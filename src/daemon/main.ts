/**
 * ctrnetd: the composition root. Parses the flags (daemon/flags.ts), chooses the adapters
 * (kernel, firewall, runtime, store, drivers), wires the object graph in one pass, reconciles
 * state with the kernel (daemon/reconcile.ts), and serves the API on a unix socket. Containers
 * keep running when it stops.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { chmod, chown, mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createDockerPluginServer } from '../api/docker-plugin/server';
import { createApi } from '../api/server';
import { describe } from '../base/errors';
import { EngineEvents } from '../base/events';
import { Paths, paths } from '../base/names';
import { DockerPlugin } from '../core/attachments/docker-plugin';
import { ExternalAttachments } from '../core/attachments/external';
import { Containers } from '../core/containers/containers';
import { commit } from '../core/containers/commit';
import { HealthMonitor } from '../core/containers/health';
import { ContainerStorage } from '../core/containers/storage';
import { Execs } from '../core/containers/execs';
import { Introspection } from '../core/containers/introspection';
import { diskUsage } from '../core/disk-usage';
import { EventLog } from '../core/event-log';
import { Prune } from '../core/prune';
import { Stdio } from '../core/containers/stdio';
import { NetworkNames } from '../core/dns-names';
import { Engine } from '../core/engine';
import { explain } from '../core/explain';
import { Networks } from '../core/networks';
import { PortPublisher } from '../core/publish';
import { Queries } from '../core/queries';
import { Sandboxes } from '../core/sandbox';
import { Volumes } from '../core/volumes';
import { buildTopology } from '../core/topology';
import { Resolver, upstreamsFrom } from '../dns/resolver';
import { BridgeDriver } from '../drivers/bridge-driver';
import { NetworkDriver } from '../drivers/driver';
import { RecordOnlyDriver } from '../drivers/host-driver';
import { IpvlanDriver } from '../drivers/ipvlan-driver';
import { MacvlanDriver } from '../drivers/macvlan-driver';
import { ControlPlane } from '../drivers/overlay/control-plane';
import { OverlayDriver } from '../drivers/overlay/overlay-driver';
import { VXLAN_OVERHEAD, VXLAN_OVERHEAD6, VxlanPlane } from '../drivers/overlay/vxlan';
import { LoopbackRelay } from '../firewall/loopback-relay';
import { forwardPolicyDrops } from '../firewall/nft/forward-policy';
import { NftFirewall } from '../firewall/nft/nft-firewall';
import { nativeNft } from '../firewall/nft/nft-native';
import { BridgeNetfilter } from '../firewall/nft/bridge-netfilter';
import { LocalImageStore } from '../images/local-image-store';
import { DEFAULT_POOLS } from '../ipam/pools';
import { isPool6, ulaPool } from '../ipam/pools6';
import { KernelHelper } from '../kernel/helper';
import { ensureTmpfs } from '../kernel/tmpfs-dir';
import { BpfFastPath, FastPath, NoFastPath } from '../kernel/fast-path';
import { IpKernel } from '../kernel/ip-kernel';
import { Kernel } from '../kernel/kernel';
import { NativeKernel } from '../kernel/native-kernel';
import { LocalStorage } from '../runtime/local-storage';
import { RuncRuntime } from '../runtime/runc-runtime';
import { ClusterStore, EtcdClusterStore } from '../state/cluster-store';
import { LocalClusterStore } from '../state/local-cluster-store';
import { Swarm } from '../core/swarm';
import { SqliteStore } from '../state/sqlite-store';
import { startUi } from '../ui/server';
import { DaemonOptions, parseFlags } from './flags';
import { reconcile } from './reconcile';

export { parseFlags };
export type { DaemonOptions };

export const VERSION = '0.1.0';

function groupId(name: string): number | undefined {
  try {
    const line = readFileSync('/etc/group', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
    return line ? Number(line.split(':')[2]) : undefined;
  } catch {
    return undefined; // no /etc/group: root only
  }
}

function readHostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8');
  } catch {
    return ''; // no resolv.conf: nothing to forward to, lookups of other names answer SERVFAIL
  }
}

/**
 * The host's name servers as the resolver's upstreams: it forwards from inside the sandbox, where
 * the host's loopback servers (127.0.0.53, say) cannot be reached (Docker 20.10 leaves them out too).
 */
const loopbackless = (ups: { host: string; port: number }[]) => ups.filter((u) => !u.host.startsWith('127.') && u.host !== '::1');

/** The MTU of the interface holding `address` (the advertise address, IPv4 or IPv6). */
async function mtuOfAddress(kernel: Kernel, address: string): Promise<number> {
  const dev = (await kernel.addrList(address.includes(':') ? 6 : 4)).find((a) => a.address === address)?.dev;
  if (!dev) throw new Error(`--advertise-addr ${address} is not an address of this host`);
  return (await kernel.linkList()).find((l) => l.name === dev)!.mtu;
}

/** The MTU of the interface holding the default route; 1500 without one. */
async function defaultMtu(kernel: Kernel): Promise<number> {
  const def = (await kernel.routeList()).find((r) => r.dst === 'default');
  const link = def?.dev ? (await kernel.linkList()).find((l) => l.name === def.dev) : undefined;
  return link?.mtu ?? 1500;
}

/**
 * This daemon's engine id: random, made once and kept in its root. Its IPv6 ULA /48 comes from it
 * (as Docker 27+ derives its default IPv6 pool from its engine id).
 */
async function engineId(root: string): Promise<string> {
  const file = path.join(root, 'engine-id');
  const had = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (/^[0-9a-f]{64}$/.test(had)) return had;
  const id = randomBytes(32).toString('hex');
  await writeFile(file, `${id}\n`, { mode: 0o600 });
  return id;
}

/** The fast kernel path (ctrnet-kernel: netlink and libnftables in one long-lived process), or the iproute2/nft programs. */
async function kernelHelper(log: (m: string) => void): Promise<KernelHelper | undefined> {
  // Not built, or CTRNET_KERNEL=ip asks for the reference adapters.
  if (process.env.CTRNET_KERNEL === 'ip' || !KernelHelper.available()) return undefined;
  const helper = new KernelHelper();
  // A helper that cannot run here (a missing libnftables, say) must not fail every operation.
  try {
    await helper.request('batch - 0');
    return helper;
  } catch (e) {
    log(`ctrnet-kernel does not work here (${describe(e)}): using the ip and nft programs instead`);
    helper.stop();
    return undefined;
  }
}

export async function startDaemon(o: DaemonOptions, log: (m: string) => void): Promise<() => Promise<void>> {
  const p: Paths = { root: o.root, execRoot: o.execRoot };
  await mkdir(o.root, { recursive: true, mode: 0o711 });
  await mkdir(paths.netnsDir(p), { recursive: true });
  // Namespace files on tmpfs: a disk filesystem costs an inode per container start (kernel/tmpfs-dir.ts).
  const nsDir = await ensureTmpfs(paths.netnsDir(p)).catch((e) => `left as it is (${describe(e)})`);
  if (nsDir !== 'already' && nsDir !== 'mounted') log(`${paths.netnsDir(p)} is not on tmpfs: ${nsDir}`);
  await mkdir(path.dirname(o.socket), { recursive: true });

  // Adapters.
  const helper = await kernelHelper(log);
  const kernel: Kernel = helper ? new NativeKernel(helper) : new IpKernel();
  const firewall = new NftFirewall(helper ? nativeNft(helper) : undefined, new LoopbackRelay(log));
  const store = new SqliteStore(paths.db(p));
  const runtime = new RuncRuntime(p, kernel);
  const events = new EngineEvents();
  // Docker's image events: untag, delete and import name the image by its id, the others by the name used.
  const imageEvent = (action: string, id: string, name?: string) => events.emit('image', action, id, { name: ['untag', 'delete', 'import'].includes(action) || !name ? id : name });
  const images = new LocalImageStore(p, store.images, { mirrors: o.registryMirrors, insecure: o.insecureRegistries }, log, imageEvent);
  await images.init();
  const mtu = o.mtu ?? (await defaultMtu(kernel));

  // Drivers: every network type, host and none included.
  const drivers = new Map<string, NetworkDriver>();
  // Pools given replace the defaults of their family only: IPv4 pools Docker's, IPv6 pools the ULA /48.
  const given4 = o.pools.filter((x) => !isPool6(x));
  const given6 = o.pools.filter(isPool6);
  const pools = given4.length ? given4 : DEFAULT_POOLS;
  const pools6 = given6.length ? given6 : [ulaPool(await engineId(o.root))];
  // CTRNET_FAST_PATH=off: every frame takes the bridge (for comparison; kernel/fast-path.ts).
  const fastPath: FastPath = process.env.CTRNET_FAST_PATH === 'off' ? new NoFastPath('CTRNET_FAST_PATH=off') : BpfFastPath.available() ? new BpfFastPath(undefined, log) : new NoFastPath('ctrnet-fastpath was not built');
  drivers.set('bridge', new BridgeDriver(kernel, firewall, store, { mtu, pools, pools6 }, log, fastPath));
  drivers.set('macvlan', new MacvlanDriver(kernel, store, { pools, pools6 }, log));
  drivers.set('ipvlan', new IpvlanDriver(kernel, store, { pools, pools6 }, log));
  drivers.set('host', new RecordOnlyDriver('host', store.networks));
  drivers.set('null', new RecordOnlyDriver('null', store.networks));
  // Overlay networks: across hosts through etcd (--cluster-store), or on this host alone in a
  // one-node swarm (the one-member cluster store: it refuses them until `swarm init`).
  // (flags.ts: --cluster-store and --advertise-addr come together)
  const overlay = o.clusterStore && o.advertiseAddr
    ? await overlayDriver(new EtcdClusterStore(o.clusterStore, o.advertiseAddr, o.clusterTtl, log), await mtuOfAddress(kernel, o.advertiseAddr))
    // One host: the VXLAN devices never send (every peer is local); their local end is loopback.
    : await overlayDriver(new LocalClusterStore(store.localCluster, () => store.swarm.get() !== undefined, '127.0.0.1'), mtu);
  drivers.set('overlay', overlay.driver);

  async function overlayDriver(cluster: ClusterStore, underlayMtu: number) {
    // VXLAN over IPv6 costs 20 bytes more than over IPv4 (its outer header).
    const overhead = cluster.advertise.includes(':') ? VXLAN_OVERHEAD6 : VXLAN_OVERHEAD;
    const plane = new VxlanPlane(kernel, firewall, cluster.advertise, underlayMtu - overhead, fastPath);
    const control = new ControlPlane(store, cluster, plane, events, log);
    return { control, driver: new OverlayDriver(store, plane, control, log, pools6) };
  }

  // The engine.
  const resolver = new Resolver(kernel, new NetworkNames(store, drivers), () => (o.dnsUpstreams.length ? o.dnsUpstreams : loopbackless(upstreamsFrom(readHostResolvConf()))), log);
  const networks = new Networks(store, drivers, { bridge: o.bridge, bip: o.bip, mtu, ...(o.ipv6 && o.fixedCidrV6 ? { ipv6: { subnet: o.fixedCidrV6, gateway: o.defaultGatewayV6 } } : {}) }, kernel, events);
  const publisher = new PortPublisher(store, kernel);
  const sandboxes = new Sandboxes(p, kernel, store, networks, publisher, resolver);
  const attachments = new ExternalAttachments(store, networks, publisher, kernel, events, resolver, log);
  const stdio = new Stdio(runtime);
  const storage = new LocalStorage(p, kernel);
  const volumes = new Volumes(store, storage, (action, name) => events.emit('volume', action, name, { driver: 'local' }));
  const mounts = new ContainerStorage(volumes, storage, store);
  const containers = new Containers(store, images, runtime, sandboxes, networks, stdio, log, { storage: mounts, volumes, ncpu: os.cpus().length }, events);
  const health = new HealthMonitor(store, runtime, log);
  const execs = new Execs(runtime, (id) => containers.get(id), (action, c, extra) => containers.note(action, c, extra));
  const info = { version: VERSION, root: o.root, execRoot: o.execRoot, bridge: o.bridge, mtu, startedAt: new Date() };
  const bridgeNf = new BridgeNetfilter(log);
  const explainDeps = { p, repo: store, networks, sandboxes, firewall, kernel, forwardDrop: forwardPolicyDrops, fastPath, bridgeNetfilter: () => bridgeNf.describe() };
  const eventLog = new EventLog(events);
  const containersOf = (imageId: string) => store.containers.list().filter((c) => c.imageId === imageId).map((c) => c.id);
  const layerSize = (id: string) => runtime.layerSize(id);
  const engine: Engine = {
    containers, stdio, execs, networks, images, volumes, events, info, attachments, eventLog,
    introspection: new Introspection(runtime, images, kernel, (c) => sandboxes.netnsOf(c), (action, c) => containers.note(action, c)),
    prune: new Prune({ containers, networks, events, containersOf, layerSize }),
    swarm: new Swarm(store, networks, kernel, !!o.clusterStore),
    commit: (c, req) => commit({ images, runtime, pause: (id) => containers.pause(id), unpause: (id) => containers.unpause(id), get: (id) => containers.get(id), note: (a, c2, x) => containers.note(a, c2, x) }, c, req),
    diskUsage: () => diskUsage({ images, containers: () => containers.list(), layerSize }),
    queries: new Queries(store, networks, sandboxes, runtime, execs, { restarting: (id) => containers.restarts.isRestarting(id), volumePath: (n) => volumes.path(n) }, images),
    explain: (id) => explain(explainDeps, id),
    topology: () => buildTopology({ repo: store, networks, kernel, version: VERSION, advertise: o.advertiseAddr }),
    reloadFirewall: () => firewall.reapply().then(() => bridgeNf.settle().then(() => undefined)),
  };
  // Health checks run while a container runs; their changes of status are container events.
  containers.on('start', (id: string) => {
    const c = store.containers.get(id);
    if (c) health.started(c);
  });
  for (const ended of ['exit', 'removed']) containers.on(ended, (id: string) => health.stopped(id));
  health.on('status', (id: string, status: string) => {
    const c = store.containers.get(id);
    if (c) containers.note(`health_status: ${status}`, c);
  });

  // State against the kernel. The overlay's network records come from the cluster: read them first.
  await overlay.control.start();
  // br_netfilter off in this namespace when nothing else here needs it (firewall/nft/bridge-netfilter.ts).
  await bridgeNf.settle().catch((e) => log(`br_netfilter: ${describe(e)}`));
  await reconcile({ p, store, kernel, networks, sandboxes, containers, runtime, log, external: attachments });
  await mounts.releaseUnused().catch((e) => log(`unmounting unused volumes: ${describe(e)}`));
  // Reconciled: restarts by policy may go ahead, and running containers' health checks begin again.
  containers.resumeRestarts();
  health.resume(store.containers.list().filter((c) => c.status === 'running'));
  const unwatch = firewall.watch(log);
  await overlay.control.resync().catch((e) => log(`overlay resync: ${describe(e)}`));
  await images.ensureBusybox();

  // Serving.
  const server = createApi(engine);
  await unlink(o.socket).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socket, () => resolve());
  });
  await chmod(o.socket, 0o660);
  // Members of the group `ctrnet` (when it exists) may use the socket, as with Docker's group.
  const gid = groupId('ctrnet');
  if (gid !== undefined) await chown(o.socket, 0, gid);
  log(`ctrnetd ${VERSION} listening on unix://${o.socket} (root ${o.root}, bridge ${o.bridge} ${o.bip}, mtu ${mtu})`);
  // Docker's network + IPAM plugin: a second server, on a socket in Docker's plugin directory.
  let plugin: import('node:http').Server | undefined;
  if (o.dockerPlugin) {
    const sock = o.dockerPlugin;
    plugin = createDockerPluginServer(new DockerPlugin(store, networks, attachments, log, forwardPolicyDrops), log, process.env.CTRNET_PLUGIN_TRACE === '1');
    await mkdir(path.dirname(sock), { recursive: true });
    await unlink(sock).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await new Promise<void>((resolve, reject) => {
      plugin!.once('error', reject);
      plugin!.listen(sock, () => resolve());
    });
    await chmod(sock, 0o660);
    log(`Docker network and IPAM plugin "${path.basename(sock, '.sock')}" on unix://${sock}`);
    if (await forwardPolicyDrops()) log('!! the iptables FORWARD policy is DROP (dockerd sets it when it turned on ip_forward itself): bridged traffic of ctrnet\'s networks is dropped too. Fix: iptables -P FORWARD ACCEPT, or start ctrnetd before dockerd');
  }
  let ui: { close(): Promise<void> } | undefined;
  if (o.ui) {
    ui = await startUi(o.ui, { topology: () => engine.topology(), explain: (id) => engine.explain(id), events });
    log(`web UI on http://${o.ui}/`);
  }

  return async () => {
    eventLog.close();
    await ui?.close();
    health.close();
    containers.close();
    unwatch();
    resolver.closeAll();
    await overlay.control.close();
    fastPath.stop();
    server.close();
    server.closeAllConnections();
    if (plugin) {
      plugin.close();
      plugin.closeAllConnections();
      await unlink(o.dockerPlugin!).catch(() => {
        // already gone: nothing to clean
      });
    }
    await unlink(o.socket).catch(() => {
      // already gone: nothing to clean
    });
    store.close();
    helper?.stop();
  };
}

export async function main(argv: string[]): Promise<void> {
  const log = (m: string) => process.stderr.write(`${new Date().toISOString()} ${m}\n`);
  let opts: DaemonOptions;
  try {
    opts = parseFlags(argv);
  } catch (e) {
    process.stderr.write(`ctrnetd: ${(e as Error).message}\n`);
    process.exit(2);
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('ctrnetd: must run as root (it creates network namespaces, links and nftables rules)\n');
    process.exit(1);
  }
  try {
    const stop = await startDaemon(opts, log);
    const onSignal = (sig: string) => {
      log(`${sig}: shutting down (containers keep running)`);
      // Nothing may hold the shutdown: after 5 s the daemon exits whatever is still pending.
      setTimeout(() => {
        log('shutdown took over 5 s: exiting now');
        process.exit(0);
      }, 5000).unref();
      void stop().then(() => process.exit(0), (e) => {
        log(`shutdown: ${describe(e)}`);
        process.exit(1);
      });
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));
  } catch (e) {
    log(`ctrnetd: ${describe(e)}`);
    process.exit(1);
  }
}

if (require.main === module) void main(process.argv.slice(2));

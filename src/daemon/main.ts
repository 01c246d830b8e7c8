/**
 * ctrnetd: parses dockerd-like flags, chooses the adapters (kernel, firewall, runtime), reconciles
 * state with the kernel, and serves the API on a unix socket. Containers keep running when it stops.
 */
import { chmod, chown, mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { createApi } from '../api/server';
import { parseUiAddr, startUi } from '../ui/server';
import { explain } from '../core/explain';
import { buildTopology } from '../core/topology';
import { Containers } from '../core/containers';
import { describe } from '../base/errors';
import { Paths, paths } from '../base/names';
import { AddressPool, DEFAULT_POOLS, Networks, parsePool } from '../core/networks';
import { Resolver, Upstream, upstreamsFrom } from '../dns/resolver';
import { storeNames } from '../dns/names';
import { EngineEvents } from '../core/events';
import { Overlay, OPT_VNI } from '../core/overlay';
import { OverlayDriver, VXLAN_OVERHEAD } from '../drivers/overlay-driver';
import { EtcdClusterStore } from '../state/cluster-store';
import { readFileSync } from 'node:fs';

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
import { Sandboxes } from '../core/sandbox';
import { BridgeDriver } from '../drivers/bridge-driver';
import { NftFirewall } from '../firewall/nft/nft-firewall';
import { IpKernel } from '../kernel/ip-kernel';
import { KernelHelper } from '../kernel/helper';
import { NativeKernel } from '../kernel/native-kernel';
import { nativeNft } from '../firewall/nft/nft-native';
import { Kernel } from '../kernel/kernel';
import { ImageStore } from '../runtime/image-store';
import { RuncRuntime } from '../runtime/runc';
import { Store } from '../state/store';
import { reconcile } from './reconcile';

export const VERSION = '0.1.0';

export interface DaemonOptions {
  root: string;
  execRoot: string;
  socket: string;
  bridge: string;
  bip: string;
  mtu?: number;
  pools: AddressPool[];
  /** name servers the embedded resolver forwards to; empty: those of /etc/resolv.conf */
  dnsUpstreams: Upstream[];
  /** etcd://HOST:PORT, for overlay networks */
  clusterStore?: string;
  advertiseAddr?: string;
  /** seconds before a dead host's keys vanish from the cluster store */
  clusterTtl: number;
  /** IP:PORT of the web UI (--ui); no web UI without it */
  ui?: string;
}

const USAGE = `Usage: ctrnetd [OPTIONS]

A container network engine: runs containers with runc and wires them like Docker.

Options:
      --root DIR          state and images (default /var/lib/ctrnet)
      --exec-root DIR     runtime files and network namespaces (default /run/ctrnet)
  -H, --host unix:///P    API socket (default unix:///run/ctrnet/ctrnet.sock)
      --bridge NAME       default bridge (default ctrnet0)
      --bip CIDR          default bridge address (default 172.17.0.1/16)
      --mtu N             container MTU (default: the MTU of the default-route interface)
      --default-address-pool base=CIDR,size=N
                          pools for new networks (repeatable; default 172.17-31.0.0/16, then 192.168.0.0/16 in /20s)
      --dns-upstream IP[:PORT]
                          where the embedded resolver forwards other names (repeatable; default: /etc/resolv.conf)
      --cluster-store etcd://HOST:PORT
                          the etcd cluster shared by the hosts of overlay networks
      --advertise-addr IP this host's address for VXLAN traffic (needed with --cluster-store)
      --cluster-lease-ttl N
                          seconds before a dead host's endpoints vanish from the others (default 8; an etcd
                          outage longer than that also drops live hosts' endpoints until they republish)
      --ui IP:PORT        serve the live topology page there, e.g. 127.0.0.1:7777 (default: no web UI)
`;

/** Paths under the roots reach the kernel helper as space-separated tokens (and runc, overlay options). */
function noSpace(flag: string, dir: string): string {
  if (/[\s,:]/.test(dir)) throw new Error(`${flag} ${dir}: the directory must not contain white space, commas or colons; choose another`);
  return dir;
}

export function parseFlags(argv: string[]): DaemonOptions {
  const o: DaemonOptions = { root: '/var/lib/ctrnet', execRoot: '/run/ctrnet', socket: '/run/ctrnet/ctrnet.sock', bridge: 'ctrnet0', bip: '172.17.0.1/16', pools: [], dnsUpstreams: [], clusterTtl: 8 };
  for (let i = 0; i < argv.length; i++) {
    let [flag, value] = argv[i].includes('=') ? [argv[i].slice(0, argv[i].indexOf('=')), argv[i].slice(argv[i].indexOf('=') + 1)] : [argv[i], undefined];
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) throw new Error(`flag ${flag} needs a value\n\n${USAGE}`);
      return argv[++i];
    };
    switch (flag) {
      case '--root': o.root = noSpace('--root', path.resolve(next())); break;
      case '--exec-root': o.execRoot = noSpace('--exec-root', path.resolve(next())); break;
      case '-H': case '--host': {
        const h = next();
        if (!h.startsWith('unix://')) throw new Error(`-H ${h}: only unix:///PATH sockets are supported`);
        o.socket = h.slice('unix://'.length);
        break;
      }
      case '--bridge': {
        o.bridge = next();
        if (!/^[a-zA-Z0-9_.-]{1,15}$/.test(o.bridge)) throw new Error(`--bridge ${o.bridge}: use 1 to 15 letters, digits, "_", "." or "-"`);
        break;
      }
      case '--bip': o.bip = next(); break;
      case '--mtu': {
        const v = next();
        o.mtu = /^\d+$/.test(v) ? Number(v) : NaN;
        if (!(o.mtu >= 576 && o.mtu <= 65535)) throw new Error(`--mtu ${v}: give a number from 576 to 65535`);
        break;
      }
      case '--default-address-pool': o.pools.push(parsePool(next())); break;
      case '--dns-upstream': {
        const v = next();
        const m = /^(\d+\.\d+\.\d+\.\d+)(?::(\d+))?$/.exec(v);
        if (!m) throw new Error(`--dns-upstream ${v}: give IP or IP:PORT`);
        o.dnsUpstreams.push({ host: m[1], port: m[2] ? Number(m[2]) : 53 });
        break;
      }
      case '--cluster-store': {
        const v = next();
        if (!/^etcd:\/\/[^/]+:\d+$/.test(v)) throw new Error(`--cluster-store ${v}: write it as etcd://HOST:PORT`);
        o.clusterStore = v;
        break;
      }
      case '--advertise-addr': {
        const v = next();
        if (!/^\d+\.\d+\.\d+\.\d+$/.test(v)) throw new Error(`--advertise-addr ${v}: give this host's IPv4 address`);
        o.advertiseAddr = v;
        break;
      }
      case '--cluster-lease-ttl': {
        const v = next();
        o.clusterTtl = Number(v);
        if (!Number.isInteger(o.clusterTtl) || o.clusterTtl < 2) throw new Error(`--cluster-lease-ttl ${v}: give whole seconds, at least 2`);
        break;
      }
      case '--ui': {
        const v = next();
        parseUiAddr(v);
        o.ui = v;
        break;
      }
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0); // eslint-disable-line no-fallthrough
      default: throw new Error(`unknown flag ${flag}\n\n${USAGE}`);
    }
    value = undefined;
  }
  if (o.clusterStore && !o.advertiseAddr) throw new Error('--cluster-store needs --advertise-addr IP (this host\'s address that the other hosts reach)');
  if (o.advertiseAddr && !o.clusterStore) throw new Error('--advertise-addr goes with --cluster-store etcd://HOST:PORT');
  return o;
}

/** The MTU of the interface holding `address` (the advertise address). */
async function mtuOfAddress(kernel: Kernel, address: string): Promise<number> {
  const dev = (await kernel.addrList()).find((a) => a.address === address)?.dev;
  if (!dev) throw new Error(`--advertise-addr ${address} is not an address of this host`);
  return (await kernel.linkList()).find((l) => l.name === dev)!.mtu;
}

/** The MTU of the interface holding the default route; 1500 without one. */
async function defaultMtu(kernel: Kernel): Promise<number> {
  const def = (await kernel.routeList()).find((r) => r.dst === 'default');
  const link = def?.dev ? (await kernel.linkList()).find((l) => l.name === def.dev) : undefined;
  return link?.mtu ?? 1500;
}

export async function startDaemon(o: DaemonOptions, log: (m: string) => void): Promise<() => Promise<void>> {
  const p: Paths = { root: o.root, execRoot: o.execRoot };
  await mkdir(o.root, { recursive: true, mode: 0o711 });
  await mkdir(paths.netnsDir(p), { recursive: true });
  await mkdir(path.dirname(o.socket), { recursive: true });
  // The fast path (ctrnet-kernel: netlink and libnftables in one long-lived process) unless it was
  // not built or CTRNET_KERNEL=ip asks for the iproute2/nft programs (the reference adapters).
  let helper = process.env.CTRNET_KERNEL !== 'ip' && KernelHelper.available() ? new KernelHelper() : undefined;
  // A helper that cannot run here (a missing libnftables, say) must not fail every operation.
  await helper?.request('batch - 0').catch((e) => {
    log(`ctrnet-kernel does not work here (${describe(e)}): using the ip and nft programs instead`);
    helper = undefined;
  });
  const kernel = helper ? new NativeKernel(helper) : new IpKernel();
  const mtu = o.mtu ?? (await defaultMtu(kernel));
  const store = new Store(paths.db(p));
  const firewall = new NftFirewall(helper ? nativeNft(helper) : undefined);
  let overlay: Overlay | undefined;
  const resolver = new Resolver(storeNames(store, () => overlay), () => (o.dnsUpstreams.length ? o.dnsUpstreams : upstreamsFrom(readHostResolvConf())), log);
  const overlayMtu = o.advertiseAddr ? (await mtuOfAddress(kernel, o.advertiseAddr)) - VXLAN_OVERHEAD : mtu;
  const networks = new Networks(store, { bridge: new BridgeDriver(kernel, firewall) }, { bridge: o.bridge, bip: o.bip, mtu, pools: o.pools.length ? o.pools : DEFAULT_POOLS, overlayMtu }, kernel, resolver);
  if (o.clusterStore && o.advertiseAddr) {
    const cluster = new EtcdClusterStore(o.clusterStore, o.advertiseAddr, o.clusterTtl, log);
    overlay = new Overlay(store, cluster, new OverlayDriver(kernel, firewall, o.advertiseAddr, (n) => Number(JSON.parse(store.network(n.id)?.options ?? '{}')[OPT_VNI])), (row) => networks.info(row), log);
    networks.setOverlay(overlay);
  }
  const sandboxes = new Sandboxes(p, kernel, store, networks);
  const images = new ImageStore(p, store);
  const runtime = new RuncRuntime(p, kernel);
  const containers = new Containers(p, store, images, runtime, sandboxes, networks, log);
  // The overlay's network records come from the cluster: read them before reconciling.
  if (overlay) await overlay.start();
  await reconcile({ p, store, kernel, networks, sandboxes, containers, runtime, log });
  await networks.restoreResolvers();
  const unwatch = firewall.watch(log);
  if (overlay) await overlay.resync().catch((e) => log(`overlay resync: ${describe(e)}`));
  await images.ensureBusybox();

  const events = new EngineEvents();
  for (const [from, action] of [['create', 'create'], ['start', 'start'], ['exit', 'exit'], ['removed', 'remove'], ['connect', 'connect'], ['disconnect', 'disconnect'], ['rename', 'rename']]) {
    containers.on(from, (id: string) => events.emit('container', action, id));
  }
  if (overlay) overlay.onPeersChanged = (id) => events.emit('network', 'peers', id);
  const engine = { store, containers, networks, sandboxes, images, events, firewall, kernel, info: { version: VERSION, root: o.root, execRoot: o.execRoot, bridge: o.bridge, mtu, startedAt: new Date() } };
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
  let ui: { close(): Promise<void> } | undefined;
  if (o.ui) {
    ui = await startUi(o.ui, { topology: () => buildTopology(engine, kernel), explain: (id) => explain(engine, kernel, id), events: engine.events });
    log(`web UI on http://${o.ui}/`);
  }

  return async () => {
    await ui?.close();
    containers.close();
    unwatch();
    resolver.closeAll();
    await overlay?.close();
    server.close();
    server.closeAllConnections();
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

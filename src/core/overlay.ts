/**
 * The overlay control plane on one host: keeps the local network records in step with the cluster
 * store, caches every endpoint (peer) of the cluster, and programs each overlay network's FDB and
 * neighbour entries through the driver whenever its peers change (watch events), after a
 * reconnection (full read), and after the lease was renewed (republishing this host's endpoints).
 */
import { describe, EngineError } from '../base/errors';
import { KeyedMutex } from '../base/mutex';
import { overlayBridgeName } from '../base/names';
import { NetworkInfo } from '../drivers/driver';
import { OverlayDriver } from '../drivers/overlay-driver';
import { ClusterStore, OverlayNetwork, Peer, PeerEvent } from '../state/cluster-store';
import { NetworkRow, Store } from '../state/store';

export const OPT_VNI = 'com.docker.network.driver.overlay.vxlanid_list';

export class Overlay {
  /** network id → ip → peer, for the whole cluster */
  private readonly peers = new Map<string, Map<string, Peer>>();
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly store: Store,
    readonly cluster: ClusterStore,
    readonly driver: OverlayDriver,
    private readonly info: (row: NetworkRow) => NetworkInfo,
    private readonly log: (m: string) => void,
  ) {}

  private started = false;

  /**
   * Joins the cluster. An unreachable etcd does not stop the daemon: running containers keep
   * their kernel state, overlay operations fail with CLUSTER_UNAVAILABLE, and joining is retried
   * in the background until etcd answers (then everything is read again and reprogrammed).
   */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      this.log(`cluster store unreachable (${describe(e)}): retrying in the background`);
      void (async () => {
        for (let delay = 1000; !this.started && !this.closed; delay = Math.min(delay * 2, 10_000)) {
          await new Promise((r) => setTimeout(r, delay));
          try {
            await this.connect();
            await this.resync();
          } catch {
            // still unreachable: try again after the delay
          }
        }
      })();
    }
  }

  private async connect(): Promise<void> {
    await this.cluster.start();
    await this.syncNetworks();
    await this.cluster.watch({
      networks: () => void this.syncNetworks().catch((e) => this.log(`overlay networks: ${describe(e)}`)),
      peer: (e) => this.onPeer(e),
      resync: () => void this.resync().catch((e) => this.log(`overlay resync: ${describe(e)}`)),
    });
    this.cluster.onLeaseRenewed(() => void this.resync().catch((e) => this.log(`overlay republish: ${describe(e)}`)));
    this.started = true;
  }

  private closed = false;

  /** Local rows mirror the cluster's networks; kernel objects of removed networks go. */
  async syncNetworks(): Promise<void> {
    const remote = await this.cluster.networks();
    const ids = new Set(remote.map((n) => n.id));
    for (const n of remote) if (!this.store.network(n.id)) this.store.insertNetwork(rowOf(n));
    for (const row of this.store.networks().filter((r) => r.driver === 'overlay' && !ids.has(r.id))) {
      if (this.store.endpoints({ networkId: row.id }).length) continue; // cannot happen: rm refuses while endpoints exist
      await this.driver.deleteNetwork(this.info(row)).catch((e) => this.log(`removing overlay ${row.name}: ${describe(e)}`));
      this.store.deleteNetwork(row.id);
      this.peers.delete(row.id);
    }
  }

  /**
   * Full read: republish this host's endpoints, drop stale ones of ours, program every network.
   * The cache is replaced from a read made after every write of ours and without waiting in
   * between: a watch event handled while this runs is either in that read or comes after it.
   * (Replacing it from an earlier read would undo events that arrived meanwhile, such as a
   * container started elsewhere while the watch was catching up after a partition.)
   */
  async resync(): Promise<void> {
    if (!this.started) return;
    await this.syncNetworks();
    const mine = this.localPeers();
    for (const p of mine) {
      if (!(await this.cluster.republish(p))) {
        // Taken by another host while ours was unreachable: never advertise it again.
        this.log(`!! address ${p.ip} of ${p.name} on overlay ${p.networkId.slice(0, 12)} now belongs to another host: not advertising it; restart ${p.name} to get a new one`);
      }
    }
    for (const p of await this.cluster.peers()) {
      if (p.host === this.cluster.advertise && !mine.some((m) => m.networkId === p.networkId && m.ip === p.ip)) {
        await this.cluster.deletePeer(p.networkId, p.ip);
        await this.cluster.releaseAddress(p.networkId, p.ip);
      }
    }
    const all = await this.cluster.peers();
    this.peers.clear();
    for (const p of [...all.filter((p) => p.host !== this.cluster.advertise), ...mine]) this.cache(p);
    for (const row of this.store.networks().filter((r) => r.driver === 'overlay')) await this.program(row.id, true);
  }

  /** This host's endpoints on overlay networks, from the local records. */
  private localPeers(): Peer[] {
    const out: Peer[] = [];
    for (const row of this.store.networks().filter((r) => r.driver === 'overlay')) {
      for (const ep of this.store.endpoints({ networkId: row.id })) {
        const c = this.store.container(ep.container_id);
        if (c) out.push({ networkId: row.id, ip: ep.ip, mac: ep.mac, host: this.cluster.advertise, containerId: c.id, name: c.name, aliases: JSON.parse(ep.aliases) as string[] });
      }
    }
    return out;
  }

  private cache(p: Peer): void {
    if (!this.peers.has(p.networkId)) this.peers.set(p.networkId, new Map());
    this.peers.get(p.networkId)!.set(p.ip, p);
  }

  /** Called when a network's remote endpoints changed (live views). */
  onPeersChanged: (networkId: string) => void = () => {};

  private onPeer(e: PeerEvent): void {
    if (e.type === 'put') this.cache(e.peer);
    else this.peers.get(e.networkId)?.delete(e.ip);
    const id = e.type === 'put' ? e.peer.networkId : e.networkId;
    this.onPeersChanged(id);
    void this.program(id).catch((err) => this.log(`programming overlay ${id}: ${describe(err)}`));
  }

  /** Programs one network's remote entries from the cache (serialised per network); `fresh`: against the kernel's. */
  private async program(networkId: string, fresh = false): Promise<void> {
    const row = this.store.network(networkId);
    if (!row || row.driver !== 'overlay') return;
    await this.mutex.run(networkId, () => this.driver.syncPeers(this.info(row), [...(this.peers.get(networkId)?.values() ?? [])], fresh));
  }

  // ------------------------------------------------------------ used by Networks and the sandbox layer

  async createNetwork(n: Omit<OverlayNetwork, 'vni' | 'subnet' | 'gateway'>, decide: (others: OverlayNetwork[]) => { subnet: string; gateway: string }): Promise<NetworkRow> {
    const net = await this.cluster.createNetwork(n, decide);
    const row = rowOf(net);
    if (!this.store.network(row.id)) this.store.insertNetwork(row);
    return row;
  }

  async removeNetwork(row: NetworkRow): Promise<void> {
    const users = await this.cluster.peers(row.id);
    if (users.length) {
      throw new EngineError('NETWORK_IN_USE', `error while removing network: network ${row.name} id ${row.id} has active endpoints (${users.map((u) => `${u.name} on ${u.host}`).join(', ')})`, {
        hint: 'stop or disconnect those containers first, on every host',
      });
    }
    await this.cluster.deleteNetwork(row.id);
    await this.driver.deleteNetwork(this.info(row));
    this.store.deleteNetwork(row.id);
    this.peers.delete(row.id);
  }

  allocate(networkId: string, containerId: string, pick: (used: Set<string>) => string): Promise<string> {
    return this.cluster.allocateAddress(networkId, containerId, pick);
  }

  async publish(p: Omit<Peer, 'host'>): Promise<void> {
    const peer = { ...p, host: this.cluster.advertise };
    await this.cluster.putPeer(peer);
    this.cache(peer);
    await this.program(p.networkId);
  }

  async withdraw(networkId: string, ip: string): Promise<void> {
    this.peers.get(networkId)?.delete(ip);
    await this.cluster.deletePeer(networkId, ip);
    await this.cluster.releaseAddress(networkId, ip);
  }

  /** Names on an overlay network, across all hosts: container names, aliases, short ids. */
  lookup(networkId: string, name: string): string[] {
    return [...(this.peers.get(networkId)?.values() ?? [])]
      .filter((p) => p.name.toLowerCase() === name || p.containerId.slice(0, 12) === name || p.aliases.some((a) => a.toLowerCase() === name))
      .map((p) => p.ip);
  }

  /** Every endpoint of an overlay network known to this host, on all hosts (read-only, for the topology). */
  peersOf(networkId: string): Peer[] {
    return [...(this.peers.get(networkId)?.values() ?? [])];
  }

  reverse(networkId: string, ip: string): string | undefined {
    return this.peers.get(networkId)?.get(ip)?.name;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cluster.close();
  }
}

function rowOf(n: OverlayNetwork): NetworkRow {
  return {
    id: n.id, name: n.name, driver: 'overlay', subnet: n.subnet, gateway: n.gateway, ip_range: n.ipRange, bridge: overlayBridgeName(n.id),
    internal: n.internal ? 1 : 0, options: JSON.stringify({ ...n.options, [OPT_VNI]: String(n.vni) }), labels: JSON.stringify(n.labels), created: n.created,
  };
}

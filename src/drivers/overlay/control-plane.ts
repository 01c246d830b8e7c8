/**
 * The overlay's control plane on one host: keeps the local network records in step with the cluster
 * store, caches every endpoint (peer) of the cluster, and programs each overlay network's FDB and
 * neighbour entries through the driver whenever its peers change (watch events), after a
 * reconnection (full read), and after the lease was renewed (republishing this host's endpoints).
 */
import { describe, EngineError } from '../../base/errors';
import { EngineEvents } from '../../base/events';
import { Network } from '../../base/model';
import { KeyedMutex } from '../../base/mutex';
import { overlayBridgeName } from '../../base/names';
import { ClusterStore, OverlayAddressing, OverlayNetwork, Peer, PeerEvent, peerKey } from '../../state/cluster-store';
import { AttachmentRepo, ContainerRepo, EndpointRepo, NetworkRepo } from '../../state/repos';
import { OPT_VNI } from '../../base/network-options';
import { VxlanPlane } from './vxlan';

export interface OverlayRepos {
  networks: NetworkRepo;
  endpoints: EndpointRepo;
  containers: ContainerRepo;
  /** sandboxes attached through the CNI or Docker plugin: their endpoints are this host's too */
  attachments?: AttachmentRepo;
}

export class ControlPlane {
  /** network id → ip → peer, for the whole cluster */
  private readonly peers = new Map<string, Map<string, Peer>>();
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly repo: OverlayRepos,
    readonly cluster: ClusterStore,
    private readonly plane: VxlanPlane,
    private readonly events: EngineEvents,
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
    for (const n of remote) if (!this.repo.networks.get(n.id)) this.repo.networks.put(networkOf(n));
    for (const net of this.overlays().filter((r) => !ids.has(r.id))) {
      if (this.repo.endpoints.list({ networkId: net.id }).length) continue; // cannot happen: rm refuses while endpoints exist
      await this.plane.remove(net).catch((e) => this.log(`removing overlay ${net.name}: ${describe(e)}`));
      this.repo.networks.delete(net.id);
      this.peers.delete(net.id);
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
        this.log(`!! address ${peerKey(p)} of ${p.name} on overlay ${p.networkId.slice(0, 12)} now belongs to another host: not advertising it; restart ${p.name} to get a new one`);
      }
    }
    for (const p of await this.cluster.peers()) {
      if (p.host === this.cluster.advertise && !mine.some((m) => m.networkId === p.networkId && peerKey(m) === peerKey(p))) {
        await this.cluster.deletePeer(p.networkId, peerKey(p));
        for (const a of [p.ip, p.ip6]) if (a) await this.cluster.releaseAddress(p.networkId, a);
      }
    }
    const all = await this.cluster.peers();
    this.peers.clear();
    for (const p of [...all.filter((p) => p.host !== this.cluster.advertise), ...mine]) this.cache(p);
    for (const net of this.overlays()) await this.program(net.id, true);
  }

  /** The overlay networks this host knows (mirrored from the cluster). */
  private overlays(): Network[] {
    return this.repo.networks.list().filter((r) => r.driver === 'overlay');
  }

  /** This host's endpoints on overlay networks, from the local records. */
  private localPeers(): Peer[] {
    const out: Peer[] = [];
    for (const net of this.overlays()) {
      for (const ep of this.repo.endpoints.list({ networkId: net.id })) {
        const c = this.repo.containers.get(ep.containerId) ?? this.repo.attachments?.get(ep.containerId);
        if (c) out.push({ networkId: net.id, ip: ep.ip, ...(ep.ip6 ? { ip6: ep.ip6 } : {}), mac: ep.mac, host: this.cluster.advertise, containerId: c.id, name: c.name, aliases: ep.aliases });
      }
    }
    return out;
  }

  private cache(p: Peer): void {
    if (!this.peers.has(p.networkId)) this.peers.set(p.networkId, new Map());
    this.peers.get(p.networkId)!.set(peerKey(p), p);
  }

  private onPeer(e: PeerEvent): void {
    if (e.type === 'put') this.cache(e.peer);
    else this.peers.get(e.networkId)?.delete(e.ip);
    const id = e.type === 'put' ? e.peer.networkId : e.networkId;
    this.events.emit('network', 'peers', id);
    void this.program(id).catch((err) => this.log(`programming overlay ${id}: ${describe(err)}`));
  }

  /** Programs one network's remote entries from the cache (serialised per network); `fresh`: against the kernel's. */
  private async program(networkId: string, fresh = false): Promise<void> {
    const net = this.repo.networks.get(networkId);
    if (!net || net.driver !== 'overlay') return;
    await this.mutex.run(networkId, () => this.plane.syncPeers(net, [...(this.peers.get(networkId)?.values() ?? [])], fresh));
  }

  // ------------------------------------------------------------ used by the driver

  /** Creates a network cluster-wide (unique name and VNI; `decide` chooses its subnet) and mirrors it locally. */
  async createNetwork(n: Omit<OverlayNetwork, 'vni' | 'subnet' | 'gateway'>, decide: (others: OverlayNetwork[]) => OverlayAddressing): Promise<Network> {
    const net = networkOf(await this.cluster.createNetwork(n, decide));
    if (!this.repo.networks.get(net.id)) this.repo.networks.put(net);
    return net;
  }

  async removeNetwork(net: Network): Promise<void> {
    const users = await this.cluster.peers(net.id);
    if (users.length) {
      throw new EngineError('NETWORK_IN_USE', `error while removing network: network ${net.name} id ${net.id} has active endpoints (${users.map((u) => `${u.name} on ${u.host}`).join(', ')})`, {
        hint: 'stop or disconnect those containers first, on every host',
      });
    }
    await this.cluster.deleteNetwork(net.id);
    await this.plane.remove(net);
    this.repo.networks.delete(net.id);
    this.peers.delete(net.id);
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

  /** Withdraws an endpoint: its peer entry (by its key) and its addresses' allocations. */
  async withdraw(networkId: string, ep: { ip: string; ip6?: string }): Promise<void> {
    const key = peerKey(ep);
    this.peers.get(networkId)?.delete(key);
    await this.cluster.deletePeer(networkId, key);
    for (const a of [ep.ip, ep.ip6]) if (a) await this.cluster.releaseAddress(networkId, a);
  }

  /** Every endpoint of an overlay network known to this host, on all hosts. */
  peersOf(networkId: string): Peer[] {
    return [...(this.peers.get(networkId)?.values() ?? [])];
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.cluster.close();
  }
}

function networkOf(n: OverlayNetwork): Network {
  const net: Network = {
    id: n.id, name: n.name, driver: 'overlay', bridge: overlayBridgeName(n.id),
    internal: n.internal, options: { ...n.options, [OPT_VNI]: String(n.vni) }, labels: n.labels, created: n.created,
  };
  if (n.subnet) Object.assign(net, { subnet: n.subnet, gateway: n.gateway, ...(n.ipRange ? { ipRange: n.ipRange } : {}) });
  if (n.subnet6) Object.assign(net, { subnet6: n.subnet6, gateway6: n.gateway6, ...(n.ipRange6 ? { ipRange6: n.ipRange6 } : {}) });
  if (n.ipv4 === false) net.ipv4 = false;
  if (n.attachable) net.attachable = true;
  if (n.ingress) net.ingress = true;
  return net;
}

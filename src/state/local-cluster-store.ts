/**
 * The one-member cluster store: the ClusterStore of a host that is its whole cluster (a one-node
 * swarm, `docker swarm init` without `ctrnetd --cluster-store`). The overlay driver and its
 * control plane run on it unchanged; what etcd decides in transactions between hosts is decided
 * here by the one writer there is.
 *
 * - Networks (name, VNI, subnet, flags) are kept in SQLite (LocalClusterRepo), so they survive a
 *   restart as etcd's keys would.
 * - Address allocations and peers live in memory, as etcd keeps them under the host's lease: the
 *   control plane republishes this host's endpoints from its local records at start (resync),
 *   which rebuilds them. Every peer is this host's, so no FDB or neighbour entry is ever
 *   programmed and the VXLAN device sends nothing.
 * - Overlay networks exist only while the swarm does: `active()` says so, and creating one
 *   without it is NO_CLUSTER_STORE (today's error of a daemon without a cluster store).
 *
 * Limitations: one host only (no watch events: no other host writes); `advertise` is the address
 * given to the VXLAN devices' local end and is never sent to.
 */
import { EngineError, networkNameInUse } from '../base/errors';
import { ClusterStore, OverlayAddressing, OverlayNetwork, Peer, PeerEvent, peerKey } from './cluster-store';
import { LocalClusterRepo } from './repos';

const FIRST_VNI = 4096;
const LAST_VNI = (1 << 24) - 1;

export class LocalClusterStore implements ClusterStore {
  readonly url = 'local://this-host';
  /** network id → address → container id */
  private readonly allocations = new Map<string, Map<string, string>>();
  /** network id → peer key → peer */
  private readonly peerMap = new Map<string, Map<string, Peer>>();

  constructor(
    private readonly repo: LocalClusterRepo,
    /** whether overlay networks may be created (the swarm exists) */
    private readonly active: () => boolean,
    readonly advertise: string,
  ) {}

  async start(): Promise<void> {
    // Nothing to connect to.
  }

  async close(): Promise<void> {
    // Nothing to disconnect from: the records are in SQLite, the rest is rebuilt at start.
  }

  async createNetwork(n: Omit<OverlayNetwork, 'vni' | 'subnet' | 'gateway'>, decide: (others: OverlayNetwork[]) => OverlayAddressing): Promise<OverlayNetwork> {
    if (!this.active()) {
      throw new EngineError('NO_CLUSTER_STORE', 'overlay networks need a cluster store', {
        hint: 'run "docker swarm init" (overlay networks on this host alone), or start ctrnetd with --cluster-store etcd://HOST:2379 --advertise-addr IP (on every host)',
      });
    }
    const others = this.repo.list();
    if (others.some((o) => o.name === n.name)) throw networkNameInUse(n.name);
    const chosen = decide(others);
    const used = new Set(others.map((o) => o.vni));
    let vni = FIRST_VNI;
    while (used.has(vni)) vni++;
    if (vni > LAST_VNI) throw new EngineError('ADDRESS_EXHAUSTED', 'no free VXLAN id');
    const net: OverlayNetwork = { ...n, ...chosen, vni };
    this.repo.insert(net);
    return net;
  }

  async deleteNetwork(id: string): Promise<void> {
    this.repo.delete(id);
    this.allocations.delete(id);
    this.peerMap.delete(id);
  }

  async networks(): Promise<OverlayNetwork[]> {
    return this.repo.list();
  }

  async allocateAddress(networkId: string, containerId: string, pick: (used: Set<string>) => string): Promise<string> {
    const taken = this.allocationsOf(networkId);
    const ip = pick(new Set(taken.keys()));
    // `pick` is the driver's allocator and sees every taken address; taking one twice is its bug.
    if (taken.has(ip)) throw new EngineError('ADDRESS_EXHAUSTED', `address ${ip} on network ${networkId} is already in use`);
    taken.set(ip, containerId);
    return ip;
  }

  async releaseAddress(networkId: string, ip: string): Promise<void> {
    this.allocations.get(networkId)?.delete(ip);
  }

  async putPeer(p: Peer): Promise<void> {
    this.peersOf(p.networkId).set(peerKey(p), p);
  }

  /** Re-takes the peer's addresses unless another container holds them (cannot happen with one writer, checked all the same). */
  async republish(p: Peer): Promise<boolean> {
    const taken = this.allocationsOf(p.networkId);
    const addrs = [p.ip, p.ip6].filter((a): a is string => !!a);
    if (addrs.some((a) => taken.has(a) && taken.get(a) !== p.containerId)) return false;
    for (const a of addrs) taken.set(a, p.containerId);
    this.peersOf(p.networkId).set(peerKey(p), p);
    return true;
  }

  async deletePeer(networkId: string, ip: string): Promise<void> {
    this.peerMap.get(networkId)?.delete(ip);
  }

  async peers(networkId?: string): Promise<Peer[]> {
    if (networkId) return [...(this.peerMap.get(networkId)?.values() ?? [])];
    return [...this.peerMap.values()].flatMap((m) => [...m.values()]);
  }

  async watch(_cb: { networks: () => void; peer: (e: PeerEvent) => void; resync: () => void }): Promise<void> {
    // No other host writes: every change is this host's own, which the control plane already applies.
  }

  onLeaseRenewed(_cb: () => void): void {
    // No lease to lose.
  }

  private allocationsOf(networkId: string): Map<string, string> {
    let m = this.allocations.get(networkId);
    if (!m) this.allocations.set(networkId, (m = new Map()));
    return m;
  }

  private peersOf(networkId: string): Map<string, Peer> {
    let m = this.peerMap.get(networkId);
    if (!m) this.peerMap.set(networkId, (m = new Map()));
    return m;
  }
}

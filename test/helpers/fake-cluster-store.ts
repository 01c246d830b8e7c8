/**
 * An in-memory ClusterStore for unit tests of the overlay driver's logic: networks with unique
 * names and VNIs, address allocations and peers, as one host's view of etcd would hold them. It
 * can be told to fail a chosen call. No leases, no watches (tests call the driver directly).
 */
import { ClusterStore, OverlayNetwork, Peer, PeerEvent } from '../../src/state/cluster-store';

type Op = 'createNetwork' | 'deleteNetwork' | 'allocateAddress' | 'releaseAddress' | 'putPeer' | 'deletePeer';

export class FakeClusterStore implements ClusterStore {
  readonly url = 'etcd://fake:2379';
  readonly nets = new Map<string, OverlayNetwork>();
  /** network id → allocated addresses */
  readonly allocations = new Map<string, Set<string>>();
  readonly peerMap = new Map<string, Peer>();
  private failures: Op[] = [];

  constructor(readonly advertise = '10.1.0.11') {}

  failNext(op: Op): void {
    this.failures.push(op);
  }

  private check(op: Op): void {
    const i = this.failures.indexOf(op);
    if (i >= 0) {
      this.failures.splice(i, 1);
      throw new Error(`fake cluster store: ${op} failed on purpose`);
    }
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}

  async createNetwork(n: Omit<OverlayNetwork, 'vni' | 'subnet' | 'gateway'>, decide: (others: OverlayNetwork[]) => { subnet: string; gateway: string }): Promise<OverlayNetwork> {
    this.check('createNetwork');
    const { subnet, gateway } = decide([...this.nets.values()]);
    const vni = 4096 + this.nets.size;
    const net = { ...n, subnet, gateway, vni };
    this.nets.set(n.id, net);
    return net;
  }
  async deleteNetwork(id: string): Promise<void> {
    this.check('deleteNetwork');
    this.nets.delete(id);
  }
  async networks(): Promise<OverlayNetwork[]> {
    return [...this.nets.values()];
  }
  async allocateAddress(networkId: string, _containerId: string, pick: (used: Set<string>) => string): Promise<string> {
    this.check('allocateAddress');
    const used = this.allocations.get(networkId) ?? new Set<string>();
    const ip = pick(new Set(used));
    used.add(ip);
    this.allocations.set(networkId, used);
    return ip;
  }
  async releaseAddress(networkId: string, ip: string): Promise<void> {
    this.check('releaseAddress');
    this.allocations.get(networkId)?.delete(ip);
  }
  async putPeer(p: Peer): Promise<void> {
    this.check('putPeer');
    this.peerMap.set(`${p.networkId} ${p.ip}`, p);
  }
  async republish(p: Peer): Promise<boolean> {
    this.peerMap.set(`${p.networkId} ${p.ip}`, p);
    return true;
  }
  async deletePeer(networkId: string, ip: string): Promise<void> {
    this.check('deletePeer');
    this.peerMap.delete(`${networkId} ${ip}`);
  }
  async peers(networkId?: string): Promise<Peer[]> {
    return [...this.peerMap.values()].filter((p) => !networkId || p.networkId === networkId);
  }
  async watch(_cb: { networks: () => void; peer: (e: PeerEvent) => void; resync: () => void }): Promise<void> {}
  onLeaseRenewed(): void {}
}

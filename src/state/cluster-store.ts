/**
 * The cluster store: what the hosts of an overlay share, in etcd, behind a narrow typed interface.
 *
 *   /ctrnet/nodes/<addr>                  a live host (under its lease)
 *   /ctrnet/networks/<id>                 an overlay network: name, subnet, VNI…
 *   /ctrnet/names/<name>, /ctrnet/vni/<n> uniqueness of names and VNIs (created in transactions)
 *   /ctrnet/ipam/<net>/<ip>               an address allocation (created in a transaction, under the lease)
 *   /ctrnet/peers/<net>/<ip>              an endpoint: address, MAC, host, names (under the lease)
 *
 * Keys under a host's lease vanish when it stops renewing it (it died): the others then remove
 * their FDB and neighbour entries. A daemon whose lease was lost republishes its own keys.
 * Every call is bounded: an unreachable etcd is an UNAVAILABLE error, never a hang.
 *
 * Limitations: a bound gives up waiting, it does not withdraw the request: a write sent just
 * before a partition may still be applied when it heals (an address allocated for a container
 * whose start failed stays taken until the host's lease ends).
 */
import { ExponentialBackoff } from 'cockatiel';
import { Etcd3, Lease, Watcher } from 'etcd3';
import { EngineError, networkNameInUse } from '../base/errors';

export interface OverlayNetwork {
  id: string;
  name: string;
  /** IPv4 subnet and gateway; "" on an IPv6-only network */
  subnet: string;
  gateway: string;
  ipRange: string | null;
  vni: number;
  internal: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  created: string;
  /** IPv6 subnet, gateway and range (absent: no IPv6) */
  subnet6?: string;
  gateway6?: string;
  ipRange6?: string;
  /** false: an IPv6-only network */
  ipv4?: false;
  /** Docker's Attachable and Ingress flags */
  attachable?: true;
  ingress?: true;
}

/** What `createNetwork`'s decision settles: the subnets and gateways of both families. */
export type OverlayAddressing = Pick<OverlayNetwork, 'subnet' | 'gateway' | 'subnet6' | 'gateway6' | 'ipRange6' | 'ipv4'>;

/** The address a peer is known by (its key): the IPv4 one, or the IPv6 one on an IPv6-only network. */
export const peerKey = (p: Pick<Peer, 'ip' | 'ip6'>): string => p.ip || p.ip6!;

export interface Peer {
  networkId: string;
  /** IPv4 address ("" on an IPv6-only network) */
  ip: string;
  /** IPv6 address, on a network with IPv6 */
  ip6?: string;
  mac: string;
  /** advertise address of the host holding the endpoint */
  host: string;
  containerId: string;
  name: string;
  aliases: string[];
}

export type PeerEvent = { type: 'put'; peer: Peer } | { type: 'delete'; networkId: string; ip: string };

export interface ClusterStore {
  readonly advertise: string;
  readonly url: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** Creates a network cluster-wide: unique name, a free VNI; `decide` sees the others and chooses the subnet. */
  createNetwork(n: Omit<OverlayNetwork, 'vni' | 'subnet' | 'gateway'>, decide: (others: OverlayNetwork[]) => OverlayAddressing): Promise<OverlayNetwork>;
  deleteNetwork(id: string): Promise<void>;
  networks(): Promise<OverlayNetwork[]>;
  /** Leases an address cluster-wide: `pick` sees every address in use on the network (both families). */
  allocateAddress(networkId: string, containerId: string, pick: (used: Set<string>) => string): Promise<string>;
  releaseAddress(networkId: string, ip: string): Promise<void>;
  putPeer(p: Peer): Promise<void>;
  /** Re-takes an allocation (both addresses) and a peer if its address is free or still ours; false when another owns it. */
  republish(p: Peer): Promise<boolean>;
  /** `ip`: the peer's key (peerKey) */
  deletePeer(networkId: string, ip: string): Promise<void>;
  peers(networkId?: string): Promise<Peer[]>;
  /** Calls back on every change of networks or peers, and with `resync` after each (re)connection. */
  watch(cb: { networks: () => void; peer: (e: PeerEvent) => void; resync: () => void }): Promise<void>;
  /** Called after a lost lease was replaced: the host must republish its keys. */
  onLeaseRenewed(cb: () => void): void;
}

const P = '/ctrnet';

/** Calls `fn` each time the watcher connects again (not the first time). */
function onReconnect(w: Watcher, fn: () => void): void {
  let first = true;
  w.on('connected', () => {
    if (first) first = false;
    else fn();
  });
}
const TIMEOUT_MS = 5000;
const FIRST_VNI = 4096;

export class EtcdClusterStore implements ClusterStore {
  private client: Etcd3;
  private lease?: Lease;
  private leaseId = '';
  private watchers: Watcher[] = [];
  private renewed: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly url: string,
    readonly advertise: string,
    private readonly ttl: number,
    private readonly log: (m: string) => void,
  ) {
    this.client = new Etcd3({
      hosts: url.replace(/^etcd:\/\//, 'http://'),
      dialTimeout: 3000,
      // Watches come back within 2 s of etcd's return (the default backoff grows to 30 s), so
      // peers reconverge quickly after an outage or a partition.
      // (etcd3 types this as a cockatiel 2 backoff; at run time it calls `.next()`, which cockatiel 3's factory has.)
      faultHandling: { watchBackoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 2000 }) as never },
      // A partition drops packets silently: without pings the watch stream would just stall (no
      // error, no reconnection, no resync) until TCP gives up, and heal only when TCP's
      // retransmission backoff lets it. With pings a dead connection is noticed within ~13 s; the
      // watch then reconnects as soon as etcd answers and the owner reads everything again.
      // (etcd refuses pings more often than every 5 s: --grpc-keepalive-min-time.)
      grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 3000 },
    });
  }

  private async bounded<T>(what: string, p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EngineError('CLUSTER_UNAVAILABLE', `cluster store ${this.url} did not answer in ${TIMEOUT_MS / 1000} s (${what})`, { hint: 'check that etcd is running and reachable from this host' })), TIMEOUT_MS);
    });
    try {
      return await Promise.race([p, timeout]);
    } catch (e) {
      if (e instanceof EngineError) throw e;
      throw new EngineError('CLUSTER_UNAVAILABLE', `cluster store ${this.url}: ${(e as Error).message} (${what})`, { cause: e, hint: 'check that etcd is running and reachable from this host' });
    } finally {
      clearTimeout(timer);
    }
  }

  async start(): Promise<void> {
    await this.grant();
  }

  private async grant(): Promise<void> {
    const lease = this.client.lease(this.ttl, { autoKeepAlive: true });
    this.leaseId = await this.bounded('granting a lease', lease.grant());
    this.lease = lease;
    lease.on('lost', (err: Error) => {
      if (this.closed || this.lease !== lease) return;
      this.log(`cluster lease lost (${err.message}): renewing`);
      void this.renew();
    });
    await this.bounded('registering this node', this.client.put(`${P}/nodes/${this.advertise}`).value(JSON.stringify({ addr: this.advertise })).lease(this.leaseId).exec());
  }

  /** Retries until etcd answers again, then asks the host to republish. */
  private async renew(): Promise<void> {
    for (let delay = 500; !this.closed; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.grant();
        for (const cb of this.renewed) cb();
        return;
      } catch {
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  onLeaseRenewed(cb: () => void): void {
    this.renewed.push(cb);
  }

  async close(): Promise<void> {
    this.closed = true;
    // Cancelling a watch waits for etcd's confirmation, which may never come: bound it.
    const cancels = Promise.all(this.watchers.map((w) => w.cancel().catch(() => {})));
    await Promise.race([cancels, new Promise((r) => setTimeout(r, 1000).unref())]);
    // The lease is not revoked: containers keep running and a restarted daemon takes over its keys.
    this.lease?.removeAllListeners();
    this.client.close();
  }

  async createNetwork(n: Omit<OverlayNetwork, 'vni' | 'subnet' | 'gateway'>, decide: (others: OverlayNetwork[]) => OverlayAddressing): Promise<OverlayNetwork> {
    const others = await this.networks();
    const chosen = decide(others);
    const used = new Set(others.map((o) => o.vni));
    for (let vni = FIRST_VNI; vni < FIRST_VNI + 1_000_000; vni++) {
      if (used.has(vni)) continue;
      const net: OverlayNetwork = { ...n, ...chosen, vni };
      const res = await this.bounded(
        'creating a network',
        this.client
          .if(`${P}/names/${n.name}`, 'Create', '==', 0)
          .and(`${P}/vni/${vni}`, 'Create', '==', 0)
          .then(this.client.put(`${P}/names/${n.name}`).value(n.id), this.client.put(`${P}/vni/${vni}`).value(n.id), this.client.put(`${P}/networks/${n.id}`).value(JSON.stringify(net)))
          .commit(),
      );
      if (res.succeeded) return net;
      if ((await this.networks()).some((o) => o.name === n.name)) {
        throw networkNameInUse(n.name);
      }
    }
    throw new EngineError('ADDRESS_EXHAUSTED', 'no free VXLAN id');
  }

  async deleteNetwork(id: string): Promise<void> {
    const net = (await this.networks()).find((n) => n.id === id);
    if (!net) return;
    await this.bounded(
      'deleting a network',
      this.client
        .if(`${P}/networks/${id}`, 'Create', '>', 0)
        .then(this.client.delete().key(`${P}/names/${net.name}`), this.client.delete().key(`${P}/vni/${net.vni}`), this.client.delete().key(`${P}/networks/${id}`), this.client.delete().prefix(`${P}/ipam/${id}/`))
        .commit(),
    );
  }

  async networks(): Promise<OverlayNetwork[]> {
    const all = await this.bounded('listing networks', this.client.getAll().prefix(`${P}/networks/`).strings());
    return Object.values(all).map((v) => JSON.parse(v) as OverlayNetwork);
  }

  async allocateAddress(networkId: string, containerId: string, pick: (used: Set<string>) => string): Promise<string> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const keys = await this.bounded('reading addresses', this.client.getAll().prefix(`${P}/ipam/${networkId}/`).keys());
      const used = new Set(keys.map((k) => k.slice(k.lastIndexOf('/') + 1)));
      const ip = pick(used);
      const key = `${P}/ipam/${networkId}/${ip}`;
      const res = await this.bounded('allocating an address', this.client.if(key, 'Create', '==', 0).then(this.client.put(key).value(containerId).lease(this.leaseId)).commit());
      if (res.succeeded) return ip;
      // Another host took it in the meantime: read again and pick again.
    }
    throw new EngineError('CLUSTER_UNAVAILABLE', `could not allocate an address on network ${networkId}: too much contention`, { hint: 'try again' });
  }

  async releaseAddress(networkId: string, ip: string): Promise<void> {
    await this.bounded('releasing an address', this.client.delete().key(`${P}/ipam/${networkId}/${ip}`).exec());
  }

  async putPeer(p: Peer): Promise<void> {
    await this.bounded('publishing an endpoint', this.client.put(`${P}/peers/${p.networkId}/${peerKey(p)}`).value(JSON.stringify(p)).lease(this.leaseId).exec());
  }

  async deletePeer(networkId: string, ip: string): Promise<void> {
    await this.bounded('withdrawing an endpoint', this.client.delete().key(`${P}/peers/${networkId}/${ip}`).exec());
  }

  /**
   * Re-takes an allocation and a peer under the current lease (after a restart or a lost lease),
   * in one transaction that succeeds only if the address is free or still ours: a host coming
   * back with stale state never takes an address another host owns now. False when it is taken.
   */
  async republish(p: Peer): Promise<boolean> {
    const key = `${P}/ipam/${p.networkId}/${peerKey(p)}`;
    const peerAt = `${P}/peers/${p.networkId}/${peerKey(p)}`;
    // The IPv6 address of a dual-stack endpoint is re-taken with the IPv4 one (decided by that one's key).
    const second = p.ip && p.ip6 ? [this.client.put(`${P}/ipam/${p.networkId}/${p.ip6}`).value(p.containerId).lease(this.leaseId)] : [];
    const put = () => [this.client.put(key).value(p.containerId).lease(this.leaseId), ...second, this.client.put(peerAt).value(JSON.stringify(p)).lease(this.leaseId)];
    const free = await this.bounded('republishing an endpoint', this.client.if(key, 'Create', '==', 0).then(...put()).commit());
    if (free.succeeded) return true;
    const mine = await this.bounded('republishing an endpoint', this.client.if(key, 'Value', '==', p.containerId).then(...put()).commit());
    return mine.succeeded;
  }

  async peers(networkId?: string): Promise<Peer[]> {
    const all = await this.bounded('listing endpoints', this.client.getAll().prefix(`${P}/peers/${networkId ? `${networkId}/` : ''}`).strings());
    return Object.values(all).map((v) => JSON.parse(v) as Peer);
  }

  async watch(cb: { networks: () => void; peer: (e: PeerEvent) => void; resync: () => void }): Promise<void> {
    const nets = await this.client.watch().prefix(`${P}/networks/`).create();
    nets.on('put', () => cb.networks());
    nets.on('delete', () => cb.networks());
    const peers = await this.client.watch().prefix(`${P}/peers/`).create();
    peers.on('put', (kv) => cb.peer({ type: 'put', peer: JSON.parse(kv.value.toString()) as Peer }));
    peers.on('delete', (kv) => {
      const [networkId, ip] = kv.key.toString().slice(`${P}/peers/`.length).split('/');
      cb.peer({ type: 'delete', networkId, ip });
    });
    // After a reconnection, events may have been missed: the owner reads everything again.
    onReconnect(peers, cb.resync);
    onReconnect(nets, cb.networks);
    peers.on('disconnected', () => this.log(`cluster store ${this.url}: watch disconnected, retrying`));
    nets.on('error', () => {});
    peers.on('error', () => {});
    this.watchers.push(nets, peers);
  }
}

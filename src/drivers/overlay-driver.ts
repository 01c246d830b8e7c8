/**
 * The overlay driver: one virtual network across hosts, carried in VXLAN between the hosts'
 * advertise addresses. On each host with containers on it: a bridge `ov-<id>` without an address
 * and a VXLAN device `vx-<id>` (UDP 4789, local = advertise address, no learning, ARP proxy) as its
 * port; containers' veths on the bridge. Remote containers are static FDB entries (MAC → host) and
 * permanent neighbour entries (IP → MAC) on the VXLAN device, programmed from the cluster store
 * (core/overlay.ts): no multicast, no flooding. The way out is a second interface on the local
 * gateway bridge, which the sandbox layer adds.
 *
 * Beyond the NetworkDriver methods, `syncPeers` replaces the remote entries of a network with a
 * given set: the single seam through which the control plane programs the data plane.
 */
import { EngineError } from '../base/errors';
import { KeyedMutex } from '../base/mutex';
import { overlayBridgeName, vxlanName } from '../base/names';
import { Kernel, KernelError } from '../kernel/kernel';
import { Firewall } from '../firewall/firewall';
import { JoinRequest, NetworkDriver, NetworkInfo, removeLater, removeLink } from './driver';

export const VXLAN_PORT = 4789;
/** IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) */
export const VXLAN_OVERHEAD = 50;

export interface RemotePeer {
  ip: string;
  mac: string;
  host: string;
}

export class OverlayDriver implements NetworkDriver {
  readonly name = 'overlay';
  private readonly mutex = new KeyedMutex();
  /** Networks whose bridge and VXLAN device this process made or found: joins skip the kernel read. */
  private readonly ensured = new Set<string>();
  /**
   * What syncPeers last programmed per network (remote MAC → peer): later syncs apply only the
   * difference, without reading the kernel. Forgotten after a failure, so the next sync reads it.
   */
  private readonly programmed = new Map<string, Map<string, RemotePeer>>();

  constructor(
    private readonly kernel: Kernel,
    private readonly firewall: Firewall,
    /** the advertise address: VXLAN's local end */
    private readonly local: string,
    private readonly vni: (net: NetworkInfo) => number,
  ) {}

  async validate(net: NetworkInfo): Promise<void> {
    if (!net.subnet) throw new EngineError('INVALID_PARAMETER', `overlay network ${net.name} needs a subnet`);
  }

  /** Idempotent: bridge, VXLAN device as its port, both up. Called at the first local join. */
  async createNetwork(net: NetworkInfo): Promise<void> {
    // Concurrent first joins on this host must not both create the devices.
    await this.mutex.run(net.id, async () => {
      if (this.ensured.has(net.id)) return;
      await this.ensureDevices(net);
      this.ensured.add(net.id);
    });
  }

  private async ensureDevices(net: NetworkInfo): Promise<void> {
    const br = overlayBridgeName(net.id);
    const vx = vxlanName(net.id);
    const links = new Set((await this.kernel.linkList()).map((l) => l.name));
    const b = this.kernel.batch();
    if (!links.has(br)) b.linkAddBridge(br, { mtu: net.mtu });
    if (!links.has(vx)) b.linkAddVxlan(vx, { vni: this.vni(net), local: this.local, port: VXLAN_PORT, mtu: net.mtu }).linkSetMaster(vx, br);
    await b.linkSetUp(vx).linkSetUp(br).commit();
  }

  async deleteNetwork(net: NetworkInfo): Promise<void> {
    await this.forget(net);
    const errors: unknown[] = [];
    for (const name of [vxlanName(net.id), overlayBridgeName(net.id)]) await removeLink(this.kernel, name).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `deleting overlay network ${net.name}`);
  }

  async join(req: JoinRequest): Promise<void> {
    const { network: net, endpoint: ep } = req;
    await this.createNetwork(net);
    await this.firewall.addEndpoint({ port: ep.hostIf, ip: ep.ip, mac: ep.mac });
    try {
      await this.hostSide(req).catch(async (e) => {
        // `ensured` is a cache: the devices may have been removed behind our back. Make them again, once.
        if (!(e instanceof KernelError && e.errno === 'ENOENT')) throw e;
        await removeLink(this.kernel, ep.hostIf);
        await this.forget(net);
        await this.createNetwork(net);
        await this.hostSide(req);
      });
      const inside = this.kernel.at(req.sandbox).batch();
      inside.linkSetUp('lo').addrReplace(ep.ifName, `${ep.ip}/${net.subnet!.prefixLen}`).linkSetUp(ep.ifName);
      await inside.commit();
    } catch (e) {
      await removeLink(this.kernel, ep.hostIf).catch(() => {
        // the original error says what went wrong; the veth may already be gone with it
      });
      await this.firewall.delEndpoint({ port: ep.hostIf, ip: ep.ip, mac: ep.mac }).catch(() => {
        // as above: the join's error is the one to report
      });
      throw e;
    }
  }

  private async hostSide(req: JoinRequest): Promise<void> {
    const { network: net, endpoint: ep } = req;
    await this.kernel
      .batch()
      .linkAddVeth(ep.hostIf, ep.ifName, { mtu: net.mtu, peerNetns: req.sandbox, peerMac: ep.mac, singleQueue: true })
      .linkSetMaster(ep.hostIf, overlayBridgeName(net.id))
      .linkSetUp(ep.hostIf)
      .commit();
  }

  /** Drops what this process believes of a network's devices and entries: the next use reads the kernel. */
  private async forget(net: NetworkInfo): Promise<void> {
    await this.mutex.run(net.id, async () => this.ensured.delete(net.id));
    await this.mutex.run(`peers ${net.id}`, async () => this.programmed.delete(net.id));
  }

  async leave(req: JoinRequest): Promise<void> {
    await this.firewall.delEndpoint({ port: req.endpoint.hostIf, ip: req.endpoint.ip, mac: req.endpoint.mac });
    if (req.sandboxGoing) return removeLater(this.kernel, req.endpoint.hostIf);
    await removeLink(this.kernel, req.endpoint.hostIf);
  }

  async restore(net: NetworkInfo, endpoints: JoinRequest[]): Promise<void> {
    if (endpoints.length === 0) return;
    await this.createNetwork(net);
    const links = new Set((await this.kernel.linkList()).map((l) => l.name));
    for (const req of endpoints) {
      if (!links.has(req.endpoint.hostIf)) await this.join(req);
      else await this.firewall.addEndpoint({ port: req.endpoint.hostIf, ip: req.endpoint.ip, mac: req.endpoint.mac });
    }
  }

  /**
   * Makes the remote entries of a network exactly `peers` (FDB and neighbours on its VXLAN device).
   * `fresh`: compare with what the kernel has now, not with what was last programmed (a full
   * resync: entries may have been flushed by hand or with their device).
   */
  async syncPeers(net: NetworkInfo, peers: RemotePeer[], fresh = false): Promise<void> {
    await this.mutex.run(`peers ${net.id}`, async () => {
      if (fresh) this.programmed.delete(net.id);
      try {
        await this.syncPeersLocked(net, peers);
      } catch (e) {
        // The kernel was not as last programmed (entries removed by hand?): read it and redo.
        if (!(e instanceof KernelError)) throw e;
        await this.syncPeersLocked(net, peers);
      }
    });
  }

  private async syncPeersLocked(net: NetworkInfo, peers: RemotePeer[]): Promise<void> {
    const vx = vxlanName(net.id);
    if (!this.ensured.has(net.id)) {
      const links = new Set((await this.kernel.linkList()).map((l) => l.name));
      if (!links.has(vx)) return; // no local container on it: nothing to program
    }
    const want = new Map(peers.filter((p) => p.host !== this.local).map((p) => [p.mac, p]));
    let had = this.programmed.get(net.id);
    if (!had) {
      // First sync of this network in this process: start from what the kernel has.
      const fdb = await this.kernel.fdbList(vx);
      const neigh = new Map((await this.kernel.neighList(vx)).map((n) => [n.mac, n.ip]));
      had = new Map(fdb.map((f) => [f.mac, { mac: f.mac, host: f.dst, ip: neigh.get(f.mac) ?? '' }]));
      for (const [mac, ip] of neigh) if (!had.has(mac)) had.set(mac, { mac, ip, host: '' });
    }
    const b = this.kernel.batch();
    for (const [mac, p] of had) if (p.ip && want.get(mac)?.ip !== p.ip) b.neighDel(vx, p.ip);
    for (const [mac, p] of had) if (p.host && want.get(mac)?.host !== p.host) b.fdbDel(vx, mac);
    // FDB entries before neighbour entries: a neighbour entry answers ARP for a remote container,
    // so where to send its frames must be known first.
    const added = [...want].filter(([mac, p]) => had.get(mac)?.host !== p.host);
    for (const [mac, p] of added) b.fdbReplace(vx, mac, p.host);
    for (const [mac, p] of want) if (had.get(mac)?.ip !== p.ip) b.neighReplace(vx, p.ip, mac);
    this.programmed.delete(net.id);
    await b.commit();
    this.programmed.set(net.id, want);
  }
}

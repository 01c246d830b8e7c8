/**
 * The overlay's data plane on one host: a bridge `ov-<id>` without an address and a VXLAN device
 * `vx-<id>` (UDP 4789, local = advertise address, no learning, ARP proxy) as its port; containers'
 * veths on the bridge. Remote containers are static FDB entries (MAC → host) and permanent
 * neighbour entries (IP → MAC) on the VXLAN device, programmed by the control plane through
 * `syncPeers`: no multicast, no flooding.
 */
import { KeyedMutex } from '../../base/mutex';
import { Network } from '../../base/model';
import { overlayBridgeName, vxlanName } from '../../base/names';
import { OPT_VNI } from '../../base/network-options';
import { Firewall } from '../../firewall/firewall';
import { Kernel, KernelError } from '../../kernel/kernel';
import { FastPath, NoFastPath } from '../../kernel/fast-path';
import { addressInside, endpointPort, JoinRequest, mtuOf, removeLater, removeLink } from '../driver';

export const VXLAN_PORT = 4789;
/** IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14) */
export const VXLAN_OVERHEAD = 50;
/** over an IPv6 underlay: IPv6 (40) + UDP (8) + VXLAN (8) + inner Ethernet (14) */
export const VXLAN_OVERHEAD6 = 70;

export interface RemotePeer {
  /** IPv4 address ("" on an IPv6-only network) */
  ip: string;
  ip6?: string;
  mac: string;
  host: string;
}

export const vniOf = (net: Network): number => Number(net.options[OPT_VNI]);

export class VxlanPlane {
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
    readonly local: string,
    /** MTU of overlay interfaces when the network sets none: the underlay's minus VXLAN_OVERHEAD */
    private readonly mtu: number,
    /** the tc-BPF fast path: endpoints' IPv4 frames past the overlay bridge, both ways (kernel/fast-path.ts) */
    private readonly fastPath: FastPath = new NoFastPath(),
  ) {}

  /** The endpoint on the fast path, its frames to other hosts through the VXLAN device (IPv4 only). */
  private async fastPathAdd(req: JoinRequest): Promise<void> {
    const ep = req.endpoint;
    if (!ep.ip || req.runtimeMoves) return;
    await this.fastPath.add({ hostIf: ep.hostIf, mac: ep.mac, ip: ep.ip, network: req.network.id, tunnel: vxlanName(req.network.id) });
  }

  mtuOf(net: Network): number {
    return mtuOf(net, this.mtu);
  }

  /** Idempotent: bridge, VXLAN device as its port, both up. Called at the first local join. */
  async ensure(net: Network): Promise<void> {
    // Concurrent first joins on this host must not both create the devices.
    await this.mutex.run(net.id, async () => {
      if (this.ensured.has(net.id)) return;
      const br = overlayBridgeName(net.id);
      const vx = vxlanName(net.id);
      const links = new Set((await this.kernel.linkList()).map((l) => l.name));
      let b = this.kernel.batch();
      if (!links.has(br)) b.linkAddBridge(br, { mtu: this.mtuOf(net) });
      if (!links.has(vx)) b.linkAddVxlan(vx, { vni: vniOf(net), local: this.local, port: VXLAN_PORT, mtu: this.mtuOf(net) }).linkSetMaster(vx, br);
      if (net.subnet6) {
        // IPv6 neighbour entries (and the device's ND proxy) need IPv6 on the VXLAN device; it
        // gets no address of its own (addr_gen_mode 1), so it sends nothing.
        await b.commit();
        await this.kernel.sysctlSet(`net.ipv6.conf.${vx}.addr_gen_mode`, '1');
        await this.kernel.sysctlSet(`net.ipv6.conf.${vx}.disable_ipv6`, '0');
        b = this.kernel.batch();
      }
      await b.linkSetUp(vx).linkSetUp(br).commit();
      await this.fastPath.addTunnel(vx, net.id);
      this.ensured.add(net.id);
    });
  }

  /** Removes the network's devices from this host (idempotent). */
  async remove(net: Network): Promise<void> {
    await this.forget(net.id);
    const errors: unknown[] = [];
    await this.fastPath.del(vxlanName(net.id)).catch((e) => errors.push(e));
    for (const name of [vxlanName(net.id), overlayBridgeName(net.id)]) await removeLink(this.kernel, name).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `deleting overlay network ${net.name}`);
  }

  /** The endpoint's veth on the network's bridge and its address inside the sandbox; all or nothing. */
  async join(req: JoinRequest): Promise<void> {
    const { network: net, endpoint: ep } = req;
    await this.ensure(net);
    const port = endpointPort(ep, req.linkLocal);
    await this.firewall.addEndpoint(port);
    try {
      await this.hostSide(req).catch(async (e) => {
        // `ensured` is a cache: the devices may have been removed behind our back. Make them again, once.
        if (!(e instanceof KernelError && e.errno === 'ENOENT')) throw e;
        await removeLink(this.kernel, ep.hostIf);
        await this.forget(net.id);
        await this.ensure(net);
        await this.hostSide(req);
      });
      if (req.runtimeMoves) return;
      await addressInside(this.kernel, req);
      await this.fastPathAdd(req);
    } catch (e) {
      await this.fastPath.del(ep.hostIf).catch(() => {
        // the join's error is the one to report (del of an endpoint it never had is a no-op)
      });
      await removeLink(this.kernel, ep.hostIf).catch(() => {
        // the original error says what went wrong; the veth may already be gone with it
      });
      await this.firewall.delEndpoint(port).catch(() => {
        // as above: the join's error is the one to report
      });
      throw e;
    }
  }

  private async hostSide(req: JoinRequest): Promise<void> {
    const { network: net, endpoint: ep } = req;
    await this.kernel
      .batch()
      .linkAddVeth(ep.hostIf, ep.ifName, { mtu: this.mtuOf(net), peerNetns: req.runtimeMoves ? undefined : req.sandbox, peerMac: ep.mac, singleQueue: true })
      .linkSetMaster(ep.hostIf, overlayBridgeName(net.id))
      .linkSetUp(ep.hostIf)
      .commit();
  }

  async leave(req: JoinRequest): Promise<void> {
    // Off the fast path first: no frame is handed to an interface on its way out.
    await this.fastPath.del(req.endpoint.hostIf);
    await this.firewall.delEndpoint(endpointPort(req.endpoint, req.linkLocal));
    if (req.sandboxGoing) return removeLater(this.kernel, req.endpoint.hostIf);
    await removeLink(this.kernel, req.endpoint.hostIf);
  }

  /** After a restart: the devices of networks with local endpoints, and the endpoints. */
  async restore(net: Network, endpoints: JoinRequest[]): Promise<void> {
    if (endpoints.length === 0) return;
    await this.ensure(net);
    const links = new Set((await this.kernel.linkList()).map((l) => l.name));
    for (const req of endpoints) {
      // Only the runtime can move a new container end into its sandbox (Docker's plugin path): left to explain.
      if (!links.has(req.endpoint.hostIf) && req.runtimeMoves) continue;
      if (!links.has(req.endpoint.hostIf)) await this.join(req);
      else {
        await this.firewall.addEndpoint(endpointPort(req.endpoint, req.linkLocal));
        // A new daemon's fast path has maps of its own: the program is put on again (a replacement).
        await this.fastPathAdd(req);
      }
    }
  }

  /** Overlay bridges and VXLAN devices of networks not in `ids` (removed while this host was down). */
  async sweep(ids: Set<string>, log: (m: string) => void): Promise<void> {
    const short = new Set([...ids].map((id) => id.slice(0, 12)));
    for (const l of await this.kernel.linkList()) {
      const m = /^(ov|vx)-([0-9a-f]{12})$/.exec(l.name);
      if (!m || short.has(m[2])) continue;
      log(`removing stale overlay link ${l.name}`);
      await removeLink(this.kernel, l.name).catch((e) => log(`removing ${l.name}: ${(e as Error).message}`));
    }
  }

  /** Drops what this process believes of a network's devices and entries: the next use reads the kernel. */
  private async forget(id: string): Promise<void> {
    await this.mutex.run(id, async () => this.ensured.delete(id));
    await this.mutex.run(`peers ${id}`, async () => this.programmed.delete(id));
  }

  /** The VXLAN device's remote entries, as the kernel has them (for explain). */
  async entries(net: Network): Promise<{ fdb: { mac: string; dst: string }[]; neighbours: { ip: string; mac: string }[] }> {
    const vx = vxlanName(net.id);
    const [fdb, neighbours, neighbours6] = await Promise.all([
      this.kernel.fdbList(vx).catch(() => []),
      this.kernel.neighList(vx).catch(() => []),
      net.subnet6 ? this.kernel.neighList(vx, 6).catch(() => []) : [],
    ]);
    return { fdb, neighbours: [...neighbours, ...neighbours6] };
  }

  /**
   * Makes the remote entries of a network exactly `peers` (FDB and neighbours on its VXLAN device).
   * `fresh`: compare with what the kernel has now, not with what was last programmed (a full
   * resync: entries may have been flushed by hand or with their device).
   */
  async syncPeers(net: Network, peers: RemotePeer[], fresh = false): Promise<void> {
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

  private async syncPeersLocked(net: Network, peers: RemotePeer[]): Promise<void> {
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
      const neigh6 = new Map(net.subnet6 ? (await this.kernel.neighList(vx, 6)).map((n) => [n.mac, n.ip]) : []);
      had = new Map(fdb.map((f) => [f.mac, { mac: f.mac, host: f.dst, ip: neigh.get(f.mac) ?? '', ...(neigh6.has(f.mac) ? { ip6: neigh6.get(f.mac) } : {}) }]));
      for (const [mac, ip] of neigh) if (!had.has(mac)) had.set(mac, { mac, ip, host: '' });
      for (const [mac, ip6] of neigh6) if (!had.has(mac)) had.set(mac, { mac, ip: '', ip6, host: '' });
    }
    const b = this.kernel.batch();
    for (const [mac, p] of had) if (p.ip && want.get(mac)?.ip !== p.ip) b.neighDel(vx, p.ip);
    for (const [mac, p] of had) if (p.ip6 && want.get(mac)?.ip6 !== p.ip6) b.neighDel(vx, p.ip6);
    for (const [mac, p] of had) if (p.host && want.get(mac)?.host !== p.host) b.fdbDel(vx, mac);
    // FDB entries before neighbour entries: a neighbour entry answers ARP (and neighbour
    // solicitations) for a remote container, so where to send its frames must be known first.
    const added = [...want].filter(([mac, p]) => had.get(mac)?.host !== p.host);
    for (const [mac, p] of added) b.fdbReplace(vx, mac, p.host);
    for (const [mac, p] of want) if (p.ip && had.get(mac)?.ip !== p.ip) b.neighReplace(vx, p.ip, mac);
    for (const [mac, p] of want) if (p.ip6 && had.get(mac)?.ip6 !== p.ip6) b.neighReplace(vx, p.ip6, mac);
    this.programmed.delete(net.id);
    await b.commit();
    this.programmed.set(net.id, want);
  }
}

/**
 * The overlay driver: one virtual network across hosts, carried in VXLAN between the hosts'
 * advertise addresses (the data plane: drivers/overlay/vxlan.ts), kept in step through etcd (the
 * control plane: drivers/overlay/control-plane.ts). Its scope is the cluster: a network's name,
 * VNI and subnet, and every endpoint's address, are decided in etcd transactions first and then
 * mirrored in the local store; a joined endpoint is published for the other hosts to program.
 * The way out is a second interface on the local gateway bridge (Docker's docker_gwbridge).
 */
import { EngineError, networkNameInUse } from '../../base/errors';
import { Endpoint, Network } from '../../base/model';
import { GATEWAY_BRIDGE, vxlanName } from '../../base/names';
import { parseCidr } from '../../ipam/ipam';
import { parseCidr6 } from '../../ipam/ipam6';
import { AddressPool, OVERLAY_POOLS } from '../../ipam/pools';
import { addressesOf, EndpointDraft, Picked } from '../../state/repos';
import { OPT_BRIDGE_NAME, OPT_ICC, OPT_MTU } from '../../base/network-options';
import { settleAddressing } from '../_addressing';
import { JoinRequest, NetworkDriver, NetworkRequest, RemoteEndpoint, RestoreSet, TakenSubnet, TakenSubnet6, VxlanFacts, WayOut } from '../driver';
import { ControlPlane, OverlayRepos } from './control-plane';
import { vniOf, VxlanPlane } from './vxlan';

export class OverlayDriver implements NetworkDriver {
  readonly name = 'overlay';
  readonly scope = 'swarm' as const;
  readonly endpoints = true;

  constructor(
    private readonly repo: OverlayRepos,
    private readonly plane: VxlanPlane,
    readonly control: ControlPlane,
    private readonly log: (m: string) => void = () => {},
    /** where IPv6 subnets come from when none is given */
    private readonly pools6: AddressPool[] = [],
  ) {}

  /** An overlay's containers have the embedded resolver; it answers the names of every host's endpoints (remotes). */
  servesDns(): boolean {
    return true;
  }

  wayOut(net: Network): WayOut {
    if (net.internal) return { kind: 'none' };
    return { kind: 'via', network: { name: GATEWAY_BRIDGE, driver: 'bridge', internal: false, labels: {}, options: { [OPT_BRIDGE_NAME]: GATEWAY_BRIDGE, [OPT_ICC]: 'false' } } };
  }

  remotes(net: Network): RemoteEndpoint[] {
    return this.control.peersOf(net.id).filter((p) => p.host !== this.plane.local);
  }

  async describe(net: Network): Promise<VxlanFacts> {
    return { device: vxlanName(net.id), vni: vniOf(net), ...(await this.plane.entries(net)) };
  }

  async createNetwork(req: NetworkRequest, taken: TakenSubnet[], taken6: TakenSubnet6[] = []): Promise<Network> {
    for (const k of Object.keys(req.options)) {
      if (k !== OPT_MTU) throw new EngineError('INVALID_PARAMETER', `unknown overlay network option "${k}"`, { hint: `known: ${OPT_MTU}` });
    }
    // Name, VNI and subnet are decided in one etcd transaction, against the networks of every host.
    return this.control.createNetwork(
      {
        id: req.id, name: req.name, ipRange: req.ipRange ?? null, internal: req.internal, labels: req.labels, options: req.options, created: new Date().toISOString(),
        ...(req.attachable ? { attachable: true as const } : {}), ...(req.ingress ? { ingress: true as const } : {}),
      },
      (others) => {
        if (others.some((o) => o.name === req.name)) throw networkNameInUse(req.name);
        const all = [...taken, ...others.filter((o) => o.subnet).map((o) => ({ what: `overlay network ${o.name}`, subnet: parseCidr(o.subnet) }))];
        const all6 = [...taken6, ...others.filter((o) => o.subnet6).map((o) => ({ what: `overlay network ${o.name}`, subnet: parseCidr6(o.subnet6!) }))];
        const a = settleAddressing(req, all, all6, OVERLAY_POOLS, this.pools6);
        return { subnet: a.subnet ?? '', gateway: a.gateway ?? '', ...(a.subnet6 ? { subnet6: a.subnet6, gateway6: a.gateway6 } : {}), ...(a.ipRange6 ? { ipRange6: a.ipRange6 } : {}), ...(a.ipv4 === false ? { ipv4: false as const } : {}) };
      },
    );
  }

  deleteNetwork(net: Network): Promise<void> {
    return this.control.removeNetwork(net);
  }

  /**
   * The addresses are taken cluster-wide first (one etcd transaction each: IPv4, then IPv6), then
   * recorded locally; a failure gives back what was taken.
   */
  async lease(net: Network, draft: EndpointDraft, pick: (used: Set<string>) => Picked): Promise<Endpoint> {
    const local = () => this.repo.endpoints.list({ networkId: net.id }).flatMap((e) => [e.ip, e.ip6 ?? '']).filter(Boolean);
    const taken: { ip: string; ip6?: string } = { ip: '' };
    try {
      if (net.subnet) taken.ip = await this.control.allocate(net.id, draft.containerId, (used) => addressesOf(pick(new Set([...used, ...local()]))).ip);
      if (net.subnet6) {
        // The second pick sees the first's address as in use: left out, so that a requested one is not refused as taken.
        taken.ip6 = await this.control.allocate(net.id, draft.containerId, (used) => {
          const all = new Set([...used, ...local()]);
          all.delete(taken.ip);
          return addressesOf(pick(all)).ip6!;
        });
      }
      return this.repo.endpoints.lease(draft, () => taken);
    } catch (e) {
      if (taken.ip || taken.ip6) {
        await this.control.withdraw(net.id, taken).catch(() => {
          // the local failure is the one to report; an orphan allocation is dropped at the next resync
        });
      }
      throw e;
    }
  }

  async release(net: Network, ep: Endpoint): Promise<void> {
    this.repo.endpoints.delete(ep.id);
    await this.control.withdraw(net.id, ep);
  }

  /** Devices, veth and address; then the other hosts learn the endpoint. All or nothing. */
  async join(req: JoinRequest): Promise<void> {
    await this.plane.join(req);
    const ep = req.endpoint;
    try {
      await this.control.publish({ networkId: req.network.id, ip: ep.ip, ...(ep.ip6 ? { ip6: ep.ip6 } : {}), mac: ep.mac, containerId: ep.containerId, name: req.containerName, aliases: ep.aliases });
    } catch (e) {
      await this.plane.leave(req).catch(() => {
        // the publication's error is the one to report
      });
      throw e;
    }
  }

  leave(req: JoinRequest): Promise<void> {
    return this.plane.leave(req);
  }

  async restore(sets: RestoreSet[]): Promise<void> {
    for (const s of sets) await this.plane.restore(s.network, s.endpoints);
    await this.plane.sweep(new Set(sets.map((s) => s.network.id)), this.log);
  }
}

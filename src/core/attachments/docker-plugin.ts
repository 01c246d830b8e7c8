/**
 * The Docker network and IPAM plugin's logic (libnetwork's remote driver and IPAM APIs), over the
 * external attachments: a Docker network made with `-d ctrnet --ipam-driver ctrnet` joins the ctrnet
 * network named by `-o ctrnet.network=NAME` (made on demand, of the driver `-o ctrnet.type=bridge|
 * overlay`), so that Docker hosts whose ctrnetd share one etcd share one overlay. dockerd sends a
 * driver neither the network's name nor its labels, only its own per-host id, the `-o` options and
 * the pool: hence `ctrnet.network`, the cluster-wide name.
 *
 * What dockerd 20.10 sends (and this follows): create → RequestPool, RequestAddress (gateway),
 * CreateNetwork; run → RequestAddress, CreateEndpoint, Join, ProgramExternalConnectivity; removal →
 * RevokeExternalConnectivity, Leave, DeleteEndpoint, ReleaseAddress; network rm → ReleaseAddress
 * (gateway), ReleasePool, DeleteNetwork. An address is leased when IPAM hands it out (an attachment
 * record without an endpoint id yet, in ctrnet's scope: etcd for an overlay, so addresses never
 * collide across hosts) and claimed by the CreateEndpoint that names it; it is freed by
 * ReleaseAddress (or by DeleteEndpoint when Docker's own IPAM gave it).
 *
 * The veth is made in the host's namespace (its container end `cethXXXXXXX`), and dockerd moves it
 * into the sandbox as ethN (Join answers SrcName and DstPrefix "eth"), sets its address and routes.
 * Bridge networks answer their gateway (ctrnet's bridge is the way out; published ports are ctrnet's
 * DNAT, from CreateEndpoint's port map); overlay networks answer no gateway, so dockerd gives the
 * container its docker_gwbridge interface for the way out and published ports, as for Docker's own
 * overlay.
 *
 * Limitations: IPv4 only; one pool per network; no --ip-range (sub-pool). Names on ctrnet's side are
 * the endpoint's short id (dockerd tells a driver no container name); Docker's own DNS answers the
 * containers it knows (those on its host).
 */
import { randomBytes } from 'node:crypto';
import { Attachment } from '../../base/attachment';
import { describe, EngineError } from '../../base/errors';
import { Endpoint, Network } from '../../base/model';
import { KeyedMutex } from '../../base/mutex';
import { OPT_MTU } from '../../base/network-options';
import { shortId } from '../../base/names';
import { intToIp, parseCidr } from '../../ipam/ipam';
import { PluginNetwork, Repos } from '../../state/repos';
import { Networks } from '../networks';
import { ExternalAttachments } from './external';

/** -o options of `docker network create -d ctrnet`. */
export const OPT_CTRNET_TYPE = 'ctrnet.type';
export const OPT_CTRNET_NETWORK = 'ctrnet.network';
/** Docker's marker of the gateway's RequestAddress. */
const GATEWAY_REQUEST = 'com.docker.network.gateway';
const POOL_PREFIX = 'ctrnet/';
const LABEL_MADE = 'ctrnet.docker-plugin';

type Json = Record<string, unknown>;

const bad = (m: string, hint?: string) => new EngineError('INVALID_PARAMETER', m, { hint });

/** A port of Docker's port map (com.docker.network.portmap): Proto 6 tcp, 17 udp. */
interface DockerPortBinding {
  Proto?: number;
  Port?: number;
  HostIP?: string;
  HostPort?: number;
}

export class DockerPlugin {
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly repo: Pick<Repos, 'pluginNetworks' | 'attachments' | 'endpoints'>,
    private readonly networks: Networks,
    private readonly ext: ExternalAttachments,
    private readonly log: (m: string) => void = () => {},
    /** whether iptables' FORWARD policy is DROP (dockerd's): said in the log, it stops bridged traffic */
    private readonly forwardDrop: () => Promise<boolean> = async () => false,
  ) {}

  // ------------------------------------------------------------ IPAM

  capabilities(): Json {
    return { RequiresMACAddress: false, RequiresRequestReplay: false };
  }

  defaultAddressSpaces(): Json {
    return { LocalDefaultAddressSpace: 'ctrnet', GlobalDefaultAddressSpace: 'ctrnet' };
  }

  requestPool(b: Json): Json {
    if (b.V6 === true) throw new EngineError('NOT_IMPLEMENTED', 'the ctrnet Docker plugin gives IPv4 addresses only (ctrnet\'s own IPv6 networks are not offered to dockerd yet)', { hint: 'create the network without --ipv6' });
    const pool = typeof b.Pool === 'string' ? b.Pool : '';
    if (!pool) throw bad("ctrnet's IPAM needs the network's subnet", 'give --subnet CIDR to docker network create, the same on every Docker host of the network');
    if (typeof b.SubPool === 'string' && b.SubPool) throw new EngineError('NOT_IMPLEMENTED', `--ip-range ${b.SubPool} is not supported by ctrnet's IPAM`, { hint: 'leave --ip-range out' });
    const cidr = parseCidr(pool).cidr;
    return { PoolID: `${POOL_PREFIX}${cidr}`, Pool: cidr, Data: {} };
  }

  releasePool(): Json {
    return {};
  }

  private cidrOf(poolId: unknown): string {
    if (typeof poolId !== 'string' || !poolId.startsWith(POOL_PREFIX)) throw bad(`unknown pool "${String(poolId)}"`, 'the pool must come from ctrnet\'s IPAM (--ipam-driver ctrnet)');
    return parseCidr(poolId.slice(POOL_PREFIX.length)).cidr;
  }

  /** The gateway (no lease: ctrnet never gives a network's gateway to an endpoint), or an endpoint's address, leased in the network's scope. */
  async requestAddress(b: Json): Promise<Json> {
    const cidr = this.cidrOf(b.PoolID);
    const prefix = cidr.split('/')[1];
    const opts = (b.Options ?? {}) as Record<string, string>;
    const wanted = typeof b.Address === 'string' && b.Address ? b.Address : undefined;
    if (opts.RequestAddressType === GATEWAY_REQUEST) {
      return { Address: `${wanted ?? intToIp(parseCidr(cidr).base + 1)}/${prefix}`, Data: {} };
    }
    const pn = this.repo.pluginNetworks.list().find((n) => n.subnet === cidr);
    if (!pn) throw bad(`no Docker network of ctrnet has the pool ${cidr}`, 'create the network first: docker network create -d ctrnet --ipam-driver ctrnet --subnet CIDR …');
    const net = await this.ensureNetwork(pn);
    const a = this.newAttachment(pn, net, '', true);
    this.repo.attachments.insert(a);
    try {
      const ep = await this.ext.lease(a, net, '', wanted);
      return { Address: `${ep.ip}/${prefix}`, Data: {} };
    } catch (e) {
      this.repo.attachments.delete(a.id);
      throw e;
    }
  }

  async releaseAddress(b: Json): Promise<Json> {
    const cidr = this.cidrOf(b.PoolID);
    const ip = typeof b.Address === 'string' ? b.Address.split('/')[0] : '';
    for (const pn of this.repo.pluginNetworks.list().filter((n) => n.subnet === cidr)) {
      for (const a of this.repo.attachments.list({ kind: 'docker', scope: pn.dockerId })) {
        const ep = this.ext.endpointsOf(a).find((e) => e.ip === ip);
        if (!ep || !a.ipamLease) continue;
        if (a.ref) {
          // The endpoint still exists: its DeleteEndpoint frees the address.
          this.repo.attachments.update(a.id, { ipamLease: false });
        } else {
          await this.ext.release(ep);
          this.repo.attachments.delete(a.id);
        }
      }
    }
    return {};
  }

  // ------------------------------------------------------------ networks

  driverCapabilities(): Json {
    // local: non-swarm dockerd keeps each host's network object itself; ctrnet joins them (ctrnet.network).
    return { Scope: 'local', ConnectivityScope: 'global' };
  }

  async createNetwork(b: Json): Promise<Json> {
    const dockerId = String(b.NetworkID ?? '');
    if (!dockerId) throw bad('NetworkID is missing');
    const options = (b.Options ?? {}) as Json;
    const generic = (options['com.docker.network.generic'] ?? {}) as Record<string, unknown>;
    for (const k of Object.keys(generic)) {
      if (k.startsWith('ctrnet.') && k !== OPT_CTRNET_TYPE && k !== OPT_CTRNET_NETWORK) throw bad(`unknown option -o ${k}`, `ctrnet's options: -o ${OPT_CTRNET_TYPE}=bridge|overlay -o ${OPT_CTRNET_NETWORK}=NAME`);
    }
    const type = String(generic[OPT_CTRNET_TYPE] ?? 'bridge');
    if (type !== 'bridge' && type !== 'overlay') throw bad(`-o ${OPT_CTRNET_TYPE}=${type}: choose bridge or overlay`);
    const name = String(generic[OPT_CTRNET_NETWORK] ?? (type === 'bridge' ? `docker-${shortId(dockerId)}` : ''));
    if (!name) throw bad(`an overlay needs its cluster-wide name: -o ${OPT_CTRNET_NETWORK}=NAME`, 'give the same name on every Docker host that shares the overlay');
    const v4 = Array.isArray(b.IPv4Data) ? (b.IPv4Data as Json[]) : [];
    if (v4.length !== 1 || typeof v4[0].Pool !== 'string') throw bad('a ctrnet network has exactly one IPv4 pool', 'give one --subnet (and --ipam-driver ctrnet)');
    if (Array.isArray(b.IPv6Data) && b.IPv6Data.length) throw new EngineError('NOT_IMPLEMENTED', 'the ctrnet Docker plugin gives IPv4 addresses only (ctrnet\'s own IPv6 networks are not offered to dockerd yet)', { hint: 'create the network without --ipv6' });
    const subnet = parseCidr(v4[0].Pool).cidr;
    const gateway = typeof v4[0].Gateway === 'string' ? v4[0].Gateway.split('/')[0] : intToIp(parseCidr(subnet).base + 1);
    const mtu = generic[OPT_MTU];
    return this.mutex.run(`net ${name}`, async () => {
      let made = false;
      let net = this.networks.find(name);
      if (!net) {
        try {
          net = await this.networks.create({ name, driver: type, subnet, gateway, internal: false, labels: { [LABEL_MADE]: 'true' }, options: typeof mtu === 'string' ? { [OPT_MTU]: mtu } : {} });
          made = true;
        } catch (e) {
          // Another host made it at the same moment (an overlay's name is unique cluster-wide): use theirs.
          if (!(e instanceof EngineError && e.code === 'NAME_IN_USE')) throw e;
          net = await this.waitFor(name);
        }
      }
      this.checkSame(net, type, subnet, gateway);
      this.repo.pluginNetworks.put({ dockerId, network: name, type, subnet, gateway, made: made || net.labels[LABEL_MADE] === 'true', created: new Date().toISOString() });
      if (await this.forwardDrop()) {
        this.log(`!! the iptables FORWARD policy is DROP (dockerd sets it when it turned on ip_forward itself): the kernel drops the forwarded traffic of ctrnet network ${name} too (br_netfilter). Fix: iptables -P FORWARD ACCEPT, or start ctrnetd before dockerd`);
      }
      return {};
    });
  }

  /** A network another host created, mirrored here once the cluster store's watch brings it. */
  private async waitFor(name: string): Promise<Network> {
    for (let i = 0; i < 50; i++) {
      const n = this.networks.find(name);
      if (n) return n;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new EngineError('CLUSTER_UNAVAILABLE', `network ${name} exists in the cluster but did not reach this host`, { hint: 'check this ctrnetd\'s --cluster-store and retry' });
  }

  private checkSame(net: Network, type: string, subnet: string, gateway: string): void {
    if (net.driver !== type) throw new EngineError('CONFLICTING_OPTIONS', `ctrnet network ${net.name} is a ${net.driver} network, not ${type}`, { hint: `use -o ${OPT_CTRNET_TYPE}=${net.driver}, or another -o ${OPT_CTRNET_NETWORK}` });
    if (net.subnet !== subnet) throw new EngineError('CONFLICTING_OPTIONS', `ctrnet network ${net.name} has subnet ${net.subnet}, not ${subnet}`, { hint: `give --subnet ${net.subnet} on every host` });
    if (net.gateway !== gateway) throw new EngineError('CONFLICTING_OPTIONS', `ctrnet network ${net.name} has gateway ${net.gateway}, not ${gateway}`, { hint: `give --gateway ${net.gateway} or leave it out` });
  }

  /** The ctrnet network of a Docker network; made again when it was removed meanwhile (by another host's last `docker network rm`). */
  private async ensureNetwork(pn: PluginNetwork): Promise<Network> {
    const found = this.networks.find(pn.network);
    if (found) return found;
    return this.mutex.run(`net ${pn.network}`, async () => {
      const again = this.networks.find(pn.network);
      if (again) return again;
      try {
        return await this.networks.create({ name: pn.network, driver: pn.type, subnet: pn.subnet, gateway: pn.gateway, internal: false, labels: { [LABEL_MADE]: 'true' }, options: {} });
      } catch (e) {
        if (!(e instanceof EngineError && e.code === 'NAME_IN_USE')) throw e;
        return this.waitFor(pn.network);
      }
    });
  }

  async deleteNetwork(b: Json): Promise<Json> {
    const pn = this.repo.pluginNetworks.get(String(b.NetworkID ?? ''));
    if (!pn) return {};
    await this.mutex.run(`net ${pn.network}`, async () => {
      this.repo.pluginNetworks.delete(pn.dockerId);
      const net = this.networks.find(pn.network);
      // Only a network ctrnet made for Docker goes with it, and only when nothing uses it (here or, for an overlay, elsewhere).
      if (!net || !pn.made || this.repo.pluginNetworks.list().some((o) => o.network === pn.network)) return;
      if (this.repo.endpoints.list({ networkId: net.id }).length) return;
      await this.networks.remove(net.id).catch((e) => {
        if (e instanceof EngineError && e.code === 'NETWORK_IN_USE') return; // another host still has endpoints on the overlay
        throw e;
      });
    });
    return {};
  }

  // ------------------------------------------------------------ endpoints

  private newAttachment(pn: PluginNetwork, net: Network, ref: string, ipamLease: boolean): Attachment {
    return {
      id: randomBytes(32).toString('hex'), kind: 'docker', ref, scope: pn.dockerId, ifName: '', name: ref ? `docker-${shortId(ref)}` : '',
      aliases: [], netns: '', networkId: net.id, ...(ipamLease ? { ipamLease } : {}), created: new Date().toISOString(),
    };
  }

  private byEndpoint(networkId: string, endpointId: string): { a: Attachment; ep: Endpoint } | undefined {
    const a = this.repo.attachments.list({ kind: 'docker', scope: networkId }).find((x) => x.ref === endpointId);
    const ep = a && this.ext.endpointsOf(a)[0];
    return a && ep ? { a, ep } : undefined;
  }

  private network(b: Json): PluginNetwork {
    const pn = this.repo.pluginNetworks.get(String(b.NetworkID ?? ''));
    if (!pn) throw new EngineError('NETWORK_NOT_FOUND', `ctrnet knows no Docker network ${String(b.NetworkID)}`, { hint: 'the network was made before this ctrnetd\'s state: docker network rm and create it again' });
    return pn;
  }

  async createEndpoint(b: Json): Promise<Json> {
    const pn = this.network(b);
    const endpointId = String(b.EndpointID ?? '');
    if (!endpointId) throw bad('EndpointID is missing');
    const iface = (b.Interface ?? {}) as Record<string, string>;
    const ip = (iface.Address ?? '').split('/')[0];
    const net = await this.ensureNetwork(pn);
    return this.mutex.run(`ep ${endpointId}`, async () => {
      let claimed = this.repo.attachments.list({ kind: 'docker', scope: pn.dockerId }).find((a) => !a.ref && this.ext.endpointsOf(a).some((e) => e.ip === ip));
      const wasLeased = !!claimed;
      let ep: Endpoint;
      if (claimed) {
        this.repo.attachments.update(claimed.id, { ref: endpointId, name: `docker-${shortId(endpointId)}` });
        claimed = this.repo.attachments.get(claimed.id)!;
        ep = this.ext.endpointsOf(claimed)[0];
      } else {
        // Docker's own IPAM gave the address (or none): lease it in ctrnet's scope now, refused if taken elsewhere.
        claimed = this.newAttachment(pn, net, endpointId, false);
        this.repo.attachments.insert(claimed);
        try {
          ep = await this.ext.lease(claimed, net, '', ip || undefined);
        } catch (e) {
          this.repo.attachments.delete(claimed.id);
          throw e;
        }
      }
      const out: Json = {};
      if (iface.MacAddress) {
        this.repo.endpoints.update(ep.id, { mac: iface.MacAddress.toLowerCase() });
      } else out.MacAddress = ep.mac;
      if (!iface.Address) out.Address = `${ep.ip}/${pn.subnet.split('/')[1]}`;
      // Published ports are ctrnet's DNAT on a bridge network (its own way out); an overlay's go through Docker's docker_gwbridge.
      const ports = portsOf(((b.Options ?? {}) as Json)['com.docker.network.portmap']);
      if (ports.length && this.networks.driver(net).wayOut(net).kind === 'self') {
        await this.ext.reservePorts(claimed, ep, ports).catch(async (e) => {
          // No endpoint after a failed create (dockerd calls no DeleteEndpoint): give the lease back to IPAM, or free it.
          if (wasLeased) this.repo.attachments.update(claimed!.id, { ref: '', name: '' });
          else {
            await this.ext.release(ep).catch(() => undefined);
            this.repo.attachments.delete(claimed!.id);
          }
          throw e;
        });
      }
      return { Interface: out };
    });
  }

  endpointOperInfo(b: Json): Json {
    const found = this.byEndpoint(String(b.NetworkID ?? ''), String(b.EndpointID ?? ''));
    return { Value: found ? { ctrnet: { ip: found.ep.ip, mac: found.ep.mac, hostIf: found.ep.hostIf } } : {} };
  }

  async deleteEndpoint(b: Json): Promise<Json> {
    const found = this.byEndpoint(String(b.NetworkID ?? ''), String(b.EndpointID ?? ''));
    if (!found) return {};
    const { a, ep } = found;
    await this.ext.leave(a, ep).catch((e) => this.log(`removing the veth of ${a.name}: ${describe(e)}`));
    this.ext.releasePorts(a);
    if (a.ipamLease) {
      // The address is IPAM's until ReleaseAddress.
      this.repo.attachments.update(a.id, { ref: '', netns: '', name: '' });
    } else {
      await this.ext.release(ep);
      this.repo.attachments.delete(a.id);
    }
    return {};
  }

  async join(b: Json): Promise<Json> {
    const pn = this.network(b);
    const found = this.byEndpoint(pn.dockerId, String(b.EndpointID ?? ''));
    if (!found) throw new EngineError('NOT_IMPLEMENTED', `endpoint ${String(b.EndpointID)} was not created through ctrnet`, { hint: 'recreate the container' });
    const sandbox = String(b.SandboxKey ?? '');
    if (!sandbox) throw bad('SandboxKey is missing');
    this.repo.attachments.update(found.a.id, { netns: sandbox });
    const a = this.repo.attachments.get(found.a.id)!;
    await this.ext.joinRecorded(a, found.ep);
    const net = this.networks.get(found.ep.networkId);
    const way = this.networks.driver(net).wayOut(net).kind;
    return {
      InterfaceName: { SrcName: found.ep.ifName, DstPrefix: 'eth' },
      ...(way === 'self' ? { Gateway: net.gateway } : {}),
      // internal: no way out at all; an overlay: dockerd's docker_gwbridge gives it one.
      ...(way === 'none' ? { DisableGatewayService: true } : {}),
    };
  }

  async leave(b: Json): Promise<Json> {
    const found = this.byEndpoint(String(b.NetworkID ?? ''), String(b.EndpointID ?? ''));
    if (!found) return {};
    await this.ext.leave(found.a, found.ep);
    return {};
  }
}

/** Docker's port map → the ports to publish; only those with a host port or a host address are published (-p, not EXPOSE). */
function portsOf(v: unknown): { proto: 'tcp' | 'udp'; hostPort: number; containerPort: number; hostIp: string }[] {
  if (!Array.isArray(v)) return [];
  return (v as DockerPortBinding[])
    .filter((p) => p.Port && (p.Proto === 6 || p.Proto === 17))
    .map((p) => ({ proto: p.Proto === 17 ? ('udp' as const) : ('tcp' as const), hostPort: p.HostPort ?? 0, containerPort: p.Port!, hostIp: p.HostIP ?? '' }));
}

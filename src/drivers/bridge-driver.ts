/**
 * The bridge driver: a Linux bridge holding the gateway address, one veth pair per endpoint (host
 * end `vethXXXXXXX` on the bridge, the other end `ethN` in the sandbox), outbound masquerade and
 * published ports through the firewall. Networks and leases are local: the state store only.
 *
 * Network setup is an ordered list of idempotent steps:
 *   1. bridge link       — when no link of that name exists
 *   2. IPv6 on the bridge — with an IPv6 subnet (the host may have IPv6 off by default)
 *   3. gateway addresses — always (replace), IPv4 and IPv6 (without DAD)
 *   4. bridge up         — always
 *   5. forwarding on     — net.ipv4.ip_forward=1, and net.ipv6.conf.all.forwarding=1 with IPv6
 *   6. route_localnet    — on the bridge, so 127.0.0.1 can be DNATed to a container (host-only ports)
 *   7. firewall rules    — masquerade and hairpin for the subnets (ip and ip6 tables)
 *
 * An endpoint gets its IPv4 and IPv6 addresses and a default route per family (via the gateway).
 * IPv6 gateway modes (-o com.docker.network.bridge.gateway_mode_ipv6=): `nat` (the default:
 * masquerade, as for IPv4) or `routed` (no NAT; other hosts reach the containers' own addresses,
 * published ports only).
 */
import { EngineError } from '../base/errors';
import { Endpoint, Network } from '../base/model';
import { userBridgeName, VETH_PREFIX } from '../base/names';
import { Firewall, NetworkFirewall, NetworkFirewallConfig } from '../firewall/firewall';
import { macFromIp } from '../ipam/ipam';
import { macFromIp6 } from '../ipam/ipam6';
import { AddressPool } from '../ipam/pools';
import { Kernel } from '../kernel/kernel';
import { FastPath, NoFastPath } from '../kernel/fast-path';
import { EndpointDraft, EndpointRepo, NetworkRepo, Picked } from '../state/repos';
import { OPT_BRIDGE_NAME, OPT_DEFAULT_BRIDGE, OPT_GATEWAY_MODE_IPV4, OPT_GATEWAY_MODE_IPV6, OPT_HOST_BINDING_IPV4, OPT_ICC, OPT_IP_MASQUERADE, OPT_MTU } from '../base/network-options';
import { settleAddressing } from './_addressing';
import { addressInside, endpointPort, JoinRequest, mtuOf, NetworkDriver, NetworkRequest, removeLater, removeLink, RestoreSet, TakenSubnet, TakenSubnet6, WayOut } from './driver';

const KNOWN_OPTIONS = [OPT_BRIDGE_NAME, OPT_ICC, OPT_MTU, OPT_DEFAULT_BRIDGE, OPT_IP_MASQUERADE, OPT_HOST_BINDING_IPV4, OPT_GATEWAY_MODE_IPV4, OPT_GATEWAY_MODE_IPV6];

export interface BridgeConfig {
  /** MTU of interfaces when the network does not set one */
  mtu: number;
  /** where IPv4 subnets come from when none is given */
  pools: AddressPool[];
  /** where IPv6 subnets come from when none is given (the daemon's ULA /48, or IPv6 --default-address-pool) */
  pools6?: AddressPool[];
}

/** Kernel names reach ip and nft scripts: only validated parts. */
const VALID_IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

export class BridgeDriver implements NetworkDriver {
  readonly name = 'bridge';
  readonly scope = 'local' as const;
  readonly endpoints = true;
  private readonly fw = new Map<string, NetworkFirewall>();

  constructor(
    private readonly kernel: Kernel,
    private readonly firewall: Firewall,
    private readonly repo: { networks: NetworkRepo; endpoints: EndpointRepo },
    private readonly cfg: BridgeConfig,
    private readonly log: (m: string) => void = () => {},
    private readonly fastPath: FastPath = new NoFastPath(),
  ) {}

  /** Endpoints of a network may be fast-pathed to each other unless it keeps them apart (icc off). */
  private fastPathed(net: Network, ep: Endpoint): boolean {
    return net.options[OPT_ICC] !== 'false' && !!ep.ip;
  }

  servesDns(net: Network): boolean {
    // The default bridge has no embedded DNS, as in Docker.
    return net.options[OPT_DEFAULT_BRIDGE] !== 'true';
  }

  wayOut(net: Network): WayOut {
    return net.internal ? { kind: 'none' } : { kind: 'self' };
  }

  remotes(): [] {
    return [];
  }

  async describe(): Promise<undefined> {
    return undefined;
  }

  async createNetwork(req: NetworkRequest, taken: TakenSubnet[], taken6: TakenSubnet6[] = []): Promise<Network> {
    const net = this.settle(req, taken, taken6);
    this.repo.networks.insert(net);
    try {
      await this.ensure(net);
    } catch (e) {
      await this.deleteNetwork(net).catch(() => {
        // best effort: the original error is what the user needs to see
      });
      throw e;
    }
    return net;
  }

  /** Checks a request and settles it into a network record; applies nothing. */
  private settle(req: NetworkRequest, taken: TakenSubnet[], taken6: TakenSubnet6[]): Network {
    for (const k of Object.keys(req.options)) {
      if (!KNOWN_OPTIONS.includes(k)) throw new EngineError('INVALID_PARAMETER', `unknown network option "${k}"`, { hint: `known options: ${OPT_BRIDGE_NAME}, ${OPT_ICC}, ${OPT_MTU}` });
    }
    const mtu = req.options[OPT_MTU];
    if (mtu !== undefined && (!/^\d+$/.test(mtu) || Number(mtu) < 576 || Number(mtu) > 65535)) {
      throw new EngineError('INVALID_PARAMETER', `invalid ${OPT_MTU} "${mtu}"`, { hint: 'give a number from 576 to 65535' });
    }
    const icc = req.options[OPT_ICC];
    if (icc !== undefined && icc !== 'true' && icc !== 'false') throw new EngineError('INVALID_PARAMETER', `${OPT_ICC} must be true or false`);
    const mode6 = req.options[OPT_GATEWAY_MODE_IPV6];
    if (mode6 !== undefined && mode6 !== 'nat' && mode6 !== 'routed') {
      throw new EngineError('INVALID_PARAMETER', `${OPT_GATEWAY_MODE_IPV6} "${mode6}" is not supported`, { hint: 'use nat (the default: masquerade) or routed (no NAT, published ports on the containers\' addresses)' });
    }
    const mode4 = req.options[OPT_GATEWAY_MODE_IPV4];
    if (mode4 !== undefined && mode4 !== 'nat') throw new EngineError('INVALID_PARAMETER', `${OPT_GATEWAY_MODE_IPV4} "${mode4}" is not supported`, { hint: 'IPv4 is always nat in ctrnet; routed is for IPv6 (gateway_mode_ipv6)' });
    const addressing = settleAddressing(req, taken, taken6, this.cfg.pools, this.cfg.pools6 ?? []);
    const bridge = req.options[OPT_BRIDGE_NAME] ?? userBridgeName(req.id);
    if (!VALID_IFNAME.test(bridge)) {
      throw new EngineError('INVALID_PARAMETER', `invalid ${OPT_BRIDGE_NAME} "${bridge}"`, { hint: 'use 1 to 15 letters, digits, "_", "." or "-"' });
    }
    if (this.repo.networks.list().some((n) => n.bridge === bridge)) throw new EngineError('CONFLICTING_OPTIONS', `bridge ${bridge} is used by another network`, { hint: 'choose another bridge name' });
    return {
      id: req.id, name: req.name, driver: this.name, ...addressing, bridge,
      internal: req.internal, options: req.options, labels: req.labels, created: new Date().toISOString(),
      ...(req.auxAddresses ? { auxAddresses: req.auxAddresses } : {}),
      ...(req.ipamOptions ? { ipamOptions: req.ipamOptions } : {}),
    };
  }

  /** Steps 1-7 (see the header): idempotent. */
  private async ensure(net: Network): Promise<void> {
    const bridge = net.bridge!;
    const existing = (await this.kernel.linkList()).find((l) => l.name === bridge);
    if (existing && existing.kind !== 'bridge') {
      throw new EngineError('CONFLICTING_OPTIONS', `interface ${bridge} exists and is not a bridge`, { hint: 'choose another bridge name or remove that interface' });
    }
    let b = this.kernel.batch();
    // A bridge without its own MAC takes the lowest of its ports' and changes as containers come and
    // go, leaving stale gateway entries in the containers' ARP caches: give it one, derived from the
    // gateway address like the containers' (stable across restarts, never a container's).
    if (!existing) b.linkAddBridge(bridge, { mtu: mtuOf(net, this.cfg.mtu), mac: net.gateway ? macFromIp(net.gateway) : macFromIp6(net.gateway6!) });
    if (net.subnet6) {
      // IPv6 may be off for new links on this host (the kernel refuses an address then): on for this bridge.
      await b.commit();
      await this.kernel.sysctlSet(`net.ipv6.conf.${bridge}.disable_ipv6`, '0');
      b = this.kernel.batch();
    }
    if (net.subnet) b.addrReplace(bridge, `${net.gateway}/${prefixLen(net.subnet)}`);
    if (net.subnet6) b.addrReplace(bridge, `${net.gateway6}/${prefixLen(net.subnet6)}`);
    await b.linkSetUp(bridge).commit();
    if (net.subnet) {
      await this.kernel.sysctlSet('net.ipv4.ip_forward', '1');
      await this.kernel.sysctlSet(`net.ipv4.conf.${bridge}.route_localnet`, '1');
    }
    // As Docker does (and says: an uplink that learns its default route from router
    // advertisements needs accept_ra=2 once the host forwards).
    if (net.subnet6) await this.kernel.sysctlSet('net.ipv6.conf.all.forwarding', '1');
    this.fw.set(net.id, await this.firewall.newNetwork(this.fwConfig(net)));
  }

  private fwConfig(net: Network): NetworkFirewallConfig {
    return {
      id: net.id, bridge: net.bridge!, subnet: net.subnet ?? '', gateway: net.gateway ?? '', internal: net.internal,
      ...(net.subnet6 ? { subnet6: net.subnet6, gateway6: net.gateway6, ...(net.options[OPT_GATEWAY_MODE_IPV6] === 'routed' ? { routed6: true } : {}) } : {}),
    };
  }

  async deleteNetwork(net: Network): Promise<void> {
    const errors: unknown[] = [];
    await (await this.netFirewall(net)).delNetworkRules().catch((e) => errors.push(e));
    this.fw.delete(net.id);
    await removeLink(this.kernel, net.bridge!).catch((e) => errors.push(e));
    this.repo.networks.delete(net.id);
    if (errors.length) throw new AggregateError(errors, `deleting network ${net.name}`);
  }

  private async netFirewall(net: Network): Promise<NetworkFirewall> {
    let f = this.fw.get(net.id);
    if (!f) {
      f = await this.firewall.newNetwork(this.fwConfig(net));
      this.fw.set(net.id, f);
    }
    return f;
  }

  async lease(_net: Network, draft: EndpointDraft, pick: (used: Set<string>) => Picked): Promise<Endpoint> {
    return this.repo.endpoints.lease(draft, pick);
  }

  async release(_net: Network, ep: Endpoint): Promise<void> {
    this.repo.endpoints.delete(ep.id);
  }

  async join(req: JoinRequest): Promise<void> {
    const { network: net, endpoint: ep } = req;
    const undo: (() => Promise<void>)[] = [];
    try {
      // The peer is created directly inside the sandbox under its final name: no rename, no move.
      const host = this.kernel
        .batch()
        .linkAddVeth(ep.hostIf, ep.ifName, { mtu: mtuOf(net, this.cfg.mtu), peerNetns: req.runtimeMoves ? undefined : req.sandbox, peerMac: ep.mac, singleQueue: true })
        .linkSetMaster(ep.hostIf, net.bridge!);
      // enable_icc=false: isolated bridge ports cannot talk to each other, only to the bridge (the
      // host), so published ports and the gateway still work.
      if (net.options[OPT_ICC] === 'false') host.linkSetIsolated(ep.hostIf);
      // Anti-spoofing first: the port passes only the container's own MAC and addresses.
      const port = endpointPort(ep, req.linkLocal);
      await this.firewall.addEndpoint(port);
      undo.push(() => this.firewall.delEndpoint(port));
      // Pushed before the commit: a batch that fails half-way may have made the veth already.
      undo.push(() => removeLink(this.kernel, ep.hostIf));
      await host.linkSetUp(ep.hostIf).commit();
      // The runtime (dockerd) sets the addresses and routes itself when it moves the veth in.
      if (!req.runtimeMoves) {
        await addressInside(this.kernel, req, (b) => {
          if (req.defaultRoute && !net.internal && ep.ip) b.routeReplace('default', { via: net.gateway, dev: ep.ifName });
          if ((req.defaultRoute6 ?? req.defaultRoute) && !net.internal && ep.ip6) b.routeReplace('default', { via: net.gateway6, dev: ep.ifName });
        });
      }
      // Not an interface another runtime moves later: until it does, its peer is on the host.
      if (this.fastPathed(net, ep) && !req.runtimeMoves) {
        await this.fastPath.add({ hostIf: ep.hostIf, mac: ep.mac, ip: ep.ip, network: net.id });
        undo.push(() => this.fastPath.del(ep.hostIf));
      }
      if (req.ports.length) {
        const fw = await this.netFirewall(net);
        await fw.addPorts(req.ports);
        undo.push(() => fw.delPorts(req.ports));
      }
    } catch (e) {
      const errors: unknown[] = [e];
      for (const u of undo.reverse()) await u().catch((e2) => errors.push(e2));
      throw errors.length === 1 ? e : new AggregateError(errors, `joining ${ep.containerId.slice(0, 12)} to ${net.name} failed and could not be fully undone`);
    }
  }

  async leave(req: JoinRequest): Promise<void> {
    const errors: unknown[] = [];
    // Off the fast path first: no frame is handed to an interface on its way out.
    await this.fastPath.del(req.endpoint.hostIf).catch((e) => errors.push(e));
    await this.firewall.delEndpoint(endpointPort(req.endpoint, req.linkLocal)).catch((e) => errors.push(e));
    if (req.ports.length) await (await this.netFirewall(req.network)).delPorts(req.ports).catch((e) => errors.push(e));
    if (req.sandboxGoing) removeLater(this.kernel, req.endpoint.hostIf);
    else await removeLink(this.kernel, req.endpoint.hostIf).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `leaving ${req.network.name}`);
  }

  async restore(sets: RestoreSet[]): Promise<void> {
    for (const { network: net } of sets) await this.ensure(net);
    const links = new Map((await this.kernel.linkList()).map((l) => [l.name, l]));
    for (const { network: net, endpoints } of sets) {
      const fw = await this.netFirewall(net);
      for (const req of endpoints) {
        const link = links.get(req.endpoint.hostIf);
        if (!link && req.runtimeMoves) {
          // Only the runtime can move a new container end into its sandbox: it stays broken, and explain says so.
          this.log(`the veth ${req.endpoint.hostIf} of ${req.containerName} is gone and cannot be rebuilt (its runtime moved it in)`);
          continue;
        }
        if (!link) {
          // The host end is gone (deleted by hand): rebuild the whole endpoint in the sandbox.
          await this.kernel.at(req.sandbox).batch().linkDel(req.endpoint.ifName).commit().catch(() => {
            // the sandbox end normally went with its peer; a missing one is what we want
          });
          await this.join({ ...req, ports: [] });
        } else if (link.master !== net.bridge || !link.up) {
          await this.kernel.batch().linkSetMaster(req.endpoint.hostIf, net.bridge!).linkSetUp(req.endpoint.hostIf).commit();
        }
        if (req.ports.length) await fw.addPorts(req.ports);
        if (link) await this.firewall.addEndpoint(endpointPort(req.endpoint, req.linkLocal));
        // A new daemon's fast path has maps of its own: the program is put on again (a replacement).
        if (link && this.fastPathed(net, req.endpoint) && !req.runtimeMoves) await this.fastPath.add({ hostIf: req.endpoint.hostIf, mac: req.endpoint.mac, ip: req.endpoint.ip, network: net.id });
      }
    }
    // Veths on our bridges that no endpoint explains (a crash between a join and its record).
    const bridges = new Set(sets.map((s) => s.network.bridge));
    const explained = new Set(this.repo.endpoints.list().map((e) => e.hostIf));
    for (const l of links.values()) {
      if (!l.name.startsWith(VETH_PREFIX) || !l.master || !bridges.has(l.master) || explained.has(l.name)) continue;
      this.log(`removing stale veth ${l.name}`);
      await removeLink(this.kernel, l.name).catch((e) => this.log(`removing ${l.name}: ${(e as Error).message}`));
    }
  }
}

const prefixLen = (cidr: string): number => Number(cidr.split('/')[1]);

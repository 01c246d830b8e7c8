/**
 * The bridge driver: a Linux bridge holding the gateway address, one veth pair per endpoint (host
 * end `vethXXXXXXX` on the bridge, the other end `ethN` in the sandbox), outbound masquerade and
 * published ports through the firewall.
 *
 * Network setup is an ordered list of idempotent steps:
 *   1. bridge link       — when no link of that name exists
 *   2. gateway address   — always (replace)
 *   3. bridge up         — always
 *   4. forwarding on     — net.ipv4.ip_forward=1, once per daemon
 *   5. route_localnet    — on the bridge, so 127.0.0.1 can be DNATed to a container (host-only ports)
 *   6. firewall rules    — masquerade and hairpin for the subnet
 */
import { EngineError } from '../base/errors';
import { Firewall, NetworkFirewall } from '../firewall/firewall';
import { Kernel } from '../kernel/kernel';
import { NetworkDriver, NetworkInfo, JoinRequest, removeLater, removeLink } from './driver';
import { macFromIp } from '../ipam/ipam';

export class BridgeDriver implements NetworkDriver {
  readonly name = 'bridge';
  private readonly fw = new Map<string, NetworkFirewall>();

  constructor(
    private readonly kernel: Kernel,
    private readonly firewall: Firewall,
  ) {}

  async validate(net: NetworkInfo): Promise<void> {
    if (!net.subnet || !net.gateway || !net.bridge) {
      throw new EngineError('INVALID_PARAMETER', `bridge network ${net.name} needs a subnet, a gateway and a bridge name`);
    }
    if (net.bridge.length > 15) throw new EngineError('INVALID_PARAMETER', `bridge name "${net.bridge}" is longer than 15 characters`, { hint: 'choose a shorter name' });
  }

  async createNetwork(net: NetworkInfo): Promise<void> {
    await this.validate(net);
    const links = await this.kernel.linkList();
    const existing = links.find((l) => l.name === net.bridge);
    if (existing && existing.kind !== 'bridge') {
      throw new EngineError('CONFLICTING_OPTIONS', `interface ${net.bridge} exists and is not a bridge`, { hint: 'choose another bridge name or remove that interface' });
    }
    const b = this.kernel.batch();
    // A bridge without its own MAC takes the lowest of its ports' and changes as containers come and
    // go, leaving stale gateway entries in the containers' ARP caches: give it one, derived from the
    // gateway address like the containers' (stable across restarts, never a container's).
    if (!existing) b.linkAddBridge(net.bridge!, { mtu: net.mtu, mac: macFromIp(net.gateway!) });
    b.addrReplace(net.bridge!, `${net.gateway}/${net.subnet!.prefixLen}`).linkSetUp(net.bridge!);
    await b.commit();
    await this.kernel.sysctlSet('net.ipv4.ip_forward', '1');
    await this.kernel.sysctlSet(`net.ipv4.conf.${net.bridge}.route_localnet`, '1');
    this.fw.set(net.id, await this.firewall.newNetwork({ id: net.id, bridge: net.bridge!, subnet: net.subnet!.cidr, gateway: net.gateway!, internal: net.internal }));
  }

  async deleteNetwork(net: NetworkInfo): Promise<void> {
    const errors: unknown[] = [];
    await (await this.netFirewall(net)).delNetworkRules().catch((e) => errors.push(e));
    this.fw.delete(net.id);
    await removeLink(this.kernel, net.bridge!).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `deleting network ${net.name}`);
  }

  private async netFirewall(net: NetworkInfo): Promise<NetworkFirewall> {
    let f = this.fw.get(net.id);
    if (!f) {
      f = await this.firewall.newNetwork({ id: net.id, bridge: net.bridge!, subnet: net.subnet!.cidr, gateway: net.gateway!, internal: net.internal });
      this.fw.set(net.id, f);
    }
    return f;
  }

  async join(req: JoinRequest): Promise<void> {
    const { network: net, endpoint: ep } = req;
    const undo: (() => Promise<void>)[] = [];
    try {
      // The peer is created directly inside the sandbox under its final name: no rename, no move.
      const host = this.kernel
        .batch()
        .linkAddVeth(ep.hostIf, ep.ifName, { mtu: net.mtu, peerNetns: req.sandbox, peerMac: ep.mac, singleQueue: true })
        .linkSetMaster(ep.hostIf, net.bridge!);
      // enable_icc=false: isolated bridge ports cannot talk to each other, only to the bridge (the
      // host), so published ports and the gateway still work.
      if (!net.icc) host.linkSetIsolated(ep.hostIf);
      // Anti-spoofing first: the port passes only the container's own MAC and address.
      const port = { port: ep.hostIf, ip: ep.ip, mac: ep.mac };
      await this.firewall.addEndpoint(port);
      undo.push(() => this.firewall.delEndpoint(port));
      // Pushed before the commit: a batch that fails half-way may have made the veth already.
      undo.push(() => removeLink(this.kernel, ep.hostIf));
      await host.linkSetUp(ep.hostIf).commit();
      const inside = this.kernel.at(req.sandbox).batch();
      inside.linkSetUp('lo').addrReplace(ep.ifName, `${ep.ip}/${net.subnet!.prefixLen}`).linkSetUp(ep.ifName);
      if (req.defaultRoute && !net.internal) inside.routeReplace('default', { via: net.gateway, dev: ep.ifName });
      await inside.commit();
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
    await this.firewall.delEndpoint({ port: req.endpoint.hostIf, ip: req.endpoint.ip, mac: req.endpoint.mac }).catch((e) => errors.push(e));
    if (req.ports.length) await (await this.netFirewall(req.network)).delPorts(req.ports).catch((e) => errors.push(e));
    if (req.sandboxGoing) removeLater(this.kernel, req.endpoint.hostIf);
    else await removeLink(this.kernel, req.endpoint.hostIf).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `leaving ${req.network.name}`);
  }

  async restore(net: NetworkInfo, endpoints: JoinRequest[]): Promise<void> {
    await this.createNetwork(net);
    const links = new Map((await this.kernel.linkList()).map((l) => [l.name, l]));
    const fw = await this.netFirewall(net);
    for (const req of endpoints) {
      const link = links.get(req.endpoint.hostIf);
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
      if (link) await this.firewall.addEndpoint({ port: req.endpoint.hostIf, ip: req.endpoint.ip, mac: req.endpoint.mac });
    }
  }
}

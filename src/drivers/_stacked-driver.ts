/**
 * What the macvlan and ipvlan drivers share: networks on a parent interface of the host
 * (_parent-link.ts), a link stacked on that parent per endpoint, made directly inside the sandbox
 * under its final name (ethN), with the container's address and its default route via the
 * network's gateway (the LAN's router: nothing of the host). The containers are on the parent's
 * network itself: no NAT, no published ports, no firewall rules; and, as the kernel does it, the
 * host cannot reach its own macvlan/ipvlan children through the parent (Docker says the same).
 * Networks and leases are local (the state store). Each driver says how its link is made.
 */
import { EngineError } from '../base/errors';
import { Endpoint, Network } from '../base/model';
import { OPT_MTU } from '../base/network-options';
import { AddressPool } from '../ipam/pools';
import { Batch, Kernel, KernelError } from '../kernel/kernel';
import { EndpointDraft, EndpointRepo, NetworkRepo, Picked } from '../state/repos';
import { settleAddressing } from './_addressing';
import { addressInside, JoinRequest, NetworkDriver, NetworkRequest, removeLink, RestoreSet, TakenSubnet, TakenSubnet6, WayOut } from './driver';
import { makeParent, parentOf, planParent, releaseParent } from './_parent-link';

export interface StackedConfig {
  /** where subnets come from when none is given */
  pools: AddressPool[];
  /** where IPv6 subnets come from when none is given */
  pools6?: AddressPool[];
}

export abstract class StackedDriver implements NetworkDriver {
  abstract readonly name: string;
  readonly scope = 'local' as const;
  readonly endpoints = true;

  constructor(
    protected readonly kernel: Kernel,
    protected readonly repo: { networks: NetworkRepo; endpoints: EndpointRepo },
    private readonly cfg: StackedConfig,
    protected readonly log: (m: string) => void = () => {},
  ) {}

  /** The options this driver takes besides parent and the MTU, with their checks. */
  protected abstract checkOptions(net: NetworkRequest): void;
  /** Queues the endpoint's link, made inside the sandbox as `ifName`. */
  protected abstract addLink(b: Batch, net: Network, ep: Endpoint, sandbox: string): void;
  /** Before a network is made: whether this kernel can make the driver's links at all (ipvlan). */
  protected async probe(_net: Network): Promise<void> {}
  /** The error for a join the kernel refused with EOPNOTSUPP (its kind of link is missing). */
  protected abstract lacking(net: Network): EngineError;
  /** The MAC the kernel gives the endpoint's link: undefined when ctrnet chooses it (02:42 + address). */
  protected async kernelMac(_net: Network): Promise<string | undefined> {
    return undefined;
  }
  /** The default route of an endpoint: via the gateway (l2), or on the link itself (ipvlan l3). */
  protected routeVia(_net: Network): boolean {
    return true;
  }

  servesDns(): boolean {
    return true;
  }

  wayOut(net: Network): WayOut {
    return net.internal ? { kind: 'none' } : { kind: 'self', publishes: false };
  }

  remotes(): [] {
    return [];
  }

  async describe(): Promise<undefined> {
    return undefined;
  }

  async createNetwork(req: NetworkRequest, taken: TakenSubnet[], taken6: TakenSubnet6[] = []): Promise<Network> {
    for (const k of Object.keys(req.options)) {
      if (k !== 'parent' && k !== OPT_MTU && !this.optionNames().includes(k)) {
        throw new EngineError('INVALID_PARAMETER', `unknown ${this.name} network option "${k}"`, { hint: `known options: parent, ${[...this.optionNames(), OPT_MTU].join(', ')}` });
      }
    }
    this.checkOptions(req);
    const mtu = req.options[OPT_MTU];
    if (mtu !== undefined && (!/^\d+$/.test(mtu) || Number(mtu) < 576 || Number(mtu) > 65535)) throw new EngineError('INVALID_PARAMETER', `invalid ${OPT_MTU} "${mtu}"`, { hint: 'give a number from 576 to 65535' });
    const plan = await planParent(this.kernel, this.repo.networks, this.name, req.id, req.name, req.options.parent);
    // The parent's own subnet is what a macvlan network usually shares (its containers are on that
    // LAN): the host's routes through the parent are not overlaps.
    const others = taken.filter((t) => !t.dev || (t.dev !== plan.name && t.dev !== (plan.make?.kind === 'vlan' ? plan.make.base : '')));
    const others6 = taken6.filter((t) => !t.dev || (t.dev !== plan.name && t.dev !== (plan.make?.kind === 'vlan' ? plan.make.base : '')));
    const addressing = settleAddressing(req, others, others6, this.cfg.pools, this.cfg.pools6 ?? []);
    const net: Network = {
      id: req.id, name: req.name, driver: this.name, ...addressing,
      // Without a parent the containers reach only each other (a dummy link goes nowhere), as in Docker.
      internal: req.internal || !req.options.parent,
      options: req.options, labels: req.labels, created: new Date().toISOString(),
      ...(req.auxAddresses ? { auxAddresses: req.auxAddresses } : {}),
      ...(req.ipamOptions ? { ipamOptions: req.ipamOptions } : {}),
      ...(plan.make ? { createdLink: plan.name } : {}),
    };
    await makeParent(this.kernel, plan, req.name);
    try {
      await this.probe(net);
      this.repo.networks.insert(net);
    } catch (e) {
      await releaseParent(this.kernel, this.repo.networks, net).catch(() => {
        // best effort: the original error is what the user needs to see
      });
      throw e;
    }
    return net;
  }

  /** Option names of this driver (macvlan_mode; ipvlan_mode, ipvlan_flag). */
  protected abstract optionNames(): string[];

  async deleteNetwork(net: Network): Promise<void> {
    this.repo.networks.delete(net.id);
    await releaseParent(this.kernel, this.repo.networks, net);
  }

  /**
   * The host's own addresses on the parent count as taken: Docker would hand them out (it does not
   * look), and a container holding the host's address cuts the host off its LAN.
   */
  async lease(net: Network, draft: EndpointDraft, pick: (used: Set<string>) => Picked): Promise<Endpoint> {
    const own = [...(await this.kernel.addrList()), ...(net.subnet6 ? await this.kernel.addrList(6) : [])].filter((a) => a.dev === parentOf(net)).map((a) => a.address);
    return this.repo.endpoints.lease(draft, (used) => pick(own.length ? new Set([...used, ...own]) : used));
  }

  async release(_net: Network, ep: Endpoint): Promise<void> {
    this.repo.endpoints.delete(ep.id);
  }

  async join(req: JoinRequest): Promise<void> {
    const { network: net, sandbox } = req;
    let ep = req.endpoint;
    const mac = await this.kernelMac(net);
    if (mac && mac !== ep.mac) {
      ep = { ...ep, mac };
      this.repo.endpoints.update(ep.id, { mac });
    }
    const b = this.kernel.batch();
    this.addLink(b, net, ep, sandbox);
    try {
      await b.commit();
    } catch (e) {
      if (e instanceof KernelError && e.errno === 'EOPNOTSUPP') throw this.lacking(net);
      if (e instanceof KernelError && e.errno === 'ENOENT' && !(await this.kernel.linkList()).some((l) => l.name === parentOf(net))) {
        throw new EngineError('CONFLICTING_OPTIONS', `the parent interface ${parentOf(net)} of network ${net.name} is gone`, { cause: e, hint: 'create it again, or remove the network' });
      }
      throw e;
    }
    try {
      await addressInside(this.kernel, { ...req, endpoint: ep }, (b) => {
        if (req.defaultRoute && !net.internal && ep.ip) b.routeReplace('default', this.routeVia(net) ? { via: net.gateway, dev: ep.ifName } : { dev: ep.ifName });
        if ((req.defaultRoute6 ?? req.defaultRoute) && !net.internal && ep.ip6) b.routeReplace('default', this.routeVia(net) ? { via: net.gateway6, dev: ep.ifName } : { dev: ep.ifName });
      });
    } catch (e) {
      await removeLink(this.kernel.at(sandbox), ep.ifName).catch(() => undefined);
      throw e;
    }
  }

  async leave(req: JoinRequest): Promise<void> {
    // Removed now even when the sandbox goes: the kernel destroys a dying namespace's links in the
    // background, and until then the parent keeps this MAC (a new child with it fails, EADDRINUSE)
    // and its mode (a passthru child cannot come while it exists).
    await removeLink(this.kernel.at(req.sandbox), req.endpoint.ifName).catch((e) => {
      // the sandbox itself may be gone already: then so is the link
      if (!(e instanceof KernelError && e.errno === 'ENOENT')) throw e;
    });
  }

  async restore(sets: RestoreSet[]): Promise<void> {
    const links = new Set((await this.kernel.linkList()).map((l) => l.name));
    for (const { network: net, endpoints } of sets) {
      // A parent we made that is gone (deleted by hand, a reboot): made again.
      if (net.createdLink && !links.has(net.createdLink)) {
        this.log(`making the parent ${net.createdLink} of network ${net.name} again`);
        await makeParent(this.kernel, await planParent(this.kernel, this.repo.networks, this.name, net.id, net.name, net.options.parent), net.name).catch((e) => this.log(`network ${net.name}: ${(e as Error).message}`));
      }
      for (const req of endpoints) {
        const inside = await this.kernel.at(req.sandbox).linkList().catch(() => undefined);
        if (!inside || inside.some((l) => l.name === req.endpoint.ifName)) continue;
        this.log(`rebuilding ${req.endpoint.ifName} of ${req.containerName} on ${net.name}`);
        await this.join(req).catch((e) => this.log(`rebuilding ${req.endpoint.ifName} of ${req.containerName}: ${(e as Error).message}`));
      }
    }
  }
}

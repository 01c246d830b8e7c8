/**
 * Sandboxes: a container's network, per mode.
 *   bridge / a network name — own namespace, one endpoint (veth) per network, published ports
 *   host                   — the daemon's namespace; nothing is made
 *   none                   — own namespace with only lo
 *   container:<id>         — the namespace of that container (followed to the end of a chain)
 * A namespace is bind-mounted at EXEC_ROOT/netns/<short id> and handed to runc by path.
 * setup() is all or nothing: on failure it removes the namespace, links, rules, leases and ports
 * it made. teardown() keeps going after errors and reports them together. What an endpoint needs
 * (its address scope, its way out) is its network's driver's answer. A sandbox on a network with
 * embedded DNS gets the resolver at 127.0.0.11 inside it (dns/resolver.ts); it is detached before
 * the namespace goes (its socket would keep the namespace alive).
 *
 * IPv6: a sandbox has IPv6 on only when one of its networks has IPv6 (then quietly: no router
 * solicitations, no duplicate address detection; an interface of a network without IPv6 keeps it
 * off), so a container without IPv6 sends nothing a bridge would flood. Each family has its
 * default route on the first network that is its own way out and has that family.
 */
import { randomBytes } from 'node:crypto';
import { attachments, ContainerSpec, endpointConfigOf, modeOf } from '../base/container-spec';
import { EngineError } from '../base/errors';
import { DnsServer, Upstream } from '../dns/resolver';
import { Container, Endpoint, lastAddress6Key, Network } from '../base/model';
import { containerIfName, Paths, paths, vethName } from '../base/names';
import { JoinRequest } from '../drivers/driver';
import { checkRequested, contains, macFromIp, parseCidr, pickAddress } from '../ipam/ipam';
import { canonical6, checkRequested6, contains6, macFromIp6, parseCidr6, pickAddress6 } from '../ipam/ipam6';
import { OPT_GATEWAY_MODE_IPV6 } from '../base/network-options';
import { Kernel } from '../kernel/kernel';
import { Repos } from '../state/repos';
import { Networks } from './networks';
import { bindingsOf, PortPublisher } from './publish';
import { endpointSysctls } from '../base/network-options';

/** An address the network can hand out (in its subnet and range, not its gateway). */
function validAddress(check: () => void): boolean {
  try {
    check();
    return true;
  } catch {
    return false; // the network changed since: the address is no longer one of its own
  }
}

/** One interface to make: on which network, whether it holds the default route (IPv4, IPv6), and the published ports. */
interface Step {
  network: Network;
  exit: boolean;
  exit6: boolean;
  ports: boolean;
}

/**
 * Which of a container's networks gives it its default route (and holds its published ports):
 * of those that are their own way out, the one with the highest GwPriority (API 1.48); on a tie,
 * the first in interface order (the network mode's network first).
 */
export function gatewayIndex(nets: Network[], selfWayOut: (n: Network) => boolean, spec: ContainerSpec): number {
  let best = -1;
  for (let i = 0; i < nets.length; i++) {
    if (!selfWayOut(nets[i])) continue;
    const prio = (n: Network) => endpointConfigOf(spec, n)?.gwPriority ?? 0;
    if (best < 0 || prio(nets[i]) > prio(nets[best])) best = i;
  }
  return best;
}
/** The sysctls that turn IPv6 on, quietly, in a sandbox made without it (a live connect to an IPv6 network). */
const IPV6_ON = [
  ['all.accept_ra', '0'], ['default.accept_ra', '0'], ['all.accept_dad', '0'], ['default.accept_dad', '0'],
  ['default.router_solicitations', '0'], ['default.disable_ipv6', '0'], ['lo.disable_ipv6', '0'],
];

/** A container's --dns servers as the resolver's upstreams (empty: the daemon's). */
const upstreamsOf = (spec: ContainerSpec): Upstream[] => spec.dns.map((host) => ({ host, port: 53 }));

export class Sandboxes {
  constructor(
    private readonly p: Paths,
    private readonly kernel: Kernel,
    private readonly repo: Pick<Repos, 'endpoints' | 'ports' | 'containers'>,
    private readonly networks: Networks,
    private readonly publisher: PortPublisher,
    private readonly dns: DnsServer,
  ) {}

  /** The namespace path a running container uses ("host" in host mode). */
  netnsOf(c: Container): string {
    const mode = modeOf(c.spec.networkMode);
    if (mode.kind === 'host') return 'host';
    if (mode.kind === 'container') {
      const target = this.repo.containers.get(mode.target);
      if (!target) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${mode.target}`);
      return this.netnsOf(target);
    }
    return paths.netns(this.p, c.id);
  }

  /** Builds the container's network; returns the namespace path for runc ("host" in host mode). */
  async setup(c: Container): Promise<string> {
    const mode = modeOf(c.spec.networkMode);
    if (mode.kind === 'host') return 'host';
    if (mode.kind === 'container') {
      const target = this.repo.containers.get(mode.target);
      if (!target || target.status !== 'running') {
        throw new EngineError('CONTAINER_NOT_RUNNING', `cannot join network of a non running container: ${target ? target.name : mode.target}`, { hint: 'start that container first' });
      }
      return this.netnsOf(target);
    }
    const ns = paths.netns(this.p, c.id);
    const undo: (() => Promise<void>)[] = [];
    try {
      const steps = mode.kind === 'none' ? [] : await this.plan(c.spec);
      const ipv6 = steps.some((s) => !!s.network.subnet6);
      await this.kernel.netnsAdd(ns, { ipv6 });
      undo.push(() => this.kernel.netnsDel(ns));
      if (mode.kind === 'none') {
        await this.kernel.at(ns).batch().linkSetUp('lo').commit();
        return ns;
      }
      // Disconnected from every network: only lo, until a connect.
      if (steps.length === 0) await this.kernel.at(ns).batch().linkSetUp('lo').commit();
      for (const [n, step] of steps.entries()) {
        const req = await this.reserve(c, step.network, n, step, ns, ipv6);
        const driver = this.networks.driver(step.network);
        undo.push(async () => {
          if (req.ports.length) this.publisher.release(c.id);
          await driver.release(step.network, req.endpoint);
        });
        await driver.join(req);
        undo.push(() => driver.leave(req));
        await this.endpointSysctls(c, step.network, req.endpoint.ifName, ns);
      }
      if (this.networks.embeddedDns(c.spec)) {
        await this.dns.attach(c.id, ns, upstreamsOf(c.spec));
        undo.push(async () => this.dns.detach(c.id));
      }
      return ns;
    } catch (e) {
      const errors: unknown[] = [];
      for (const u of undo.reverse()) await u().catch((e2) => errors.push(e2));
      if (errors.length) throw new AggregateError([e, ...errors], 'network setup failed and could not be fully undone');
      throw e;
    }
  }

  /**
   * The interfaces to make, in order: the container's networks (primary first), plus the primary's
   * way-out network when its driver names one (an overlay's gateway bridge). `exit` marks the one
   * endpoint that holds the default route and the published ports: the first network that is its
   * own way out.
   */
  private async plan(spec: ContainerSpec): Promise<Step[]> {
    const nets = attachments(spec).map((n) => this.networks.get(n));
    const out = nets[0] && this.networks.driver(nets[0]).wayOut(nets[0]);
    if (out?.kind === 'via') nets.splice(1, 0, await this.networks.ensure(out.network));
    const ways = nets.map((n) => this.networks.driver(n).wayOut(n));
    const exit = gatewayIndex(nets, (n) => ways[nets.indexOf(n)].kind === 'self', spec);
    // Published ports go with the default route (replies must leave the way the requests came),
    // unless that network cannot publish them (a macvlan: its containers are on the parent's
    // network, reached at their own addresses).
    const w = ways[exit];
    const ports = w?.kind === 'self' && w.publishes !== false ? exit : -1;
    // IPv6's default route: on the IPv4 one's network when it has IPv6, else the first way out that has.
    const exit6 = exit >= 0 && nets[exit].subnet6 ? exit : ways.findIndex((x, i) => x.kind === 'self' && !!nets[i].subnet6);
    if (ports < 0 && bindingsOf(spec).length && nets.length) {
      if (exit >= 0) {
        throw new EngineError('CONFLICTING_OPTIONS', `ports cannot be published on network ${nets[exit].name} (driver ${nets[exit].driver}): its containers are reached at their own addresses`, { hint: 'drop -p, or connect the container to a bridge network too' });
      }
      throw new EngineError('CONFLICTING_OPTIONS', `network ${nets[0].name} is internal: ports cannot be published on it`, { hint: 'drop -p or use a network that is not --internal' });
    }
    return nets.map((network, i) => ({ network, exit: i === exit, exit6: i === exit6, ports: i === ports }));
  }

  /**
   * DriverOpts com.docker.network.endpoint.sysctls (Docker 27+): "net.ipv4.conf.IFNAME.KEY=V,…"
   * set on the endpoint's interface inside the sandbox (IFNAME is replaced by its name).
   */
  private async endpointSysctls(c: Container, net: Network, ifName: string, ns: string): Promise<void> {
    for (const [key, value] of endpointSysctls(endpointConfigOf(c.spec, net)?.driverOpts)) await this.kernel.at(ns).sysctlSet(key.replace('IFNAME', ifName), value);
  }

  /** After a daemon restart: the resolver answers again inside a running container's sandbox. */
  async restoreDns(c: Container): Promise<void> {
    const mode = modeOf(c.spec.networkMode);
    if (mode.kind !== 'network' || !this.networks.embeddedDns(c.spec)) return;
    await this.dns.attach(c.id, paths.netns(this.p, c.id), upstreamsOf(c.spec));
  }

  /**
   * Connects a running container to one more network: the next ethN, live. Returns true when the
   * resolver was attached by this connect (the first network with embedded DNS): resolv.conf must
   * then name it.
   */
  async connect(c: Container, network: string): Promise<boolean> {
    const used = new Set(this.repo.endpoints.list({ containerId: c.id }).map((e) => Number(e.ifName.replace(/^eth/, ''))));
    let n = 1;
    while (used.has(n)) n++;
    const net = this.networks.get(network);
    const driver = this.networks.driver(net);
    const ns = paths.netns(this.p, c.id);
    const eps = this.repo.endpoints.list({ containerId: c.id });
    // The first interface of a container that left every network holds its default route (and
    // the first with IPv6 the IPv6 one).
    const first = used.size === 0 && driver.wayOut(net).kind === 'self';
    const isExit = (id: string) => {
      const other = this.networks.find(id);
      return !!other && this.networks.driver(other).wayOut(other).kind === 'self';
    };
    const first6 = !!net.subnet6 && driver.wayOut(net).kind === 'self' && !eps.some((e) => e.ip6 && isExit(e.networkId));
    const had6 = eps.some((e) => !!e.ip6);
    // A sandbox made without IPv6 gets it now (its other interfaces keep it off).
    if (net.subnet6 && !had6) for (const [k, v] of IPV6_ON) await this.kernel.at(ns).sysctlSet(`net.ipv6.conf.${k}`, v);
    const req = await this.reserve(c, net, used.size === 0 ? 0 : n, { network: net, exit: first, exit6: first6, ports: false }, ns, had6 || !!net.subnet6);
    try {
      await driver.join(req);
      await this.endpointSysctls(c, net, req.endpoint.ifName, ns);
    } catch (e) {
      await driver.leave(req).catch(() => undefined);
      await driver.release(net, req.endpoint);
      throw e;
    }
    if (this.dns.attached(c.id) || !driver.servesDns(net)) return false;
    try {
      await this.dns.attach(c.id, ns, upstreamsOf(c.spec));
    } catch (e) {
      // All or nothing: the interface goes again with the resolver that could not come.
      await driver.leave(req).catch(() => undefined);
      await driver.release(net, req.endpoint).catch(() => undefined);
      throw e;
    }
    return true;
  }

  /** Removes a running container's interface on a network, live. */
  async disconnect(c: Container, networkId: string): Promise<void> {
    const net = this.networks.get(networkId);
    const driver = this.networks.driver(net);
    for (const req of this.requests(c).filter((r) => r.network.id === networkId)) {
      await driver.leave(req);
      if (req.ports.length) this.publisher.release(c.id);
      await driver.release(net, req.endpoint);
    }
  }

  /** Leases the addresses (and, for the exit endpoint, the published ports) on the n-th interface (records only). */
  private async reserve(c: Container, net: Network, n: number, step: Step, sandbox: string, sandboxIpv6: boolean): Promise<JoinRequest> {
    const driver = this.networks.driver(net);
    if (!driver.endpoints || !(net.subnet || net.subnet6)) {
      throw new EngineError('INVALID_NETWORK_MODE', `network ${net.name} (driver ${net.driver}) cannot hold container interfaces`, { hint: `use --network ${net.name === 'host' ? 'host' : 'none'}` });
    }
    const cfg = endpointConfigOf(c.spec, net);
    // A restart gets the addresses of the container's last run back while they are free.
    const pick = addressPicker(net, cfg?.ipv4, cfg?.ipv6, { ip: c.lastAddresses?.[net.id], ip6: c.lastAddresses?.[lastAddress6Key(net.id)] });
    const epId = randomBytes(32).toString('hex');
    const leased = await driver.lease(net, { id: epId, containerId: c.id, networkId: net.id, ifName: containerIfName(n), hostIf: vethName(epId), mac: '', aliases: cfg?.aliases ?? [] }, pick);
    const endpoint: Endpoint = { ...leased, mac: cfg?.macAddress || (n === 0 && c.spec.macAddress) || (leased.ip ? macFromIp(leased.ip) : macFromIp6(leased.ip6!)) };
    this.repo.endpoints.update(endpoint.id, { mac: endpoint.mac });
    try {
      const ports = step.ports ? await this.publisher.reserve(c, endpoint.ip, endpoint.ip6, net.options[OPT_GATEWAY_MODE_IPV6] === 'routed') : [];
      return {
        network: net, endpoint, containerName: c.name, sandbox, defaultRoute: step.exit, defaultRoute6: step.exit6, ports, linkLocal: cfg?.linkLocalIps ?? [],
        ...(sandboxIpv6 ? { sandboxIpv6: true } : {}),
      };
    } catch (e) {
      await driver.release(net, endpoint);
      throw e;
    }
  }

  /** The join requests that describe a container's endpoints, from the records. */
  requests(c: Container): JoinRequest[] {
    const ports = this.repo.ports.list(c.id);
    const num = (e: Endpoint) => Number(e.ifName.replace(/^\D+/, ''));
    const eps = this.repo.endpoints.list({ containerId: c.id }).sort((x, y) => num(x) - num(y));
    const nets = new Map(eps.map((ep) => [ep.id, this.networks.get(ep.networkId)]));
    // The default route is where plan() put it: the gateway endpoint by GwPriority, then order
    // (IPv6's: on that one if it has IPv6, else on the first such endpoint with IPv6).
    const self = (ep: Endpoint) => {
      const net = nets.get(ep.id)!;
      return this.networks.driver(net).wayOut(net).kind === 'self';
    };
    const ordered = eps.map((ep) => nets.get(ep.id)!);
    const exit = eps[gatewayIndex(ordered, (n) => this.networks.driver(n).wayOut(n).kind === 'self', c.spec)];
    const exit6 = exit?.ip6 ? exit : eps.find((ep) => ep.ip6 && self(ep));
    const sandboxIpv6 = eps.some((ep) => !!ep.ip6);
    return eps.map((ep) => ({
      network: nets.get(ep.id)!,
      endpoint: ep,
      containerName: c.name,
      sandbox: paths.netns(this.p, c.id),
      defaultRoute: ep.id === exit?.id,
      defaultRoute6: ep.id === exit6?.id,
      ports: ports.filter((r) => r.containerIp === ep.ip || (!!ep.ip6 && r.containerIp === ep.ip6)).map(({ containerId: _, ...m }) => m),
      linkLocal: endpointConfigOf(c.spec, nets.get(ep.id)!)?.linkLocalIps ?? [],
      ...(sandboxIpv6 ? { sandboxIpv6: true } : {}),
    }));
  }

  /**
   * Removes everything setup() made; idempotent, keeps going after errors. `held`: another
   * process still holds the namespace (a container:NAME joiner), so it outlives its unmounting.
   */
  async teardown(c: Container, opts: { held?: boolean } = {}): Promise<void> {
    const mode = modeOf(c.spec.networkMode);
    if (mode.kind === 'host' || mode.kind === 'container') return;
    // First: the resolver's socket holds the namespace, which must go with the unmount below.
    this.dns.detach(c.id);
    const errors: unknown[] = [];
    for (const req of this.requests(c)) {
      const driver = this.networks.driver(req.network);
      await driver.leave({ ...req, sandboxGoing: !opts.held }).catch((e) => errors.push(e));
      await driver.release(req.network, req.endpoint).catch((e) => errors.push(e));
    }
    this.publisher.release(c.id);
    await this.kernel.netnsDel(paths.netns(this.p, c.id)).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `tearing down the network of ${c.name}`);
  }
}

/**
 * The lease's choice on a network, made inside the lease's transaction: the requested addresses
 * (--ip, --ip6: anywhere in the subnet, an --ip-range limits only automatic ones, as in Docker;
 * never an auxiliary one nor one in use) or the lowest free ones, in each family the network has.
 */
function addressPicker(net: Network, wanted4: string | undefined, wanted6: string | undefined, last: { ip?: string; ip6?: string } = {}): (used: Set<string>) => { ip: string; ip6?: string } {
  if (wanted4 && !net.subnet) throw new EngineError('INVALID_PARAMETER', `network ${net.name} has no IPv4 (it was created with --ipv4=false): --ip ${wanted4} cannot be given`, { hint: 'drop --ip, or give --ip6' });
  if (wanted6 && !net.subnet6) throw new EngineError('INVALID_PARAMETER', `network ${net.name} has no IPv6: --ip6 ${wanted6} cannot be given`, { hint: 'drop --ip6, or create the network with --ipv6' });
  const subnet = net.subnet ? parseCidr(net.subnet) : undefined;
  const range = net.ipRange ? parseCidr(net.ipRange) : undefined;
  const subnet6 = net.subnet6 ? parseCidr6(net.subnet6) : undefined;
  const range6 = net.ipRange6 ? parseCidr6(net.ipRange6) : undefined;
  const want6 = wanted6 ? canonical6(wanted6) : undefined;
  if (subnet && wanted4) checkRequested(subnet, net.gateway!, wanted4, net.name);
  if (subnet6 && want6) checkRequested6(subnet6, net.gateway6!, want6, net.name);
  const aux = new Set(Object.values(net.auxAddresses ?? {}).map((a) => (a.includes(':') ? canonical6(a) : a)));
  for (const w of [wanted4, want6]) {
    if (w && aux.has(w)) throw new EngineError('ADDRESS_EXHAUSTED', `address ${w} is reserved in network ${net.name} (an auxiliary address)`, { hint: 'choose another address or leave it out' });
  }
  return (used) => {
    const taken = aux.size ? new Set([...used, ...aux]) : used;
    let ip = '';
    let ip6: string | undefined;
    if (subnet) {
      if (wanted4 && used.has(wanted4)) throw new EngineError('ADDRESS_EXHAUSTED', `Address already in use: ${wanted4} on network ${net.name}`, { hint: 'choose another --ip or leave it out' });
      const l = last.ip;
      const reuse = !wanted4 && l && !taken.has(l) && validAddress(() => checkRequested(subnet, net.gateway!, l, net.name)) && (!range || contains(range, l));
      const got = wanted4 ?? (reuse ? l : pickAddress(subnet, net.gateway!, taken, range));
      if (!got) throw new EngineError('ADDRESS_EXHAUSTED', `no free address in ${net.name} (${net.subnet})`, { hint: 'remove containers from it or create a network with a larger subnet' });
      ip = got;
    }
    if (subnet6) {
      if (want6 && [...used].some((u) => u.includes(':') && canonical6(u) === want6)) throw new EngineError('ADDRESS_EXHAUSTED', `Address already in use: ${want6} on network ${net.name}`, { hint: 'choose another --ip6 or leave it out' });
      const l = last.ip6;
      const reuse = !want6 && l && !taken.has(l) && validAddress(() => checkRequested6(subnet6, net.gateway6!, l, net.name)) && (!range6 || contains6(range6, l));
      ip6 = want6 ?? (reuse ? l : pickAddress6(subnet6, net.gateway6!, taken, range6));
      if (!ip6) throw new EngineError('ADDRESS_EXHAUSTED', `no free IPv6 address in ${net.name} (${net.subnet6})`, { hint: 'remove containers from it or give it a larger IPv6 subnet' });
    }
    return ip6 ? { ip, ip6 } : { ip };
  };
}

/**
 * External attachments: sandboxes ctrnet did not make (a CNI runtime's CNI_NETNS, a Docker
 * sandbox) on ctrnet networks, through the same drivers as ctrnet's own containers: the address
 * from the network's scope (SQLite, or etcd for an overlay), the veth, anti-spoofing, published
 * ports, and for an overlay a way-out interface on the gateway bridge. The attachment record
 * (state: `attachments`) owns its endpoints and published ports as a container owns its own, so
 * they appear in `network inspect`, `topology`, `explain` and the embedded DNS (by the record's name
 * and aliases), and are restored after a daemon restart.
 *
 * Lifecycle, as for containers: the record first (so a crash leaves something to clean), then the
 * leases, then the kernel; a failure undoes everything in reverse. detach() is idempotent and
 * keeps going after errors; gc() detaches every attachment of a scope the runtime no longer lists.
 * Never touches ctrnet's own containers: only records of the `attachments` table are considered.
 *
 * Limitations: IPv4 only, as the rest of ctrnet. The interface is deleted by hand at detach (the
 * runtime owns the namespace and may keep it). A Docker endpoint whose veth was deleted by hand
 * cannot be rebuilt (only dockerd can move an interface into its sandbox): explain reports it.
 * A CNI sandbox gets ctrnet's resolver at 127.0.0.11 (as ctrnet's containers, dns/resolver.ts); one
 * per namespace, so a second attachment of the same namespace resolves with the first one's names.
 * A Docker sandbox keeps Docker's own resolver there.
 */
import { randomBytes } from 'node:crypto';
import { AttachedInterface, Attachment, AttachmentKey, AttachmentPort, AttachRequest, AttachResult, GcRequest } from '../../base/attachment';
import { VALID_NAME } from '../../base/container-spec';
import { describe, EngineError } from '../../base/errors';
import { EngineEvents } from '../../base/events';
import { Endpoint, Network } from '../../base/model';
import { KeyedMutex } from '../../base/mutex';
import { movedPeerName, shortId, vethName, wayOutIfName } from '../../base/names';
import { DnsServer, EMBEDDED_DNS } from '../../dns/resolver';
import { JoinRequest } from '../../drivers/driver';
import { checkRequested, isIPv4, macFromIp, parseCidr, pickAddress } from '../../ipam/ipam';
import { Kernel, KernelError } from '../../kernel/kernel';
import { Repos } from '../../state/repos';
import { Networks } from '../networks';
import { PortPublisher } from '../publish';

/** Interface names the kernel takes (and that reach the helper's scripts): no "/", no white space. */
const VALID_IFNAME = /^(?!\.\.?$)[a-zA-Z0-9_.-]{1,15}$/;
const VALID_MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

/** One interface to make for an attachment: its network, its name inside, and whether it is the way out. */
interface Step {
  network: Network;
  ifName: string;
  exit: boolean;
}

const bad = (msg: string, hint?: string) => new EngineError('INVALID_PARAMETER', msg, { hint });

export class ExternalAttachments {
  /** one change per attachment key at a time (a runtime retrying an ADD while its DEL runs) */
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly repo: Pick<Repos, 'attachments' | 'endpoints' | 'ports' | 'containers'>,
    private readonly networks: Networks,
    private readonly publisher: PortPublisher,
    /** the daemon's namespace (sandboxes through at()) */
    private readonly kernel: Kernel,
    private readonly events: EngineEvents,
    /** the embedded resolver: answers at 127.0.0.11 inside each sandbox on a network with embedded DNS */
    private readonly dns: DnsServer,
    private readonly log: (m: string) => void = () => {},
  ) {}

  // ------------------------------------------------------------ reads

  list(filter?: { kind?: string; scope?: string; networkId?: string }): Attachment[] {
    return this.repo.attachments.list(filter);
  }

  get(idOrName: string): Attachment | undefined {
    return this.repo.attachments.get(idOrName);
  }

  find(key: AttachmentKey): Attachment | undefined {
    return this.repo.attachments.find(key.kind, key.ref, key.scope, key.ifName);
  }

  endpointsOf(a: Attachment): Endpoint[] {
    return this.repo.endpoints.list({ containerId: a.id });
  }

  /**
   * After a daemon restart: the join requests of every attachment whose sandbox still exists, for
   * the drivers' restore. One whose namespace is gone (its runtime died without a DEL) is detached:
   * its container is gone, and its address and ports must be free again.
   */
  async restorable(): Promise<JoinRequest[]> {
    const out: JoinRequest[] = [];
    for (const a of this.repo.attachments.list()) {
      // A Docker address leased by the IPAM driver before its endpoint exists has no interface yet.
      if (a.kind === 'docker' && !a.ref) continue;
      const alive = a.netns ? await this.kernel.at(a.netns).linkList().then(() => true, () => false) : false;
      if (!alive && a.kind === 'cni') {
        this.log(`the sandbox ${a.netns} of ${a.name} (CNI container ${shortId(a.ref)}) is gone: detaching it`);
        await this.detachLocked(a).catch((e) => this.log(`detaching ${a.name}: ${describe(e)}`));
        continue;
      }
      if (!alive) continue;
      out.push(...this.requestsOf(a));
      if (a.kind === 'cni') await this.attachDns(a).catch((e) => this.log(`embedded DNS of ${a.name}: ${describe(e)}`));
    }
    return out;
  }

  requestsOf(a: Attachment): JoinRequest[] {
    const eps = this.endpointsOf(a);
    const ports = this.repo.ports.list(a.id);
    const exit = this.exitOf(eps);
    return eps.map((ep) => ({
      network: this.networks.get(ep.networkId),
      endpoint: ep,
      containerName: a.name,
      sandbox: a.netns,
      defaultRoute: ep.id === exit?.id,
      ports: ports.filter((p) => p.containerIp === ep.ip).map(({ containerId: _, ...m }) => m),
      ...(a.kind === 'docker' ? { runtimeMoves: true } : {}),
    }));
  }

  private exitOf(eps: Endpoint[]): Endpoint | undefined {
    return eps.find((ep) => {
      const net = this.networks.find(ep.networkId);
      return !!net && this.networks.driver(net).wayOut(net).kind === 'self';
    });
  }

  // ------------------------------------------------------------ attach (CNI ADD)

  /**
   * Attaches a sandbox to a network: leases, veth into `netns` named `ifName`, routes, ports, DNS
   * names; all or nothing. An ADD repeated for the same key and namespace answers the same result.
   */
  async attach(req: AttachRequest): Promise<AttachResult> {
    this.validate(req);
    const net = this.networks.get(req.network);
    const driver = this.networks.driver(net);
    if (driver.endpoints && !net.subnet && net.subnet6) {
      throw bad(`network ${net.name} is IPv6-only: sandboxes attached through the CNI or Docker plugin get IPv4 addresses only`, 'use a network with IPv4 (a dual-stack one gives them its IPv4 side)');
    }
    if (!driver.endpoints || !net.subnet) {
      throw bad(`network ${net.name} (driver ${net.driver}) cannot hold interfaces`, 'name a bridge or overlay network of ctrnet in the plugin configuration ("network")');
    }
    return this.mutex.run(`${req.kind} ${req.ref} ${req.scope} ${req.ifName}`, async () => {
      const old = this.find(req);
      if (old && old.netns === req.netns && old.networkId === net.id) return this.result(old);
      // The same key in another namespace: the runtime lost a DEL (a crash); the old one is stale.
      if (old) await this.detachLocked(old);
      await this.checkSandbox(req.netns, req.ifName);
      const a: Attachment = {
        id: randomBytes(32).toString('hex'), kind: req.kind, ref: req.ref, scope: req.scope, ifName: req.ifName, name: this.nameFor(req),
        aliases: (req.aliases ?? []).filter((x) => VALID_NAME.test(x)), netns: req.netns, networkId: net.id, created: new Date().toISOString(),
      };
      this.repo.attachments.insert(a);
      try {
        const steps = await this.plan(net, req.ifName, req.ports?.length ?? 0);
        for (const step of steps) {
          const ep = await this.lease(a, step.network, step.ifName, step.network.id === net.id ? req.ip : undefined, step.network.id === net.id ? req.mac : undefined);
          await this.join(a, ep, step.exit, step.exit ? (req.ports ?? []) : []);
        }
        await this.attachDns(a);
      } catch (e) {
        await this.detachLocked(a).catch((e2) => this.log(`undoing the attachment of ${a.name}: ${describe(e2)}`));
        throw e;
      }
      this.events.emit('container', 'connect', a.id);
      return this.result(this.repo.attachments.get(a.id)!);
    });
  }

  private validate(req: AttachRequest): void {
    if (req.kind !== 'cni' && req.kind !== 'docker') throw bad(`unknown attachment kind "${String(req.kind)}"`);
    if (!req.ref) throw bad('the container id is missing (CNI_CONTAINERID)', 'the runtime sets it');
    if (!VALID_IFNAME.test(req.ifName)) throw bad(`invalid interface name "${req.ifName}" (CNI_IFNAME)`, 'use 1 to 15 letters, digits, "_", "." or "-"');
    if (!req.netns.startsWith('/')) throw bad(`invalid network namespace "${req.netns}" (CNI_NETNS)`, 'give the path of a network namespace, e.g. /run/netns/NAME');
    if (req.ip !== undefined && !isIPv4(req.ip)) throw bad(`invalid requested address "${req.ip}"`, 'give an IPv4 address (CNI_ARGS IP=, or the ips capability)');
    if (req.mac !== undefined && !VALID_MAC.test(req.mac.toLowerCase())) throw bad(`invalid requested MAC "${req.mac}"`, 'write it as 02:42:ac:11:00:02');
  }

  /** A DNS name: the runtime's container name when it is one, else the short container id. */
  private nameFor(req: AttachRequest): string {
    if (req.name && VALID_NAME.test(req.name)) return req.name;
    return shortId(req.ref.replace(/[^a-zA-Z0-9_.-]/g, '')) || shortId(randomBytes(8).toString('hex'));
  }

  /** The namespace exists and has no interface of that name yet. */
  private async checkSandbox(netns: string, ifName: string): Promise<void> {
    const links = await this.kernel.at(netns).linkList().catch((e: unknown) => {
      throw new EngineError('INVALID_PARAMETER', `cannot enter the network namespace ${netns}: ${describe(e)}`, { hint: 'the runtime must create it before ADD (CNI_NETNS)', cause: e });
    });
    if (links.some((l) => l.name === ifName)) {
      throw new EngineError('NAME_IN_USE', `interface ${ifName} already exists in ${netns}`, { hint: 'choose another CNI_IFNAME, or DEL the attachment that made it' });
    }
  }

  /** The network, and an overlay's way-out network (the gateway bridge) when it names one. */
  private async plan(net: Network, ifName: string, ports: number): Promise<Step[]> {
    const steps: Step[] = [{ network: net, ifName, exit: false }];
    const out = this.networks.driver(net).wayOut(net);
    if (out.kind === 'via') steps.push({ network: await this.networks.ensure(out.network), ifName: wayOutIfName(ifName), exit: false });
    const exit = steps.find((s) => this.networks.driver(s.network).wayOut(s.network).kind === 'self');
    if (exit) exit.exit = true;
    else if (ports) throw new EngineError('CONFLICTING_OPTIONS', `network ${net.name} is internal: ports cannot be published on it`, { hint: 'drop the port mappings or use a network that is not --internal' });
    return steps;
  }

  // ------------------------------------------------------------ the steps (also used by the Docker plugin)

  /** Leases an address on `net` for the attachment (records only): `wanted` or the lowest free one. */
  async lease(a: Attachment, net: Network, ifName: string, wanted?: string, mac?: string): Promise<Endpoint> {
    const driver = this.networks.driver(net);
    const subnet = parseCidr(net.subnet!);
    const range = net.ipRange ? parseCidr(net.ipRange) : undefined;
    if (wanted) checkRequested(subnet, net.gateway!, wanted, net.name);
    const epId = randomBytes(32).toString('hex');
    const leased = await driver.lease(
      net,
      { id: epId, containerId: a.id, networkId: net.id, ifName: a.kind === 'docker' ? movedPeerName(epId) : ifName, hostIf: vethName(epId), mac: '', aliases: [...new Set(a.aliases)] },
      (used) => {
        if (wanted) {
          if (used.has(wanted)) throw new EngineError('ADDRESS_EXHAUSTED', `Address already in use: ${wanted} on network ${net.name}`, { hint: 'ask for another address or none' });
          return wanted;
        }
        const ip = pickAddress(subnet, net.gateway!, used, range);
        if (!ip) throw new EngineError('ADDRESS_EXHAUSTED', `no free address in ${net.name} (${net.subnet})`, { hint: 'remove containers from it or use a network with a larger subnet' });
        return ip;
      },
    );
    const ep: Endpoint = { ...leased, mac: mac?.toLowerCase() || macFromIp(leased.ip) };
    this.repo.endpoints.update(ep.id, { mac: ep.mac });
    return ep;
  }

  /** Builds an endpoint's interface (the driver's join), with its published ports when it is the way out. */
  async join(a: Attachment, ep: Endpoint, exit: boolean, ports: AttachmentPort[]): Promise<void> {
    const net = this.networks.get(ep.networkId);
    const driver = this.networks.driver(net);
    const mappings = ports.length ? await this.publisher.reserveFor(a, ports.map((p) => ({ proto: p.proto, hostIp: p.hostIp || '0.0.0.0', hostPort: p.hostPort, containerPort: p.containerPort })), ep.ip) : [];
    try {
      await driver.join({ network: net, endpoint: ep, containerName: a.name, sandbox: a.netns, defaultRoute: exit, ports: mappings, ...(a.kind === 'docker' ? { runtimeMoves: true } : {}) });
    } catch (e) {
      if (mappings.length) this.publisher.release(a.id);
      throw e;
    }
  }

  /**
   * Builds an endpoint's interface from its records (published ports already recorded): the Docker
   * plugin's Join, whose ports were recorded at CreateEndpoint.
   */
  async joinRecorded(a: Attachment, ep: Endpoint): Promise<void> {
    const req = this.requestsOf(a).find((r) => r.endpoint.id === ep.id);
    if (!req) throw new EngineError('INTERNAL', `endpoint ${ep.id} of ${a.name} has no record`);
    await this.networks.driver(req.network).join(req);
  }

  /** Records the published ports of an endpoint (CNI's at ADD, Docker's at CreateEndpoint). */
  reservePorts(a: Attachment, ep: Endpoint, ports: AttachmentPort[]): Promise<unknown> {
    return this.publisher.reserveFor(a, ports.map((p) => ({ proto: p.proto, hostIp: p.hostIp || '0.0.0.0', hostPort: p.hostPort, containerPort: p.containerPort })), ep.ip);
  }

  releasePorts(a: Attachment): void {
    this.publisher.release(a.id);
  }

  /** Removes an endpoint's interface (keeps its lease). The runtime keeps its namespace: the veth goes by hand. */
  async leave(a: Attachment, ep: Endpoint): Promise<void> {
    const req = this.requestsOf(a).find((r) => r.endpoint.id === ep.id);
    if (!req) return;
    await this.networks.driver(req.network).leave(req);
    if (req.ports.length) this.publisher.release(a.id);
  }

  /** Frees an endpoint's address in every scope it was leased in, and its record. */
  async release(ep: Endpoint): Promise<void> {
    const net = this.networks.find(ep.networkId);
    if (net) await this.networks.driver(net).release(net, ep);
    else this.repo.endpoints.delete(ep.id);
  }

  // ------------------------------------------------------------ detach (CNI DEL), check, gc

  /** Detaches and forgets an attachment; an unknown key is not an error (DEL is idempotent). */
  async detach(key: AttachmentKey): Promise<boolean> {
    return this.mutex.run(`${key.kind} ${key.ref} ${key.scope} ${key.ifName}`, async () => {
      const a = this.find(key);
      if (!a) return false;
      await this.detachLocked(a);
      return true;
    });
  }

  /**
   * The resolver inside the sandbox (127.0.0.11), when one of its networks has embedded DNS. One per
   * namespace: a second attachment in a namespace that has one (another network of the same
   * container, through another configuration) shares it, answering with the first one's names.
   */
  private async attachDns(a: Attachment): Promise<void> {
    if (!this.servesDns(a) || this.dnsHolder(a)) return;
    await this.dns.attach(a.id, a.netns, []);
  }

  private servesDns(a: Attachment): boolean {
    return this.endpointsOf(a).some((ep) => {
      const net = this.networks.find(ep.networkId);
      return !!net && this.networks.driver(net).servesDns(net);
    });
  }

  /** The attachment whose resolver answers in `a`'s namespace, if any. */
  private dnsHolder(a: Attachment): Attachment | undefined {
    return this.repo.attachments.list().find((o) => o.netns === a.netns && this.dns.attached(o.id));
  }

  /** Best effort: every step is tried; the record goes last, and only when nothing failed. */
  async detachLocked(a: Attachment): Promise<void> {
    // First: the resolver's socket would keep the namespace alive. Another attachment of the same namespace takes it over.
    const held = this.dns.attached(a.id);
    this.dns.detach(a.id);
    const errors: unknown[] = [];
    for (const ep of this.endpointsOf(a)) {
      await this.leave(a, ep).catch((e) => {
        // A namespace the runtime already deleted took the veth with it: that is what we want.
        if (!(e instanceof KernelError && e.errno === 'ENOENT')) errors.push(e);
      });
      await this.release(ep).catch((e) => errors.push(e));
    }
    this.publisher.release(a.id);
    if (errors.length) throw new AggregateError(errors, `detaching ${a.name} from its networks`);
    this.repo.attachments.delete(a.id);
    const heir = held ? this.repo.attachments.list().find((o) => o.netns === a.netns && o.netns && this.servesDns(o)) : undefined;
    if (heir) await this.dns.attach(heir.id, heir.netns, []).catch((e) => this.log(`embedded DNS of ${heir.name}: ${describe(e)}`));
    this.events.emit('container', 'disconnect', a.id);
  }

  /** CHECK: the kernel has what the record says (interfaces, addresses, MACs, host ends, default route). */
  async check(key: AttachmentKey): Promise<AttachResult> {
    const a = this.find(key);
    if (!a) throw new EngineError('CONTAINER_NOT_FOUND', `no attachment of container ${key.ref} (${key.ifName}) on network configuration ${key.scope}`, { hint: 'ADD it first' });
    const problems = await this.verify(a);
    if (problems.length) throw new EngineError('KERNEL_FAILED', `attachment ${a.name} differs from its record: ${problems.join('; ')}`, { hint: 'DEL and ADD it again' });
    return this.result(a);
  }

  /** What the kernel lacks of an attachment's record; empty when it is whole. */
  async verify(a: Attachment): Promise<string[]> {
    const out: string[] = [];
    const inside = this.kernel.at(a.netns);
    const [links, addrs, routes, host] = await Promise.all([
      inside.linkList().catch(() => undefined), inside.addrList().catch(() => []), inside.routeList().catch(() => []), this.kernel.linkList(),
    ]);
    if (!links) return [`the network namespace ${a.netns} is gone`];
    for (const r of this.requestsOf(a)) {
      const ep = r.endpoint;
      const l = links.find((x) => x.name === ep.ifName) ?? links.find((x) => x.mac === ep.mac);
      if (!l) {
        out.push(`no interface ${ep.ifName} in ${a.netns}`);
        continue;
      }
      if (l.mac !== ep.mac) out.push(`${l.name} has MAC ${l.mac}, not ${ep.mac}`);
      if (!addrs.some((x) => x.dev === l.name && x.address === ep.ip)) out.push(`${l.name} does not have ${ep.ip}`);
      if (!l.up) out.push(`${l.name} is down`);
      const h = host.find((x) => x.name === ep.hostIf);
      if (!h) out.push(`the host end ${ep.hostIf} is missing`);
      else if (r.network.bridge && h.master !== r.network.bridge) out.push(`${ep.hostIf} is not a port of ${r.network.bridge}`);
      if (r.defaultRoute && a.kind !== 'docker' && !routes.some((x) => x.dst === 'default' && x.gateway === r.network.gateway)) out.push(`no default route via ${r.network.gateway}`);
    }
    return out;
  }

  /** GC: detaches every attachment of this kind and scope that `valid` does not list; returns their names. */
  async gc(req: GcRequest): Promise<string[]> {
    const keep = new Set(req.valid.map((v) => `${v.ref}\n${v.ifName}`));
    const removed: string[] = [];
    const errors: unknown[] = [];
    for (const a of this.list({ kind: req.kind, scope: req.scope })) {
      if (keep.has(`${a.ref}\n${a.ifName}`)) continue;
      await this.detach(a)
        .then(() => removed.push(a.name))
        .catch((e) => errors.push(e));
    }
    if (errors.length) throw new AggregateError(errors, `garbage collection of ${req.scope}`);
    return removed;
  }

  // ------------------------------------------------------------ the answer

  /** The attachment as a CNI result needs it: interfaces (host end, then the sandbox's), addresses, routes, DNS. */
  result(a: Attachment): AttachResult {
    const interfaces: AttachedInterface[] = [];
    const ips: AttachResult['ips'] = [];
    const routes: AttachResult['routes'] = [];
    let nameservers: string[] = [];
    for (const r of this.requestsOf(a).sort((x, y) => (x.endpoint.ifName === a.ifName ? -1 : y.endpoint.ifName === a.ifName ? 1 : 0))) {
      const net = r.network;
      interfaces.push({ name: r.endpoint.hostIf, mac: '' });
      interfaces.push({ name: r.endpoint.ifName, mac: r.endpoint.mac, sandbox: a.netns });
      const prefix = parseCidr(net.subnet!).prefixLen;
      ips.push({ address: `${r.endpoint.ip}/${prefix}`, ...(net.gateway ? { gateway: net.gateway } : {}), interface: interfaces.length - 1 });
      if (r.defaultRoute && net.gateway) routes.push({ dst: '0.0.0.0/0', gw: net.gateway });
      // The embedded resolver answers inside the sandbox (attachDns) on networks whose driver serves DNS.
      if (!nameservers.length && this.networks.driver(net).servesDns(net)) nameservers = [EMBEDDED_DNS];
    }
    const ports = this.repo.ports.list(a.id).map((p) => ({ proto: p.proto, hostIp: p.hostIp, hostPort: p.hostPort, containerPort: p.containerPort }));
    return { id: a.id, network: this.networks.find(a.networkId)?.name ?? a.networkId, interfaces, ips, routes, nameservers, ports };
  }
}

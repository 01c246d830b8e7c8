/**
 * Sandboxes: a container's network, per mode.
 *   bridge / a network name — own namespace, one endpoint (veth) on that network, published ports
 *   host                   — the daemon's namespace; nothing is made
 *   none                   — own namespace with only lo
 *   container:<id>         — the namespace of that container (followed to the end of a chain)
 * A namespace is bind-mounted at EXEC_ROOT/netns/<short id> and handed to runc by path.
 * setup() is all or nothing: on failure it removes the namespace, links, rules, leases and ports
 * it made. teardown() keeps going after errors and reports them together.
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../base/errors';
import { CONTAINER_MODE_PREFIX, ContainerSpec } from '../base/container-spec';
import { containerIfName, Paths, paths, vethName } from '../base/names';
import { Networks } from './networks';
import { EPHEMERAL_FIRST, EPHEMERAL_LAST, collides } from '../base/port-spec';
import { JoinRequest } from '../drivers/driver';
import { PortMapping } from '../firewall/firewall';
import { checkRequested, macFromIp, pickAddress } from '../ipam/ipam';
import { Kernel } from '../kernel/kernel';
import { ContainerRow, EndpointRow, NetworkRow, PortRow, Store } from '../state/store';

export type Mode = { kind: 'host' } | { kind: 'none' } | { kind: 'container'; target: string } | { kind: 'network'; network: string };

export function modeOf(networkMode: string): Mode {
  if (networkMode === 'host') return { kind: 'host' };
  if (networkMode === 'none') return { kind: 'none' };
  if (networkMode.startsWith(CONTAINER_MODE_PREFIX)) return { kind: 'container', target: networkMode.slice(CONTAINER_MODE_PREFIX.length) };
  return { kind: 'network', network: networkMode === 'default' || networkMode === '' ? 'bridge' : networkMode };
}

/** The networks a container in network mode joins, the primary (its network mode) first. */
export function attachments(spec: ContainerSpec): string[] {
  const mode = modeOf(spec.networkMode);
  if (mode.kind !== 'network') return [];
  const rest = Object.keys(spec.networks).filter((n) => n !== mode.network);
  return spec.networks[mode.network] || Object.keys(spec.networks).length === 0 ? [mode.network, ...rest] : rest;
}

export class Sandboxes {
  constructor(
    private readonly p: Paths,
    private readonly kernel: Kernel,
    private readonly store: Store,
    private readonly networks: Networks,
  ) {}

  /** The namespace path a running container uses ("host" in host mode). */
  netnsOf(c: ContainerRow): string {
    const spec = JSON.parse(c.spec) as ContainerSpec;
    const mode = modeOf(spec.networkMode);
    if (mode.kind === 'host') return 'host';
    if (mode.kind === 'container') {
      const target = this.store.container(mode.target);
      if (!target) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${mode.target}`);
      return this.netnsOf(target);
    }
    return paths.netns(this.p, c.id);
  }

  /** Builds the container's network; returns the namespace path for runc ("host" in host mode). */
  async setup(c: ContainerRow, spec: ContainerSpec): Promise<string> {
    const mode = modeOf(spec.networkMode);
    if (mode.kind === 'host') return 'host';
    if (mode.kind === 'container') {
      const target = this.store.container(mode.target);
      if (!target || target.status !== 'running') {
        throw new EngineError('CONTAINER_NOT_RUNNING', `cannot join network of a non running container: ${target ? target.name : mode.target}`, { hint: 'start that container first' });
      }
      return this.netnsOf(target);
    }
    const ns = paths.netns(this.p, c.id);
    const undo: (() => Promise<void>)[] = [];
    try {
      await this.kernel.netnsAdd(ns);
      undo.push(() => this.kernel.netnsDel(ns));
      if (mode.kind === 'none') {
        await this.kernel.at(ns).batch().linkSetUp('lo').commit();
        return ns;
      }
      for (const [n, step] of (await this.plan(spec)).entries()) {
        const row = this.networks.get(step.network);
        const req = await this.reserve(c, spec, row, n, step.exit);
        undo.push(async () => {
          if (req.ports.length) this.store.releasePorts(c.id);
          await this.networks.release(row, req.endpoint);
        });
        await this.networks.driver(row)!.join({ ...req, sandbox: ns });
        undo.push(() => this.networks.driver(row)!.leave({ ...req, sandbox: ns }));
        await this.networks.published(row, req.endpoint.id, c.name);
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
   * The interfaces to make, in order: the container's networks (primary first), plus the gateway
   * bridge when the primary is an overlay with a way out. `exit` marks the one endpoint that holds
   * the default route and the published ports: the first non-internal bridge network.
   */
  private async plan(spec: ContainerSpec): Promise<{ network: string; exit: boolean }[]> {
    const names = attachments(spec);
    const rows = names.map((n) => this.networks.get(n));
    if (rows[0]?.driver === 'overlay' && rows[0].internal === 0) rows.splice(1, 0, await this.networks.ensureGatewayBridge());
    const exit = rows.findIndex((r) => r.driver === 'bridge' && r.internal === 0);
    if (exit < 0 && spec.portBindings.length && rows.length) {
      throw new EngineError('CONFLICTING_OPTIONS', `network ${rows[0].name} is internal: ports cannot be published on it`, { hint: 'drop -p or use a network that is not --internal' });
    }
    return rows.map((r, i) => ({ network: r.name, exit: i === exit }));
  }

  /** Connects a running container to one more network: the next ethN, live. */
  async connect(c: ContainerRow, spec: ContainerSpec, network: string): Promise<void> {
    const used = new Set(this.store.endpoints({ containerId: c.id }).map((e) => Number(e.if_name.replace(/^eth/, ''))));
    let n = 1;
    while (used.has(n)) n++;
    const row = this.networks.get(network);
    const req = await this.reserve(c, spec, row, n, false);
    try {
      await this.networks.driver(row)!.join({ ...req, sandbox: paths.netns(this.p, c.id) });
      await this.networks.published(row, req.endpoint.id, c.name);
    } catch (e) {
      await this.networks.driver(row)!.leave({ ...req, sandbox: paths.netns(this.p, c.id) }).catch(() => {
        // the join's own error is the one to report
      });
      await this.networks.release(row, req.endpoint);
      throw e;
    }
  }

  /** Removes a running container's interface on a network, live. */
  async disconnect(c: ContainerRow, networkId: string): Promise<void> {
    const row = this.networks.get(networkId);
    for (const req of this.requests(c).filter((r) => r.network.id === networkId)) {
      await this.networks.driver(row)!.leave(req);
      if (req.ports.length) this.store.releasePorts(c.id);
      await this.networks.release(row, req.endpoint);
    }
  }

  /** Leases an address (and, for the exit endpoint, the published ports) on the n-th interface (records only). */
  private async reserve(c: ContainerRow, spec: ContainerSpec, row: NetworkRow, n: number, exit: boolean): Promise<JoinRequest> {
    const driver = this.networks.driver(row);
    if (!driver || !row.subnet) throw new EngineError('INVALID_NETWORK_MODE', `network ${row.name} (driver ${row.driver}) cannot hold container interfaces`, { hint: `use --network ${row.name === 'host' ? 'host' : 'none'}` });
    const info = this.networks.info(row);
    const wanted = spec.networks[row.name]?.ipv4;
    if (wanted) checkRequested(info.subnet!, info.gateway!, wanted, row.name, info.ipRange);
    const epId = randomBytes(32).toString('hex');
    const ep = await this.networks.lease(
      row,
      { id: epId, container_id: c.id, network_id: row.id, if_name: containerIfName(n), host_if: vethName(epId), mac: '', aliases: JSON.stringify(spec.networks[row.name]?.aliases ?? []) },
      (used) => {
        if (wanted) {
          if (used.has(wanted)) throw new EngineError('ADDRESS_EXHAUSTED', `address ${wanted} is already in use on network ${row.name}`, { hint: 'choose another --ip or leave it out' });
          return wanted;
        }
        const ip = pickAddress(info.subnet!, info.gateway!, used, info.ipRange);
        if (!ip) throw new EngineError('ADDRESS_EXHAUSTED', `no free address in ${row.name} (${row.subnet})`, { hint: 'remove containers from it or create a network with a larger subnet' });
        return ip;
      },
    );
    const mac = (n === 0 && spec.macAddress) || macFromIp(ep.ip);
    this.store.updateEndpoint(ep.id, { mac });
    let ports: PortMapping[] = [];
    try {
      ports = exit ? await this.reservePorts(c, spec, ep.ip) : [];
    } catch (e) {
      await this.networks.release(row, ep);
      throw e;
    }
    return {
      network: info,
      endpoint: { id: ep.id, containerId: c.id, ifName: ep.if_name, hostIf: ep.host_if, ip: ep.ip, mac },
      sandbox: '',
      defaultRoute: exit,
      ports,
    };
  }

  private async reservePorts(c: ContainerRow, spec: ContainerSpec, ip: string): Promise<PortMapping[]> {
    if (spec.portBindings.length === 0) return [];
    // Looked up by host port (an index), not by reading every published port: the cost of a start
    // must not grow with the number of ports on the host.
    const taken = (m: { proto: string; hostIp: string; hostPort: number }, chosen: PortMapping[]) =>
      this.store
        .portsAt(m.proto, m.hostPort)
        .map((r) => ({ proto: r.proto, hostIp: r.host_ip, hostPort: r.host_port, owner: r.container_id as string | undefined }))
        .concat(chosen.map((x) => ({ ...x, owner: undefined })))
        .find((t) => collides(t, m));
    const chosen: PortMapping[] = [];
    for (const b of spec.portBindings) {
      let hostPort = b.hostPort;
      if (hostPort === 0) {
        hostPort = await this.freeEphemeral(b.proto, b.hostIp, (m) => !!taken(m, chosen));
      } else {
        const clash = taken({ ...b, hostPort }, chosen);
        if (clash) {
          const owner = clash.owner ? this.store.container(clash.owner)?.name : c.name;
          throw new EngineError('PORT_IN_USE', `Bind for ${b.hostIp}:${hostPort} failed: port is already allocated (published by container ${owner})`, { hint: 'choose another host port, or -p CONTAINER_PORT for a free one' });
        }
        if (!(await this.kernel.portFree(b.proto, b.hostIp, hostPort))) {
          throw new EngineError('PORT_IN_USE', `Bind for ${b.hostIp}:${hostPort} failed: port is already in use by a process on the host`, { hint: 'stop that process or choose another host port' });
        }
      }
      chosen.push({ proto: b.proto, hostIp: b.hostIp, hostPort, containerIp: ip, containerPort: b.containerPort });
    }
    // Recorded in one transaction, checked again there: a concurrent start may have won a port meanwhile.
    this.store.reservePorts((usedAt) => {
      for (const m of chosen) {
        const u = usedAt(m.proto, m.hostPort).find((r) => collides({ proto: r.proto, hostIp: r.host_ip, hostPort: r.host_port }, m));
        if (u) throw new EngineError('PORT_IN_USE', `Bind for ${m.hostIp}:${m.hostPort} failed: port is already allocated`, { hint: 'choose another host port' });
      }
      return chosen.map((m): PortRow => ({ container_id: c.id, proto: m.proto, host_ip: m.hostIp, host_port: m.hostPort, container_ip: m.containerIp, container_port: m.containerPort }));
    });
    return chosen;
  }

  private async freeEphemeral(proto: 'tcp' | 'udp', hostIp: string, isTaken: (m: { proto: string; hostIp: string; hostPort: number }) => boolean): Promise<number> {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_FIRST + ((start + i) % span);
      if (isTaken({ proto, hostIp, hostPort: port })) continue;
      if (await this.kernel.portFree(proto, hostIp, port)) return port;
    }
    throw new EngineError('PORT_IN_USE', `no free host port in ${EPHEMERAL_FIRST}-${EPHEMERAL_LAST}`);
  }

  /** The join requests that describe a container's endpoints, from the records. */
  requests(c: ContainerRow): JoinRequest[] {
    const ports = this.store.ports(c.id);
    const eps = this.store.endpoints({ containerId: c.id });
    // The default route is on the first non-internal bridge endpoint, as plan() chose it.
    const exitEndpoint = eps.find((e) => {
      const r = this.store.network(e.network_id);
      return r?.driver === 'bridge' && r.internal === 0;
    });
    return eps.map((ep: EndpointRow) => {
      const row = this.networks.get(ep.network_id);
      return {
        network: this.networks.info(row),
        endpoint: { id: ep.id, containerId: c.id, ifName: ep.if_name, hostIf: ep.host_if, ip: ep.ip, mac: ep.mac },
        sandbox: paths.netns(this.p, c.id),
        defaultRoute: ep.id === exitEndpoint?.id,
        ports: ports
          .filter((r) => r.container_ip === ep.ip)
          .map((r) => ({ proto: r.proto as 'tcp' | 'udp', hostIp: r.host_ip, hostPort: r.host_port, containerIp: r.container_ip, containerPort: r.container_port })),
      };
    });
  }

  /**
   * Removes everything setup() made; idempotent, keeps going after errors. `held`: another
   * process still holds the namespace (a container:NAME joiner), so it outlives its unmounting.
   */
  async teardown(c: ContainerRow, opts: { held?: boolean } = {}): Promise<void> {
    const spec = JSON.parse(c.spec) as ContainerSpec;
    const mode = modeOf(spec.networkMode);
    if (mode.kind === 'host' || mode.kind === 'container') return;
    const errors: unknown[] = [];
    for (const req of this.requests(c)) {
      const row = this.store.network(req.network.id);
      const driver = row && this.networks.driver(row);
      if (driver) await driver.leave({ ...req, sandboxGoing: !opts.held }).catch((e) => errors.push(e));
      await this.networks.release(row, req.endpoint).catch((e) => errors.push(e));
    }
    this.store.releasePorts(c.id);
    await this.kernel.netnsDel(paths.netns(this.p, c.id)).catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `tearing down the network of ${c.name}`);
  }
}

/**
 * Published ports: choosing the host ports of a container's `-p` bindings and recording them.
 * A host port published by another container, or held by a process on the host, is refused
 * (DNAT would take the traffic from a server already listening there without telling anyone,
 * so Docker refuses it too). `-p CONTAINER_PORT` takes a free port of Docker's ephemeral range.
 *
 * Families: a binding without a host address is published on every IPv4 address (to the
 * container's IPv4 address) and every IPv6 address (to its IPv6 one), on the same host port, as
 * Docker does; `0.0.0.0` or an IPv4 address is IPv4 only, `::` or an IPv6 address IPv6 only. A
 * family the container has no address of is left out (no proxy translates between families),
 * and asked for by name it is an error. On a network whose IPv6 gateway mode is `routed` an IPv6
 * binding opens the container's port on its own address instead (no host port: Docker's rule).
 */
import { ContainerSpec } from '../base/container-spec';
import { EngineError } from '../base/errors';
import { Container, PortMapping } from '../base/model';
import { collides, EPHEMERAL_FIRST, EPHEMERAL_LAST } from '../base/port-spec';
import { PortSpec, Proto } from '../base/port-spec';
import { canonical6 } from '../ipam/ipam6';
import { Kernel } from '../kernel/kernel';
import { Repos } from '../state/repos';

type Binding = { proto: string; hostIp: string; hostPort: number };

/** A container's -p bindings, and with -P one on a free host port for every exposed port that has none. */
export function bindingsOf(spec: ContainerSpec): PortSpec[] {
  if (!spec.publishAll) return spec.portBindings;
  const bound = new Set(spec.portBindings.map((b) => `${b.containerPort}/${b.proto}`));
  const extra: PortSpec[] = [];
  for (const k of spec.exposedPorts) {
    const [port, proto = 'tcp'] = k.split('/');
    const key = `${Number(port)}/${proto}`;
    if (bound.has(key)) continue;
    bound.add(key);
    extra.push({ proto: proto as Proto, hostIp: '', hostPort: 0, containerPort: Number(port) });
  }
  return [...spec.portBindings, ...extra];
}

export class PortPublisher {
  constructor(
    private readonly repo: Pick<Repos, 'ports' | 'containers'>,
    /** the daemon's namespace: whether a host port is held by a process */
    private readonly kernel: Kernel,
  ) {}

  /**
   * Chooses and records the host ports of `c`'s bindings, DNATed to its endpoint's `ip` (IPv4,
   * "" without) and `ip6`; all or nothing. `routed6`: its IPv6 ports are opened, not mapped.
   */
  async reserve(c: Container, ip: string, ip6?: string, routed6 = false): Promise<PortMapping[]> {
    const bindings = bindingsOf(c.spec);
    if (bindings.length === 0) return [];
    // Looked up by host port (an index), not by reading every published port: the cost of a start
    // must not grow with the number of ports on the host. Routed ports hold no host port.
    const taken = (m: Binding, chosen: PortMapping[]) =>
      this.repo.ports
        .at(m.proto, m.hostPort)
        .filter((r) => !isRouted(r))
        .map((r) => ({ proto: r.proto, hostIp: r.hostIp, hostPort: r.hostPort, owner: r.containerId as string | undefined }))
        .concat(chosen.filter((x) => !isRouted(x)).map((x) => ({ ...x, owner: undefined })))
        .find((t) => collides(t, m));
    const chosen: PortMapping[] = [];
    for (const b of bindings) {
      // The host addresses of this binding, one per family it is published in.
      const hosts = this.hostAddresses(b, ip, ip6, c.name);
      const mapped = hosts.filter((h) => !(routed6 && h.includes(':')));
      let hostPort = b.hostPort;
      if (mapped.length && hostPort === 0) {
        hostPort = await this.freeEphemeral(b.proto, mapped, (m) => !!taken(m, chosen));
      } else if (mapped.length) {
        for (const hostIp of mapped) {
          const clash = taken({ proto: b.proto, hostIp, hostPort }, chosen);
          const shown = hostIp.includes(':') ? `[${hostIp}]` : hostIp;
          if (clash) {
            const owner = clash.owner ? this.repo.containers.get(clash.owner)?.name : c.name;
            throw new EngineError('PORT_IN_USE', `Bind for ${shown}:${hostPort} failed: port is already allocated (published by container ${owner})`, { hint: 'choose another host port, or -p CONTAINER_PORT for a free one' });
          }
          if (!(await this.kernel.portFree(b.proto, hostIp, hostPort))) {
            throw new EngineError('PORT_IN_USE', `Bind for ${shown}:${hostPort} failed: port is already in use by a process on the host`, { hint: 'stop that process or choose another host port' });
          }
        }
      }
      for (const hostIp of hosts) {
        const v6 = hostIp.includes(':');
        if (v6 && routed6) chosen.push({ proto: b.proto, hostIp: ip6!, hostPort: b.containerPort, containerIp: ip6!, containerPort: b.containerPort });
        else chosen.push({ proto: b.proto, hostIp, hostPort, containerIp: v6 ? ip6! : ip, containerPort: b.containerPort });
      }
    }
    // Recorded in one transaction, checked again there: a concurrent start may have won a port meanwhile.
    this.repo.ports.reserve((usedAt) => {
      for (const m of chosen.filter((x) => !isRouted(x))) {
        const u = usedAt(m.proto, m.hostPort).find((r) => !isRouted(r) && collides(r, m));
        if (u) throw new EngineError('PORT_IN_USE', `Bind for ${m.hostIp.includes(':') ? `[${m.hostIp}]` : m.hostIp}:${m.hostPort} failed: port is already allocated`, { hint: 'choose another host port' });
      }
      return chosen.map((m) => ({ ...m, containerId: c.id }));
    });
    return chosen;
  }

  /**
   * The same for a sandbox ctrnet did not make (an external attachment, base/attachment.ts): its
   * runtime's bindings, owned by the attachment's id. reserve() reads only the owner's id, name and bindings.
   */
  reserveFor(owner: { id: string; name: string }, bindings: PortSpec[], ip: string, ip6?: string, routed6 = false): Promise<PortMapping[]> {
    return this.reserve({ id: owner.id, name: owner.name, spec: { portBindings: bindings } } as unknown as Container, ip, ip6, routed6);
  }

  /** A binding's host addresses: "" is 0.0.0.0 and :: (the families the container has), else the one given (its family must be there). */
  private hostAddresses(b: PortSpec, ip: string, ip6: string | undefined, name: string): string[] {
    if (b.hostIp === '') return [...(ip ? ['0.0.0.0'] : []), ...(ip6 ? ['::'] : [])];
    const v6 = b.hostIp.includes(':');
    if (v6 ? !ip6 : !ip) {
      throw new EngineError('CONFLICTING_OPTIONS', `port ${b.hostIp.includes(':') ? `[${b.hostIp}]` : b.hostIp}:${b.hostPort || ''}:${b.containerPort}/${b.proto} is ${v6 ? 'IPv6' : 'IPv4'}, and container ${name} has no ${v6 ? 'IPv6' : 'IPv4'} address on the network that publishes its ports`, {
        hint: v6 ? 'use a network with --ipv6, or publish on an IPv4 address' : 'publish on an IPv6 address ([::]:PORT:PORT), or use a network with IPv4',
      });
    }
    return [v6 ? canonical6(b.hostIp) : b.hostIp];
  }

  release(containerId: string): void {
    this.repo.ports.release(containerId);
  }

  /** A port of the ephemeral range free on every one of `hosts` (one per family: the same port for both, as Docker). */
  private async freeEphemeral(proto: Proto, hosts: string[], isTaken: (m: Binding) => boolean): Promise<number> {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const start = Math.floor(Math.random() * span);
    next: for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_FIRST + ((start + i) % span);
      if (hosts.some((hostIp) => isTaken({ proto, hostIp, hostPort: port }))) continue;
      for (const hostIp of hosts) if (!(await this.kernel.portFree(proto, hostIp, port))) continue next;
      return port;
    }
    throw new EngineError('PORT_IN_USE', `no free host port in ${EPHEMERAL_FIRST}-${EPHEMERAL_LAST}`);
  }
}

/** A routed IPv6 port (base/model.ts PortMapping): opened on the container's own address, holding no host port. */
const isRouted = (p: { hostIp: string; containerIp: string }): boolean => p.hostIp === p.containerIp;

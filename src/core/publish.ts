/**
 * Published ports: choosing the host ports of a container's `-p` bindings and recording them.
 * A host port published by another container, or held by a process on the host, is refused
 * (DNAT would take the traffic from a server already listening there without telling anyone,
 * so Docker refuses it too). `-p CONTAINER_PORT` takes a free port of Docker's ephemeral range.
 */
import { ContainerSpec } from '../base/container-spec';
import { EngineError } from '../base/errors';
import { Container, PortMapping } from '../base/model';
import { collides, EPHEMERAL_FIRST, EPHEMERAL_LAST } from '../base/port-spec';
import { PortSpec, Proto } from '../base/port-spec';
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
    extra.push({ proto: proto as Proto, hostIp: '0.0.0.0', hostPort: 0, containerPort: Number(port) });
  }
  return [...spec.portBindings, ...extra];
}

export class PortPublisher {
  constructor(
    private readonly repo: Pick<Repos, 'ports' | 'containers'>,
    /** the daemon's namespace: whether a host port is held by a process */
    private readonly kernel: Kernel,
  ) {}

  /** Chooses and records the host ports of `c`'s bindings, DNATed to `ip`; all or nothing. */
  async reserve(c: Container, ip: string): Promise<PortMapping[]> {
    const bindings = bindingsOf(c.spec);
    if (bindings.length === 0) return [];
    // Looked up by host port (an index), not by reading every published port: the cost of a start
    // must not grow with the number of ports on the host.
    const taken = (m: Binding, chosen: PortMapping[]) =>
      this.repo.ports
        .at(m.proto, m.hostPort)
        .map((r) => ({ proto: r.proto, hostIp: r.hostIp, hostPort: r.hostPort, owner: r.containerId as string | undefined }))
        .concat(chosen.map((x) => ({ ...x, owner: undefined })))
        .find((t) => collides(t, m));
    const chosen: PortMapping[] = [];
    for (const b of bindings) {
      let hostPort = b.hostPort;
      if (hostPort === 0) {
        hostPort = await this.freeEphemeral(b.proto, b.hostIp, (m) => !!taken(m, chosen));
      } else {
        const clash = taken({ ...b, hostPort }, chosen);
        if (clash) {
          const owner = clash.owner ? this.repo.containers.get(clash.owner)?.name : c.name;
          throw new EngineError('PORT_IN_USE', `Bind for ${b.hostIp}:${hostPort} failed: port is already allocated (published by container ${owner})`, { hint: 'choose another host port, or -p CONTAINER_PORT for a free one' });
        }
        if (!(await this.kernel.portFree(b.proto, b.hostIp, hostPort))) {
          throw new EngineError('PORT_IN_USE', `Bind for ${b.hostIp}:${hostPort} failed: port is already in use by a process on the host`, { hint: 'stop that process or choose another host port' });
        }
      }
      chosen.push({ proto: b.proto, hostIp: b.hostIp, hostPort, containerIp: ip, containerPort: b.containerPort });
    }
    // Recorded in one transaction, checked again there: a concurrent start may have won a port meanwhile.
    this.repo.ports.reserve((usedAt) => {
      for (const m of chosen) {
        const u = usedAt(m.proto, m.hostPort).find((r) => collides(r, m));
        if (u) throw new EngineError('PORT_IN_USE', `Bind for ${m.hostIp}:${m.hostPort} failed: port is already allocated`, { hint: 'choose another host port' });
      }
      return chosen.map((m) => ({ ...m, containerId: c.id }));
    });
    return chosen;
  }

  /**
   * The same for a sandbox ctrnet did not make (an external attachment, base/attachment.ts): its
   * runtime's bindings, owned by the attachment's id. reserve() reads only the owner's id, name and bindings.
   */
  reserveFor(owner: { id: string; name: string }, bindings: PortSpec[], ip: string): Promise<PortMapping[]> {
    return this.reserve({ id: owner.id, name: owner.name, spec: { portBindings: bindings } } as unknown as Container, ip);
  }

  release(containerId: string): void {
    this.repo.ports.release(containerId);
  }

  private async freeEphemeral(proto: Proto, hostIp: string, isTaken: (m: Binding) => boolean): Promise<number> {
    const span = EPHEMERAL_LAST - EPHEMERAL_FIRST + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = EPHEMERAL_FIRST + ((start + i) % span);
      if (isTaken({ proto, hostIp, hostPort: port })) continue;
      if (await this.kernel.portFree(proto, hostIp, port)) return port;
    }
    throw new EngineError('PORT_IN_USE', `no free host port in ${EPHEMERAL_FIRST}-${EPHEMERAL_LAST}`);
  }
}

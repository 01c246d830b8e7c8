/**
 * Read models for the API and the live views: a container or a network with what belongs to it
 * (endpoints, published ports, the namespace it uses), from the records, typed. The API converts
 * these to Docker's JSON (api/dto/); it never reads the store itself.
 */
import { attachments, EndpointConfig, endpointConfigOf, modeOf, mountsOf } from '../base/container-spec';
import { Attachment } from '../base/attachment';
import { probeArgs } from '../base/health';
import { MountPoint, MountType } from '../base/mount-spec';
import { Container, Endpoint, Network, PublishedPort } from '../base/model';
import { ImageStore } from '../images/image-store';
import { ContainerRuntime, RootfsDirs } from '../runtime/runtime';
import { Repos } from '../state/repos';
import { Execs } from './containers/execs';
import { Networks } from './networks';
import { Sandboxes } from './sandbox';

/** One of a container's networks: the settings it asked for and, while running, its endpoint. */
export interface AttachmentView {
  network: Network;
  config?: EndpointConfig;
  endpoint?: Endpoint;
  /** bridge, host or none (Docker gives no short-id alias there) */
  predefined: boolean;
}

/** A mount of a container as list filters see it (`volume=`): issue 15's volumes fill these. */
export interface ContainerView {
  container: Container;
  /** network mode: its networks, primary first; host/none: that network; container mode: none */
  networks: AttachmentView[];
  ports: PublishedPort[];
  /** the namespace path while running (not in host mode) */
  sandboxKey: string;
  /** where its output is kept */
  logPath: string;
  /** its exec instances */
  execIds: string[];
  /** the names of its links' targets, by id (inspect's HostConfig.Links) */
  linkNames: Record<string, string>;
  /** its mounts, as inspect shows them and the `volume=` filter matches them */
  mounts: MountView[];
  /** exited, and waiting to be started again by its restart policy */
  restarting: boolean;
  /** its health check's status (the `health=` filter); none without a check */
  health: 'none' | 'starting' | 'healthy' | 'unhealthy';
  /** the /etc files bound into it, once it has started (Docker's ResolvConfPath, HostnamePath, HostsPath) */
  etcFiles?: { hosts: string; hostname: string; resolvConf: string };
  /** its root filesystem's directories (inspect's GraphDriver), while its image exists */
  rootfs?: RootfsDirs;
}

/** A mount of a container with its host side. */
export interface MountView {
  type: MountType;
  /** a volume's name */
  name?: string;
  /** a volume's data directory, a bind's host path; '' for a tmpfs */
  source: string;
  destination: string;
  readOnly: boolean;
  mode: string;
  propagation: string;
  origin: MountPoint['origin'];
}

/** What the read models need of containers beyond the records: the restart supervisor's view, volume paths. */
export interface ContainerState {
  restarting(id: string): boolean;
  volumePath(name: string): string;
}

/**
 * Docker's health status of a container, as the `health` list filter takes it: none (no check, or
 * checks off), starting, healthy, unhealthy.
 */
export function healthStatus(c: Container): 'none' | 'starting' | 'healthy' | 'unhealthy' {
  if (!probeArgs(c.spec.healthcheck)) return 'none';
  return c.health?.status ?? 'starting';
}

export interface NetworkView {
  network: Network;
  scope: 'local' | 'swarm';
  /** bridge, host or none: the networks Docker always has */
  predefined: boolean;
  /** containers on it: endpoints with their container, and host/none-mode containers without one */
  members: { container: Container; endpoint?: Endpoint }[];
  /** sandboxes attached through the CNI or Docker plugin, with their endpoint on it */
  external?: { attachment: Attachment; endpoint: Endpoint }[];
}

export class Queries {
  constructor(
    private readonly repo: Pick<Repos, 'containers' | 'endpoints' | 'ports' | 'attachments'>,
    private readonly networks: Networks,
    private readonly sandboxes: Sandboxes,
    private readonly runtime: Pick<ContainerRuntime, 'logPath' | 'etcFiles' | 'rootfsDirs'>,
    private readonly execs: Pick<Execs, 'of'>,
    private readonly state: ContainerState = { restarting: () => false, volumePath: (n) => n },
    private readonly images?: Pick<ImageStore, 'find'>,
  ) {}

  container(c: Container): ContainerView {
    const mode = modeOf(c.spec.networkMode);
    const eps = this.repo.endpoints.list({ containerId: c.id });
    let networks: AttachmentView[] = [];
    if (mode.kind === 'host' || mode.kind === 'none') {
      const net = this.networks.find(mode.kind);
      networks = net ? [{ network: net, predefined: true }] : [];
    } else if (mode.kind === 'network') {
      for (const name of attachments(c.spec)) {
        const net = this.networks.find(name);
        if (net) networks.push({ network: net, config: endpointConfigOf(c.spec, net), endpoint: eps.find((e) => e.networkId === net.id), predefined: this.networks.isPredefined(net) });
      }
    }
    const sandboxKey = c.status === 'running' && mode.kind !== 'host' ? this.sandboxes.netnsOf(c) : '';
    const started = c.startedAt !== undefined;
    const image = this.images?.find(c.imageId);
    const mounts = mountsOf(c.spec).map((m): MountView => ({
      type: m.type, ...(m.type === 'volume' ? { name: m.source } : {}), source: m.type === 'volume' ? this.state.volumePath(m.source) : m.source,
      destination: m.target, readOnly: m.readOnly, mode: m.mode, propagation: m.propagation, origin: m.origin,
    }));
    return {
      container: c, networks, ports: this.repo.ports.list(c.id), sandboxKey, logPath: started ? this.runtime.logPath(c.id) : '', execIds: this.execs.of(c.id),
      mounts, restarting: this.state.restarting(c.id), health: healthStatus(c), linkNames: this.linkNames(c),
      etcFiles: started ? this.runtime.etcFiles(c.id) : undefined,
      rootfs: image ? this.runtime.rootfsDirs(c.id, image.layers) : undefined,
    };
  }

  private linkNames(c: Container): Record<string, string> {
    const out: Record<string, string> = {};
    for (const l of c.spec.links ?? []) out[l.target] = this.repo.containers.get(l.target)?.name ?? l.target;
    return out;
  }

  network(net: Network): NetworkView {
    const members: NetworkView['members'] = [];
    const external: NonNullable<NetworkView['external']> = [];
    for (const ep of this.repo.endpoints.list({ networkId: net.id })) {
      const c = this.repo.containers.get(ep.containerId);
      if (c) members.push({ container: c, endpoint: ep });
      const a = c ? undefined : this.repo.attachments.get(ep.containerId);
      // An address Docker's IPAM asked for, not yet an endpoint, is a lease only.
      if (a && a.ref) external.push({ attachment: a, endpoint: ep });
    }
    const driver = this.networks.driver(net);
    if (!driver.endpoints) {
      const mode = driver.mode ?? 'none';
      for (const c of this.repo.containers.list()) if (c.status === 'running' && c.spec.networkMode === mode) members.push({ container: c });
    }
    return { network: net, scope: this.networks.driver(net).scope, predefined: this.networks.isPredefined(net), members, ...(external.length ? { external } : {}) };
  }

  /** Ids of the containers made from an image (rmi refuses while there are any). */
  containersOf(imageId: string): string[] {
    return this.repo.containers.list().filter((c) => c.imageId === imageId).map((c) => c.id);
  }
}

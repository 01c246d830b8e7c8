/**
 * Read models for the API and the live views: a container or a network with what belongs to it
 * (endpoints, published ports, the namespace it uses), from the records, typed. The API converts
 * these to Docker's JSON (api/dto/); it never reads the store itself.
 */
import { attachments, EndpointConfig, modeOf } from '../base/container-spec';
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
}

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
  /** the /etc files bound into it, once it has started (Docker's ResolvConfPath, HostnamePath, HostsPath) */
  etcFiles?: { hosts: string; hostname: string; resolvConf: string };
  /** its root filesystem's directories (inspect's GraphDriver), while its image exists */
  rootfs?: RootfsDirs;
}

export interface NetworkView {
  network: Network;
  scope: 'local' | 'swarm';
  /** containers on it: endpoints with their container, and host/none-mode containers without one */
  members: { container: Container; endpoint?: Endpoint }[];
}

export class Queries {
  constructor(
    private readonly repo: Pick<Repos, 'containers' | 'endpoints' | 'ports'>,
    private readonly networks: Networks,
    private readonly sandboxes: Sandboxes,
    private readonly runtime: Pick<ContainerRuntime, 'logPath' | 'etcFiles' | 'rootfsDirs'>,
    private readonly execs: Pick<Execs, 'of'>,
    private readonly images?: Pick<ImageStore, 'find'>,
  ) {}

  container(c: Container): ContainerView {
    const mode = modeOf(c.spec.networkMode);
    const eps = this.repo.endpoints.list({ containerId: c.id });
    let networks: AttachmentView[] = [];
    if (mode.kind === 'host' || mode.kind === 'none') {
      const net = this.networks.find(mode.kind);
      networks = net ? [{ network: net }] : [];
    } else if (mode.kind === 'network') {
      for (const name of attachments(c.spec)) {
        const net = this.networks.find(name);
        if (net) networks.push({ network: net, config: c.spec.networks[net.name], endpoint: eps.find((e) => e.networkId === net.id) });
      }
    }
    const sandboxKey = c.status === 'running' && mode.kind !== 'host' ? this.sandboxes.netnsOf(c) : '';
    const started = c.startedAt !== undefined;
    const image = this.images?.find(c.imageId);
    return {
      container: c, networks, ports: this.repo.ports.list(c.id), sandboxKey, logPath: started ? this.runtime.logPath(c.id) : '', execIds: this.execs.of(c.id),
      etcFiles: started ? this.runtime.etcFiles(c.id) : undefined,
      rootfs: image ? this.runtime.rootfsDirs(c.id, image.layers) : undefined,
    };
  }

  network(net: Network): NetworkView {
    const members: NetworkView['members'] = [];
    for (const ep of this.repo.endpoints.list({ networkId: net.id })) {
      const c = this.repo.containers.get(ep.containerId);
      if (c) members.push({ container: c, endpoint: ep });
    }
    const driver = this.networks.driver(net);
    if (!driver.endpoints) {
      const mode = driver.mode ?? 'none';
      for (const c of this.repo.containers.list()) if (c.status === 'running' && c.spec.networkMode === mode) members.push({ container: c });
    }
    return { network: net, scope: this.networks.driver(net).scope, members };
  }

  /** Ids of the containers made from an image (rmi refuses while there are any). */
  containersOf(imageId: string): string[] {
    return this.repo.containers.list().filter((c) => c.imageId === imageId).map((c) => c.id);
  }
}

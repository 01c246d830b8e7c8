/**
 * A container's network mode and its networks: the checks Docker makes at create (conflicting
 * options per mode, addresses and aliases only on user-defined networks), and `network connect`
 * / `disconnect` of created and running containers. A connect is recorded before the kernel is
 * touched, and finished at restart if a crash came in between.
 */
import { attachments, CONTAINER_MODE_PREFIX, ContainerSpec, EndpointConfig, modeOf } from '../../base/container-spec';
import { describe, EngineError } from '../../base/errors';
import { Container, Network } from '../../base/model';
import { ContainerRepo } from '../../state/repos';
import { Networks } from '../networks';
import { Sandboxes } from '../sandbox';

export interface AttachmentDeps {
  containers: ContainerRepo;
  networks: Networks;
  sandboxes: Sandboxes;
  /** runs fn holding the container's mutex */
  locked: <T>(id: string, fn: () => Promise<T>) => Promise<T>;
  emit: (event: 'connect' | 'disconnect', id: string, networkId?: string) => void;
  /** rewrites a running container's resolv.conf: a connect gave it embedded DNS */
  refreshResolvConf: (c: Container) => Promise<void>;
  log: (m: string) => void;
}

export class NetworkAttachments {
  constructor(private readonly d: AttachmentDeps) {}

  /** Validates the network mode and its conflicting options; returns the spec with the mode normalised. */
  check(spec: ContainerSpec): ContainerSpec {
    const mode = modeOf(spec.networkMode || 'bridge');
    const conflict = (what: string) =>
      new EngineError('CONFLICTING_OPTIONS', `conflicting options: ${what} and the network mode`, { hint: `drop ${what} or use another --network` });
    switch (mode.kind) {
      case 'host':
        return { ...spec, networkMode: 'host' };
      case 'none':
        if (spec.portBindings.length) throw conflict('port publishing');
        return { ...spec, networkMode: 'none' };
      case 'container': {
        if (spec.portBindings.length) throw conflict('port publishing');
        if (spec.hostname) throw conflict('hostname');
        if (spec.dns.length) throw conflict('DNS servers');
        if (spec.macAddress) throw conflict('MAC address');
        if (Object.values(spec.networks).some((n) => n.aliases.length)) throw conflict('network aliases');
        const target = this.d.containers.get(mode.target);
        if (!target) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${mode.target}`);
        return { ...spec, networkMode: `${CONTAINER_MODE_PREFIX}${target.id}` };
      }
      case 'network': {
        // A network that does not exist (yet) is Docker's start-time error ("network X not found"),
        // not create's: the docker CLI would read a 404 at create as a missing image and try to pull it.
        const net = this.d.networks.find(mode.network);
        if (!net) return spec;
        const driver = this.d.networks.driver(net);
        if (!driver.endpoints) return this.check({ ...spec, networkMode: driver.mode ?? 'none' });
        // Endpoint settings are keyed by the network's name, the primary network's always present.
        // (Docker's CLI says "default" for the default bridge, in both places.)
        const networks = { ...spec.networks };
        const keys = [spec.networkMode, mode.network, net.name, net.id];
        const cfg = keys.map((k) => networks[k]).find(Boolean) ?? { aliases: [] };
        for (const k of keys) delete networks[k];
        this.checkEndpointConfig(net, cfg);
        const key = this.d.networks.specKey(net);
        const out = { ...spec, networkMode: key, networks: { [key]: cfg, ...networks } };
        this.checkNamesDistinct(out);
        return out;
      }
    }
  }

  /**
   * A container's networks are keyed by name (Docker's NetworkSettings.Networks): two networks of
   * one name (API < 1.44 made the second) cannot both be among them.
   */
  private checkNamesDistinct(spec: ContainerSpec, adding?: Network): void {
    const seen = new Map<string, string>();
    const nets = attachments(spec).map((k) => this.d.networks.find(k)).filter((n): n is Network => !!n);
    for (const n of adding ? [...nets, adding] : nets) {
      const other = seen.get(n.name);
      if (other !== undefined && other !== n.id) {
        throw new EngineError('CONFLICTING_OPTIONS', `a container cannot be connected to two networks named ${n.name} (${other.slice(0, 12)} and ${n.id.slice(0, 12)}): its networks are keyed by name`, {
          hint: `connect it to a network whose name is unique: remove one of the networks named ${n.name}, or create one under another name`,
        });
      }
      seen.set(n.name, n.id);
    }
  }

  /** The key under which the spec holds this network (its name or its id), if it has it. */
  private keyOf(spec: ContainerSpec, net: Network): string | undefined {
    return attachments(spec).find((k) => k === net.id || this.d.networks.find(k)?.id === net.id);
  }

  /** Docker's rule: addresses and aliases are chosen on user-defined networks only. */
  private checkEndpointConfig(net: Network, cfg: EndpointConfig): void {
    if (!this.d.networks.isPredefined(net)) return;
    if (cfg.ipv4) throw new EngineError('INVALID_PARAMETER', 'user specified IP address is supported on user defined networks only', { hint: 'create a network with `ctrnet network create` and use --network NAME --ip IP' });
    if (cfg.aliases.length) throw new EngineError('INVALID_PARAMETER', 'network-scoped alias is supported only for containers in user defined networks', { hint: 'use a user-defined network' });
  }

  async connect(networkRef: string, idOrName: string, cfg: EndpointConfig): Promise<void> {
    const net = this.d.networks.get(networkRef);
    const c0 = this.get(idOrName);
    await this.d.locked(c0.id, async () => {
      const c = this.get(c0.id);
      const mode = modeOf(c.spec.networkMode);
      const driver = this.d.networks.driver(net);
      // Docker's words for each refusal.
      if (mode.kind === 'host' || driver.mode === 'host') {
        throw new EngineError('CONFLICTING_OPTIONS', 'container cannot be disconnected from host network or connected to host network');
      }
      if (mode.kind === 'container') {
        throw new EngineError('CONFLICTING_OPTIONS', 'container sharing network namespace with another container or host cannot be connected to any other network');
      }
      if (mode.kind === 'none' || !driver.endpoints) {
        throw new EngineError('CONFLICTING_OPTIONS', 'container cannot be connected to multiple networks with one of the networks in private (none) mode', { hint: 'none, host and container modes cannot be combined with networks' });
      }
      // A running container has its endpoint: Docker refuses a second. A created one only has its
      // settings, which a second connect replaces (as Docker does).
      const had = this.keyOf(c.spec, net);
      if (had !== undefined && c.status === 'running') {
        throw new EngineError('ENDPOINT_EXISTS', `endpoint with name ${c.name} already exists in network ${net.name}`);
      }
      if (had === undefined) this.checkNamesDistinct(c.spec, net);
      this.checkEndpointConfig(net, cfg);
      // Endpoint links name their target as given, resolved at each lookup: Docker lets it come later.
      const key = had ?? this.d.networks.specKey(net);
      const spec = { ...c.spec, networks: { ...c.spec.networks, [key]: cfg } };
      // Connected again after leaving every network: it has networks again.
      delete spec.noNetworks;
      const next: Container = { ...c, spec };
      // Recorded before the kernel is touched, undone on failure: a crash in between leaves a
      // record that the next start (or reconcile) completes, never an unexplained interface.
      this.d.containers.update(c.id, { spec: next.spec });
      try {
        if (c.status === 'running' && (await this.d.sandboxes.connect(next, key))) await this.d.refreshResolvConf(next);
      } catch (e) {
        this.d.containers.update(c.id, { spec: c.spec });
        throw e;
      }
      this.d.emit('connect', c.id, net.id);
    });
  }

  async disconnect(networkRef: string, idOrName: string): Promise<void> {
    const net = this.d.networks.get(networkRef);
    const c0 = this.get(idOrName);
    await this.d.locked(c0.id, async () => {
      const c = this.get(c0.id);
      const mode = modeOf(c.spec.networkMode);
      if (mode.kind === 'host' || this.d.networks.driver(net).mode === 'host') {
        throw new EngineError('CONFLICTING_OPTIONS', 'container cannot be disconnected from host network or connected to host network');
      }
      // Docker accepts this and changes nothing: a none-mode container stays one.
      if (mode.kind === 'none' && this.d.networks.driver(net).mode === 'none') return;
      const key = this.keyOf(c.spec, net);
      if (key === undefined) {
        throw new EngineError('INVALID_PARAMETER', `container ${c.id} is not connected to network ${net.name}`);
      }
      const networks = { ...c.spec.networks };
      delete networks[key];
      // The network mode stays what it was (Docker's HostConfig.NetworkMode does): a container that
      // left every network is still a bridge-mode container, with only lo, that can be connected again.
      const spec = { ...c.spec, networks };
      if (Object.keys(networks).length === 0) spec.noNetworks = true;
      this.d.containers.update(c.id, { spec });
      if (c.status === 'running') await this.d.sandboxes.disconnect(c, net.id);
      this.d.emit('disconnect', c.id, net.id);
    });
  }

  /**
   * A connect is recorded before the kernel is touched: after a crash, a running container may be
   * recorded on a network it has no interface on yet. Finish those; forget networks that are gone.
   */
  async completeConnects(c: Container, endpointNetworks: Set<string>): Promise<void> {
    if (modeOf(c.spec.networkMode).kind !== 'network') return;
    for (const name of attachments(c.spec)) {
      const net = this.d.networks.find(name);
      if (!net) {
        const networks = { ...c.spec.networks };
        delete networks[name];
        this.d.containers.update(c.id, { spec: { ...c.spec, networks } });
        continue;
      }
      if (endpointNetworks.has(net.id)) continue;
      this.d.log(`finishing the interrupted connect of ${c.name} to ${name}`);
      await this.d.sandboxes.connect(c, name).catch((e) => this.d.log(`connecting ${c.name} to ${name}: ${describe(e)}`));
    }
  }

  private get(idOrName: string): Container {
    const c = this.d.containers.get(idOrName);
    if (!c) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${idOrName}`);
    return c;
  }
}

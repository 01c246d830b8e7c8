/**
 * Containers: create, start, stop, kill, restart, remove, wait, rename, and the restore of a
 * daemon's containers after a restart, over the sandbox layer (network), the image store and the
 * runtime. Each container's changes are serialised by a per-container mutex. Exits are reported by
 * the runtime's monitor connection, also for containers started by an earlier daemon (restore()).
 * Networks of a container: containers/network-mode.ts; stdio: containers/stdio.ts.
 *
 * Events (EventEmitter, for waiting): create, start, exit (id, code), removed (id, code, container),
 * connect, disconnect, rename. Docker's events, with their attributes, go to EngineEvents
 * (base/events.ts): create, start, kill, die, stop, restart, destroy, rename, pause, unpause,
 * update, and network connect/disconnect as a container's endpoints come and go.
 *
 * Mounts: containers/storage.ts (settled at create, made at start); restart policies: the
 * supervisor of containers/restarts.ts reacts to exits, its starts take the container's mutex
 * like any other; limits are checked at create and changed live by update().
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { CONTAINER_MODE_PREFIX, ContainerSpec, EndpointConfig, modeOf, randomName, resourcesOf, restartOf, VALID_NAME } from '../../base/container-spec';
import { effectiveHealth } from '../../base/health';
import { applyUpdate, checkResources, ResourceUpdate, settleResources } from '../../base/resources';
import { RestartPolicy, restartPolicy } from '../../base/restart-policy';
import { describe, EngineError } from '../../base/errors';
import { containerAttributes, EngineEvents } from '../../base/events';
import { signalName, signalNumber } from '../../base/signals';
import { stopSignalOf, stopTimeoutOf } from '../../base/container-defaults';
import { Container, Endpoint, lastAddress6Key } from '../../base/model';
import { KeyedMutex } from '../../base/mutex';
import { shortId } from '../../base/names';
import { FrameReader, STREAM_EXIT } from '../../base/frames';
import { ImageStore } from '../../images/image-store';
import { ContainerRuntime } from '../../runtime/runtime';
import { Repos } from '../../state/repos';
import { Networks, newId } from '../networks';
import { Sandboxes } from '../sandbox';
import { NetworkAttachments } from './network-mode';
import { NotModified, startFailureExitCode } from './outcomes';
import { withImageDefaults } from './image-defaults';
import { withPath } from './process-env';
import { hostGateway, hostsLines, linkEnv, ResolvedLink } from './etc-hosts';
import { resolvConf } from './resolv-conf';
import { checkSysctls } from './sysctls';
import { Stdio } from './stdio';
import { RestartSupervisor } from './restarts';
import { ContainerStorage } from './storage';
import { Volumes } from '../volumes';
import { withoutLink } from './links';
import { namespaceBundle, resolveNamespaceModes } from './namespaces';

/** What containers need beyond their network: mounts and volumes, the host's CPUs (limits are checked against them). */
export interface ContainerExtras {
  storage: ContainerStorage;
  volumes: Volumes;
  ncpu: number;
}

export class Containers extends EventEmitter {
  private readonly mutex = new KeyedMutex();
  private readonly monitors = new Map<string, Socket>();
  private readonly attachments: NetworkAttachments;
  private closing = false;
  /** the restart supervisor: exits the restart policies answer */
  readonly restarts: RestartSupervisor;
  /** stopped or killed by a user and not yet exited: no restart follows (Docker's ExitOnNext) */
  private readonly exitOnNext = new Set<string>();

  constructor(
    private readonly repo: Pick<Repos, 'containers' | 'endpoints' | 'ports'>,
    private readonly images: ImageStore,
    private readonly runtime: ContainerRuntime,
    private readonly sandboxes: Sandboxes,
    private readonly networks: Networks,
    private readonly stdio: Stdio,
    private readonly log: (msg: string) => void = () => {},
    private readonly extras?: ContainerExtras,
    private readonly events: EngineEvents = new EngineEvents(),
  ) {
    super();
    this.setMaxListeners(0);
    this.restarts = new RestartSupervisor({ restart: (id, at) => this.restartByPolicy(id, at), startAtBoot: (id) => this.start(id).catch((e) => {
      if (!(e instanceof NotModified)) throw e;
    }) }, log);
    this.attachments = new NetworkAttachments({
      containers: repo.containers,
      networks,
      sandboxes,
      locked: (id, fn) => this.mutex.run(id, fn),
      emit: (event, id, networkId) => {
        this.emit(event, id);
        const c = this.repo.containers.get(id);
        if (c && networkId && c.status === 'running') this.networkEvent(event, c, networkId);
      },
      refreshResolvConf: async (c) => this.runtime.writeEtcFile(c.id, 'resolv.conf', await resolvConf(c.spec, false, true)),
      log,
    });
  }

  /** A container event of Docker's, with the container's attributes (and `extra`). */
  note(action: string, c: Container, extra: Record<string, string> = {}): void {
    this.events.emit('container', action, c.id, containerAttributes(c, extra));
  }

  /** A network's connect or disconnect event for a container's endpoint. */
  private networkEvent(action: 'connect' | 'disconnect', c: Container, networkId: string): void {
    const net = this.networks.find(networkId);
    if (net) this.events.emit('network', action, net.id, { container: c.id, name: net.name, type: net.driver });
  }

  get(idOrName: string): Container {
    const c = this.repo.containers.get(idOrName);
    if (!c) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${idOrName}`);
    return c;
  }

  list(): Container[] {
    return this.repo.containers.list();
  }

  // ---------------------------------------------------------------- create, rename, networks

  async create(name: string | undefined, imageRef: string, spec: ContainerSpec): Promise<Container> {
    const image = this.images.get(imageRef);
    if (name !== undefined && name !== '') {
      const n = name.replace(/^\//, '');
      if (!VALID_NAME.test(n)) throw new EngineError('INVALID_PARAMETER', `Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      name = n;
    } else {
      name = randomName((n) => this.repo.containers.get(n) !== undefined);
    }
    spec = withImageDefaults(spec, image.config);
    if (spec.cmd.length === 0 && spec.entrypoint.length === 0) {
      throw new EngineError('INVALID_PARAMETER', 'No command specified', { hint: 'give the command after the image name, e.g. `busybox sh`' });
    }
    spec = this.attachments.check(spec);
    checkSysctls(spec);
    if (spec.links?.length) spec = { ...spec, links: spec.links.map((l) => ({ ...l, target: this.linkTarget(l.target).id })) };
    spec = this.checkExtras(spec);
    spec = resolveNamespaceModes(spec, (r) => this.repo.containers.get(r));
    const other = this.repo.containers.get(name);
    if (other && other.name === name) throw new EngineError('NAME_IN_USE', `Conflict. The container name "/${name}" is already in use by container "${other.id}"`, { hint: 'remove (or rename) that container to be able to reuse that name' });
    // The image's HEALTHCHECK fills what the container's leaves unset, as Docker merges them.
    const healthcheck = effectiveHealth(spec.healthcheck, image.config?.healthcheck);
    if (healthcheck) spec = { ...spec, healthcheck };
    if (this.extras) spec = { ...spec, mounts: await this.extras.storage.settle(spec, image) };
    const id = newId();
    if (!spec.hostname && modeOf(spec.networkMode).kind !== 'host') spec = { ...spec, hostname: shortId(id) };
    const c: Container = { id, name, imageId: image.id, image: imageRef, spec, status: 'created', pid: 0, exitCode: 0, error: '', created: new Date().toISOString() };
    try {
      this.repo.containers.insert(c);
    } catch (e) {
      await this.extras?.storage.undo(ContainerStorage.volumesOf(spec.mounts ?? []));
      throw e;
    }
    this.emit('create', id);
    this.note('create', c);
    return c;
  }

  private linkTarget(ref: string): Container {
    const t = this.repo.containers.get(ref);
    if (!t) throw new EngineError('INVALID_PARAMETER', `could not get container for ${ref}: No such container: ${ref}`);
    return t;
  }

  /**
   * The legacy links of a container on the default bridge, each with its target's address there
   * (Docker: the target must be running and on the default bridge too). Elsewhere links are names
   * of the embedded resolver: none here.
   */
  private legacyLinks(c: Container, eps: Endpoint[]): ResolvedLink[] {
    const bridge = this.networks.find('bridge');
    if (!c.spec.links?.length || !bridge || !eps.some((e) => e.networkId === bridge.id)) return [];
    return c.spec.links.map((link) => {
      const target = this.repo.containers.get(link.target);
      if (!target || target.status !== 'running') {
        throw new EngineError('CONTAINER_NOT_RUNNING', `Cannot link to a non running container: /${target?.name ?? link.target} AS /${c.name}/${link.alias}`, { hint: 'start that container first' });
      }
      const ep = this.repo.endpoints.list({ containerId: target.id }).find((e) => e.networkId === bridge.id);
      if (!ep) throw new EngineError('CONFLICTING_OPTIONS', `Cannot link to /${target.name}, as it does not belong to the default network`);
      return { link, target, ip: ep.ip };
    });
  }

  /** Restart policy and limits: Docker's checks, and what Docker settles at create (swap). */
  private checkExtras(spec: ContainerSpec): ContainerSpec {
    const policy = restartOf(spec);
    restartPolicy(policy.name, policy.maxRetries, spec.autoRemove);
    if (!spec.resources) return spec;
    checkResources(spec.resources, this.extras?.ncpu ?? 1);
    return { ...spec, resources: settleResources(spec.resources) };
  }

  /**
   * Docker's `update`: limits (changed live in a running container's cgroup) and the restart
   * policy. Fields not given stay as they are.
   */
  async update(idOrName: string, u: ResourceUpdate, policy?: RestartPolicy): Promise<void> {
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, async () => {
      const c = this.get(c0.id);
      const next = applyUpdate(resourcesOf(c.spec), u, c.id);
      checkResources(next, this.extras?.ncpu ?? 1);
      if (policy && c.spec.autoRemove && policy.name !== 'no') {
        throw new EngineError('CONFLICTING_OPTIONS', 'Restart policy cannot be updated because AutoRemove is enabled for the container', { hint: 'a --rm container is not restarted' });
      }
      if (c.status === 'running') {
        await this.runtime.update(c.id, next).catch((e) => {
          throw new EngineError('RUNTIME_FAILED', `Cannot update container ${c.id}: ${describe(e)}`, { cause: e });
        });
      }
      this.repo.containers.update(c.id, { spec: { ...c.spec, resources: next, ...(policy ? { restartPolicy: policy } : {}) } });
      this.note('update', c);
    });
  }

  rename(idOrName: string, name: string): void {
    const c = this.get(idOrName);
    const n = name.replace(/^\//, '');
    if (!VALID_NAME.test(n)) throw new EngineError('INVALID_PARAMETER', `Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const other = this.repo.containers.get(n);
    if (other && other.name === n) throw new EngineError('NAME_IN_USE', `Conflict. The container name "/${n}" is already in use by container "${other.id}"`);
    this.repo.containers.update(c.id, { name: n });
    this.emit('rename', c.id);
    this.note('rename', { ...c, name: n }, { oldName: `/${c.name}` });
  }

  /** Removes the legacy link ALIAS of a container (`docker rm --link NAME/ALIAS`). */
  async removeLink(idOrName: string, alias: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, async () => {
      const c = this.get(c0.id);
      this.repo.containers.update(c.id, { spec: withoutLink(c, alias) });
    });
  }

  connect(networkRef: string, idOrName: string, cfg: EndpointConfig): Promise<void> {
    return this.attachments.connect(networkRef, idOrName, cfg);
  }

  disconnect(networkRef: string, idOrName: string): Promise<void> {
    return this.attachments.disconnect(networkRef, idOrName);
  }

  // ---------------------------------------------------------------- start

  async start(idOrName: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, async () => {
      // A user's start: Docker's restart manager begins anew, and a stop by the user is forgotten.
      this.restarts.reset(c0.id);
      this.exitOnNext.delete(c0.id);
      const c = this.get(c0.id);
      if (c.status !== 'running' && (c.restartCount || c.manuallyStopped)) this.repo.containers.update(c.id, { restartCount: 0, manuallyStopped: false });
      await this.startLocked(c0.id);
    });
  }

  /** The supervisor's start for the exit that ended at `finishedAt`: nothing when anything happened since. */
  private async restartByPolicy(id: string, finishedAt: string): Promise<void> {
    await this.mutex.run(id, async () => {
      const c = this.repo.containers.get(id);
      if (!c || c.status !== 'exited' || c.finishedAt !== finishedAt || this.exitOnNext.has(id) || this.closing) return;
      this.log(`restarting ${c.name} (restart policy ${restartOf(c.spec).name}, restart ${c.restartCount ?? 0})`);
      await this.startLocked(id).catch((e) => this.log(`restart of ${c.name} failed: ${describe(e)}`));
    });
  }

  private async startLocked(id: string): Promise<void> {
    const c = this.get(id);
    if (c.status === 'running') throw new NotModified();
    const image = this.images.get(c.imageId);
    const undo: (() => Promise<void>)[] = [];
    try {
      const rootfs = await this.runtime.mountRootfs(c.id, image.layers);
      undo.push(() => this.runtime.unmountRootfs(c.id));
      undo.push(async () => this.extras?.storage.release(c));
      const mounts = this.extras ? await this.extras.storage.prepare(c, rootfs) : [];
      const netns = await this.sandboxes.setup(c);
      undo.push(() => this.sandboxes.teardown(c));
      const { spec } = c;
      // Joined to another container's namespace: its hostname, /etc/hosts and resolv.conf (and
      // resolver) are this one's too, as in Docker.
      const mode = modeOf(spec.networkMode);
      const owner = mode.kind === 'container' ? (this.repo.containers.get(mode.target) ?? c) : c;
      const eps = this.repo.endpoints.list({ containerId: owner.id });
      const links = this.legacyLinks(owner, eps);
      const gw = hostGateway(eps, (id) => this.networks.find(id), (n) => this.networks.driver(n).wayOut(n).kind === 'self', this.networks.find('bridge')?.gateway ?? '');
      const pending = await this.runtime.prepare(
        {
          id: c.id,
          rootfs,
          hostname: owner.spec.hostname,
          domainname: owner.spec.domainname,
          netns,
          process: { args: [...spec.entrypoint, ...spec.cmd], env: withPath([...(owner === c ? links.flatMap((l) => linkEnv(c, l)) : []), ...spec.env]), cwd: spec.workingDir || '/', tty: spec.tty, user: spec.user, consoleSize: spec.consoleSize },
          hosts: hostsLines(owner.spec, eps, links, gw),
          resolvConf: await resolvConf(owner.spec, netns === 'host', this.networks.embeddedDns(owner.spec)),
          sysctls: spec.sysctls,
          ...(eps.some((e) => !!e.ip6) ? { ipv6: true } : {}),
          mounts,
          readonlyRootfs: spec.readonlyRootfs,
          resources: spec.resources && resourcesOf(spec),
          init: spec.init,
          annotations: spec.annotations,
          ...namespaceBundle(c, (r) => this.repo.containers.get(r), this.runtime),
        },
        { stdin: spec.openStdin },
      );
      undo.push(() => this.runtime.delete(c.id));
      try {
        await this.watch(c.id);
        await this.stdio.joinPending(c);
      } catch (e) {
        pending.abort();
        throw e;
      }
      const pid = await pending.go().catch((e: Error) => {
        // A command that is missing or not executable is the user's to fix (400, as Docker); the rest is ours.
        const code = startFailureExitCode(e.message) === 125 ? 'RUNTIME_FAILED' : 'INVALID_PARAMETER';
        throw new EngineError(code, `failed to start container ${c.name}: ${e.message}`, { cause: e });
      });
      // FinishedAt stays the last exit's, as Docker shows it.
      this.repo.containers.update(c.id, { status: 'running', pid, startedAt: new Date().toISOString(), error: '', exitCode: 0, oomKilled: false, paused: false });
      for (const ep of this.repo.endpoints.list({ containerId: c.id })) this.networkEvent('connect', c, ep.networkId);
      this.emit('start', c.id);
      this.note('start', c);
    } catch (e) {
      const errors: unknown[] = [];
      for (const u of undo.reverse()) await u().catch((e2) => errors.push(e2));
      for (const err of errors) this.log(`start rollback of ${c.name}: ${describe(err)}`);
      const msg = describe(e);
      const code = startFailureExitCode(msg);
      this.repo.containers.update(c.id, { error: msg, exitCode: code });
      this.stdio.dropPending(c.id);
      this.emit('exit', c.id, code);
      if (c.spec.autoRemove) await this.removeLocked(c.id, code, false, true);
      throw e;
    }
  }

  /** Connects the monitor: its exit frame (or its loss) ends the container. */
  private async watch(id: string): Promise<void> {
    const sock = await this.runtime.connect(id, 'monitor');
    this.monitors.set(id, sock);
    let code: number | undefined;
    const reader = new FrameReader((stream, payload) => {
      if (stream === STREAM_EXIT) code = Number(payload.toString());
    });
    sock.on('data', (d: Buffer) => reader.push(d));
    sock.on('error', () => {}); // 'close' follows and decides
    sock.on('close', () => {
      if (this.monitors.get(id) === sock) this.monitors.delete(id);
      // The daemon is stopping and closed the monitor itself: the container goes on running.
      if (this.closing) return;
      void (async () => {
        const exit = code ?? (await this.runtime.exitCode(id));
        // A start that failed never ran the process: that is startLocked's to clean up.
        if (this.repo.containers.get(id)?.status !== 'running') return;
        await this.exited(id, exit ?? 255);
      })().catch((e) => this.log(`handling the exit of ${id}: ${describe(e)}`));
    });
  }

  /** The process ended: record it, free its network and files, auto-remove when asked. */
  private async exited(id: string, code: number): Promise<void> {
    await this.mutex.run(id, async () => {
      const c = this.repo.containers.get(id);
      if (!c || c.status !== 'running') return;
      // A restart asks for the same addresses again (core/sandbox.ts), as long as they are free.
      const lastAddresses = Object.fromEntries(
        this.repo.endpoints.list({ containerId: id }).flatMap((e) => [...(e.ip ? [[e.networkId, e.ip]] : []), ...(e.ip6 ? [[lastAddress6Key(e.networkId), e.ip6]] : [])]),
      );
      const ended = { status: 'exited' as const, exitCode: code, pid: 0, finishedAt: new Date().toISOString(), oomKilled: false, lastAddresses, paused: false };
      this.repo.containers.update(id, ended);
      // Read before cleanup: runc delete removes the cgroup that counted the OOM kills.
      ended.oomKilled = await this.runtime.oomKilled(id).catch(() => false);
      if (ended.oomKilled) this.repo.containers.update(id, { oomKilled: true });
      // Decided at once, so that it shows "restarting" from the exit on; the start waits for this mutex.
      // A user's stop (recorded, also when this daemon did not see it) or the daemon's own close is no crash.
      const byUser = this.exitOnNext.delete(id) || c.manuallyStopped === true;
      const restarting = this.restarts.exited({ ...c, ...ended }, byUser || this.closing);
      if (restarting) this.repo.containers.update(id, { restartCount: (c.restartCount ?? 0) + 1 });
      this.note('die', c, { exitCode: String(code) });
      const eps = this.repo.endpoints.list({ containerId: id });
      const clean = await this.cleanup(c);
      for (const ep of eps) this.networkEvent('disconnect', c, ep.networkId);
      this.emit('exit', id, code);
      if (!restarting && c.spec.autoRemove) await this.removeLocked(id, code, clean, true);
    });
  }

  /** Frees what a stopped container holds; true when nothing failed. */
  private async cleanup(c: Container): Promise<boolean> {
    const errors: unknown[] = [];
    // The network and the runtime are independent: in parallel. The root filesystem is unmounted
    // only after runc delete, which ends any process still holding it.
    await Promise.all([
      // Containers joined to this one (container:NAME) keep its namespace alive: their view of it
      // must lose the interfaces now, so they are deleted by hand rather than left to the kernel.
      this.sandboxes.teardown(c, { held: this.joinedTo(c.id).some((o) => o.status === 'running') }).catch((e) => errors.push(e)),
      (async () => {
        await this.runtime.delete(c.id).catch((e) => errors.push(e));
        await this.runtime.unmountRootfs(c.id).catch((e) => errors.push(e));
        await this.extras?.storage.release(c).catch((e) => errors.push(e));
      })(),
    ]);
    for (const e of errors) this.log(`cleanup of ${c.name}: ${describe(e)}`);
    return errors.length === 0;
  }

  // ---------------------------------------------------------------- stop, kill, remove, wait

  /** Resolves with the exit code at the next `exit` or `removed` event of a container. */
  private next(event: 'exit' | 'removed', id: string): Promise<number> {
    return new Promise((resolve) => {
      const on = (cid: string, code: number) => {
        if (cid !== id) return;
        this.off(event, on);
        resolve(code);
      };
      this.on(event, on);
    });
  }

  /** A user stops or kills it: no restart follows, and unless-stopped stays down (Docker's HasBeenManuallyStopped). */
  private stoppedByUser(c: Container): boolean {
    // Recorded before the signal: an exit the next daemon finds (this one crashed meanwhile) is a stop too.
    if (!c.manuallyStopped) this.repo.containers.update(c.id, { manuallyStopped: true });
    if (c.status === 'running') this.exitOnNext.add(c.id);
    return this.restarts.cancel(c.id);
  }

  /**
   * Docker's stop: the stop signal (--stop-signal, the image's, SIGTERM), then SIGKILL after the
   * timeout (`t`, else --stop-timeout, else 10 s). `signal` (API 1.42+) overrides the stop signal.
   */
  async stop(idOrName: string, timeoutSec?: number, signal?: string): Promise<void> {
    const c = this.get(idOrName);
    // A container waiting for its restart is stopped by not restarting it.
    if (this.restarts.isRestarting(c.id)) {
      this.stoppedByUser(c);
      return;
    }
    if (c.status !== 'running') throw new NotModified();
    this.stoppedByUser(c);
    const sig = signal || stopSignalOf(c.spec);
    const wait = timeoutSec ?? stopTimeoutOf(c.spec);
    const exit = this.next('exit', c.id);
    await this.signal(c, sig);
    // A negative timeout waits for ever, as in Docker.
    const timer = new Promise<'timeout'>((r) => (wait >= 0 ? setTimeout(() => r('timeout'), wait * 1000).unref() : undefined));
    if ((await Promise.race([exit, timer])) === 'timeout') {
      await this.signal(c, 'KILL');
      await exit;
    }
    this.note('stop', this.repo.containers.get(c.id) ?? c);
  }

  /** Sends a signal (and its event); a paused container is thawed after SIGKILL, so that it dies. */
  private async signal(c: Container, sig: string): Promise<void> {
    const n = signalNumber(sig);
    this.note('kill', c, { signal: String(n) });
    await this.runtime.kill(c.id, signalName(sig));
    if (n === 9 && this.repo.containers.get(c.id)?.paused) await this.runtime.resume(c.id).catch((e) => this.log(`resuming ${c.name} after SIGKILL: ${describe(e)}`));
  }

  /** Docker's kill: SIGKILL (the default) returns once the container has exited; other signals at once. */
  async kill(idOrName: string, signal = 'KILL'): Promise<void> {
    const c = this.get(idOrName);
    const n = signalNumber(signal);
    // Killing with SIGKILL or the stop signal is a stop by the user; another signal is only a signal.
    if ((this.restarts.isRestarting(c.id) || c.status === 'running') && (n === 9 || n === 15)) {
      if (this.stoppedByUser(c)) return;
    }
    if (c.status !== 'running') {
      throw new EngineError('CONTAINER_NOT_RUNNING', `Cannot kill container: ${idOrName}: Container ${c.id} is not running`);
    }
    // SIGKILL answers once the container is no longer running, as Docker's (a `rm` right after works).
    const exit = n === 9 ? this.next('exit', c.id) : undefined;
    await this.signal(c, signal);
    if (exit) await Promise.race([exit, new Promise((r) => setTimeout(r, 10_000).unref())]);
  }

  async restart(idOrName: string, timeoutSec?: number, signal?: string): Promise<void> {
    await this.stop(idOrName, timeoutSec, signal).catch((e) => {
      if (!(e instanceof NotModified)) throw e;
    });
    await this.start(idOrName);
    this.note('restart', this.get(idOrName));
  }

  // ---------------------------------------------------------------- pause

  /** Equivalent to: `docker pause` (every process frozen; the container stays running). */
  async pause(idOrName: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, async () => {
      const c = this.get(c0.id);
      if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
      if (c.paused) throw new EngineError('CONTAINER_PAUSED', `Container ${c.id} is already paused`);
      await this.runtime.pause(c.id);
      this.repo.containers.update(c.id, { paused: true });
      this.note('pause', c);
    });
  }

  async unpause(idOrName: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, async () => {
      const c = this.get(c0.id);
      if (c.status !== 'running' || !c.paused) throw new EngineError('CONTAINER_NOT_PAUSED', `Container ${c.id} is not paused`);
      await this.runtime.resume(c.id);
      this.repo.containers.update(c.id, { paused: false });
      this.note('unpause', c);
    });
  }

  /** Containers whose network is this container's namespace, directly or through a chain. */
  joinedTo(id: string): Container[] {
    const all = this.repo.containers.list().filter((o) => o.spec.networkMode.startsWith(CONTAINER_MODE_PREFIX));
    const found: Container[] = [];
    for (let frontier = [id]; frontier.length; ) {
      const next = all.filter((o) => frontier.some((f) => o.spec.networkMode === `${CONTAINER_MODE_PREFIX}${f}`) && !found.some((x) => x.id === o.id));
      found.push(...next);
      frontier = next.map((o) => o.id);
    }
    return found;
  }

  async remove(idOrName: string, force = false, volumes = false): Promise<void> {
    const c = this.get(idOrName);
    if (this.restarts.isRestarting(c.id)) {
      if (!force) throw new EngineError('CONTAINER_RUNNING', `You cannot remove a restarting container ${c.id}. Stop the container before attempting removal or force remove`, { hint: 'ctrnet stop it, or rm -f' });
      this.restarts.cancel(c.id);
    }
    const joined = this.joinedTo(c.id).filter((o) => o.status === 'running');
    if (joined.length && !force) {
      throw new EngineError('CONTAINER_IN_USE', `cannot remove container ${c.name}: containers ${joined.map((o) => o.name).join(', ')} use its network namespace`, {
        hint: 'remove those first, or force with -f (they lose their network)',
      });
    }
    if (c.status === 'running' && c.paused && !force) {
      throw new EngineError('CONTAINER_PAUSED', `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`, { hint: 'ctrnet unpause it, or rm -f' });
    }
    if (c.status === 'running' && !force) {
      throw new EngineError('CONTAINER_RUNNING', `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`, { hint: 'ctrnet stop it, or rm -f' });
    }
    await this.mutex.run(c.id, async () => {
      const cur = this.repo.containers.get(c.id);
      if (!cur) return;
      if (cur.status !== 'running') return this.removeLocked(c.id, cur.exitCode, false, volumes);
      // A running one: the removal is recorded before the kill, so that a crash in between ends in
      // the removal (finished by the next daemon), never in a restart by its policy. Its exit is
      // then the removal's to clean up (the monitor leaves containers that are not running alone).
      this.restarts.cancel(c.id);
      this.repo.containers.update(c.id, { status: 'removing' });
      await this.signal(cur, 'KILL');
      const code = (await this.runtime.exitCode(c.id)) ?? 137;
      this.note('die', cur, { exitCode: String(code) });
      await this.removeLocked(c.id, code, false, volumes || cur.spec.autoRemove, true);
    });
  }

  /**
   * `cleaned`: the exit's cleanup just ran without errors (--rm): a second one would only spawn runc again.
   * `volumes`: its anonymous volumes go too (rm -v, --rm).
   */
  private async removeLocked(id: string, code: number, cleaned = false, volumes = false, wasRunning = false): Promise<void> {
    const c = this.repo.containers.get(id);
    if (!c) return;
    if (c.status === 'running') throw new EngineError('CONTAINER_RUNNING', `container ${c.name} is running`);
    this.restarts.forget(id);
    this.repo.containers.update(id, { status: 'removing' });
    const eps = wasRunning ? this.repo.endpoints.list({ containerId: id }) : [];
    if (!cleaned) await this.cleanup(c);
    for (const ep of eps) this.networkEvent('disconnect', c, ep.networkId);
    await this.runtime.removeFiles(id);
    this.repo.containers.delete(id);
    if (volumes) await this.extras?.volumes.removeAnonymous(c).catch((e) => this.log(`removing the volumes of ${c.name}: ${describe(e)}`));
    // A force-removed running container also exited (waiters of not-running hear it).
    if (wasRunning) this.emit('exit', id, code);
    this.emit('removed', id, code, c);
    this.note('destroy', c);
  }

  /** Docker's wait conditions: not-running (default), next-exit, removed. */
  async wait(idOrName: string, condition = 'not-running'): Promise<number> {
    const c = this.get(idOrName);
    if (condition === 'removed') return this.next('removed', c.id);
    if (condition === 'next-exit' || c.status === 'running') return this.next('exit', c.id);
    return c.exitCode;
  }

  // ---------------------------------------------------------------- export

  /**
   * `docker export`: the container's root filesystem as a tar stream. A container that is not
   * running has its root mounted for the while (unmounted at the end unless it started meanwhile).
   */
  async export(idOrName: string): Promise<Readable> {
    const c = this.get(idOrName);
    const image = this.images.get(c.imageId);
    const rootfs = await this.mutex.run(c.id, () => this.runtime.mountRootfs(c.id, image.layers));
    const tar = this.images.archive(rootfs);
    tar.once('close', () => {
      void this.mutex
        .run(c.id, async () => {
          if (this.repo.containers.get(c.id)?.status !== 'running') await this.runtime.unmountRootfs(c.id);
        })
        .catch((e) => this.log(`unmounting ${c.name} after export: ${describe(e)}`));
    });
    return tar;
  }

  // ---------------------------------------------------------------- restore

  /** After a daemon restart: re-watch running containers, finish what a crash interrupted. */
  async restore(): Promise<void> {
    for (const c of this.repo.containers.list()) {
      if (c.status === 'removing') {
        await this.mutex.run(c.id, () => this.removeLocked(c.id, c.exitCode)).catch((e) => this.log(`finishing removal of ${c.name}: ${describe(e)}`));
        continue;
      }
      if (c.status !== 'running' && (await this.runtime.pidOf(c.id))) {
        // A start the crash interrupted after its process began: everything was made (the
        // process runs last), so the container is running; recorded now, watched below.
        this.log(`container ${c.name} was started just before the daemon stopped: taking it as running`);
        this.repo.containers.update(c.id, { status: 'running', pid: (await this.runtime.pidOf(c.id)) ?? 0, startedAt: new Date().toISOString(), error: '', exitCode: 0, oomKilled: false });
        c.status = 'running';
        this.emit('start', c.id);
      }
      if (c.status !== 'running') {
        // A start the crash interrupted leaves leases, ports or a mounted root filesystem of a
        // container that is not running: undo them. (Namespaces and runc containers that no
        // running container explains are removed by reconcile's orphan passes.) Checked from the
        // records first, so a daemon with many stopped containers spawns nothing for them.
        if (this.repo.endpoints.list({ containerId: c.id }).length || this.repo.ports.list(c.id).length) {
          this.log(`undoing the interrupted start of ${c.name}`);
          await this.cleanup(c);
        } else {
          await this.runtime.unmountRootfs(c.id).catch((e) => this.log(`unmounting ${c.name}: ${describe(e)}`));
        }
        // Restart policies at daemon start (started once the daemon is up: resumeRestarts).
        this.restarts.atDaemonStart(this.get(c.id));
        continue;
      }
      try {
        await this.watch(c.id);
        await this.attachments.completeConnects(c, new Set(this.repo.endpoints.list({ containerId: c.id }).map((e) => e.networkId)));
        await this.sandboxes.restoreDns(this.get(c.id)).catch((e) => this.log(`embedded DNS of ${c.name}: ${describe(e)}`));
      } catch {
        // The shim is gone: the container ended while no daemon was watching.
        const code = (await this.runtime.exitCode(c.id)) ?? 255;
        this.log(`container ${c.name} exited (${code}) while the daemon was down`);
        await this.exited(c.id, code);
        // Not restarted as a crash (a user stopped it): Docker's rule at daemon start applies.
        const now = this.repo.containers.get(c.id);
        if (now) this.restarts.atDaemonStart(now);
      }
    }
  }

  /** The daemon is up (reconciled): restarts scheduled meanwhile and those of the restart policies at daemon start go ahead. */
  resumeRestarts(): void {
    this.restarts.resume();
  }

  /** Stops watching (the daemon is shutting down; containers keep running). */
  close(): void {
    this.closing = true;
    this.restarts.close();
    for (const s of this.monitors.values()) s.destroy();
    this.monitors.clear();
  }
}

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
 * and network connect/disconnect as a container's endpoints come and go.
 *
 * Limitations: no restart policies, no volumes.
 */
import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { CONTAINER_MODE_PREFIX, ContainerSpec, EndpointConfig, modeOf, randomName, VALID_NAME } from '../../base/container-spec';
import { describe, EngineError } from '../../base/errors';
import { containerAttributes, EngineEvents } from '../../base/events';
import { signalName, signalNumber } from '../../base/signals';
import { stopSignalOf, stopTimeoutOf } from '../../base/container-defaults';
import { Container } from '../../base/model';
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
import { withPath } from './process-env';
import { resolvConf } from './resolv-conf';
import { Stdio } from './stdio';
import { resolveLinks, withoutLink } from './links';
import { withCommittedDefaults } from './image-defaults';
import { namespaceBundle, resolveNamespaceModes } from './namespaces';

export class Containers extends EventEmitter {
  private readonly mutex = new KeyedMutex();
  private readonly monitors = new Map<string, Socket>();
  private readonly attachments: NetworkAttachments;
  private closing = false;

  constructor(
    private readonly repo: Pick<Repos, 'containers' | 'endpoints' | 'ports'>,
    private readonly images: ImageStore,
    private readonly runtime: ContainerRuntime,
    private readonly sandboxes: Sandboxes,
    private readonly networks: Networks,
    private readonly stdio: Stdio,
    private readonly log: (msg: string) => void = () => {},
    private readonly events: EngineEvents = new EngineEvents(),
  ) {
    super();
    this.setMaxListeners(0);
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

  create(name: string | undefined, imageRef: string, spec: ContainerSpec): Container {
    const image = this.images.get(imageRef);
    if (name !== undefined && name !== '') {
      const n = name.replace(/^\//, '');
      if (!VALID_NAME.test(n)) throw new EngineError('INVALID_PARAMETER', `Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      name = n;
    } else {
      name = randomName((n) => this.repo.containers.get(n) !== undefined);
    }
    spec = withCommittedDefaults(spec, image);
    if (spec.cmd.length === 0 && spec.entrypoint.length === 0) {
      throw new EngineError('INVALID_PARAMETER', 'No command specified', { hint: 'give the command after the image name, e.g. `busybox sh`' });
    }
    spec = this.attachments.check(spec);
    spec = resolveLinks(spec, name, (r) => this.repo.containers.get(r));
    spec = resolveNamespaceModes(spec, (r) => this.repo.containers.get(r));
    const id = newId();
    if (!spec.hostname && modeOf(spec.networkMode).kind !== 'host') spec = { ...spec, hostname: shortId(id) };
    const c: Container = { id, name, imageId: image.id, image: imageRef, spec, status: 'created', pid: 0, exitCode: 0, error: '', created: new Date().toISOString() };
    this.repo.containers.insert(c);
    this.emit('create', id);
    this.note('create', c);
    return c;
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
    await this.mutex.run(c0.id, () => this.startLocked(c0.id));
  }

  private async startLocked(id: string): Promise<void> {
    const c = this.get(id);
    if (c.status === 'running') throw new NotModified();
    const image = this.images.get(c.imageId);
    const undo: (() => Promise<void>)[] = [];
    try {
      const rootfs = await this.runtime.mountRootfs(c.id, image.layers);
      undo.push(() => this.runtime.unmountRootfs(c.id));
      const netns = await this.sandboxes.setup(c);
      undo.push(() => this.sandboxes.teardown(c));
      const eps = this.repo.endpoints.list({ containerId: c.id });
      const { spec } = c;
      const pending = await this.runtime.prepare(
        {
          id: c.id,
          rootfs,
          hostname: spec.hostname,
          netns,
          process: { args: [...spec.entrypoint, ...spec.cmd], env: withPath(spec.env), cwd: spec.workingDir || '/', tty: spec.tty, consoleSize: spec.consoleSize },
          hosts: eps.map((e) => `${e.ip}\t${spec.hostname}`),
          resolvConf: await resolvConf(spec, netns === 'host', this.networks),
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
      this.repo.containers.update(c.id, { status: 'running', pid, startedAt: new Date().toISOString(), finishedAt: undefined, error: '', exitCode: 0, paused: false });
      for (const ep of eps) this.networkEvent('connect', c, ep.networkId);
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
      if (c.spec.autoRemove) await this.removeLocked(c.id, code);
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
      this.repo.containers.update(id, { status: 'exited', exitCode: code, pid: 0, finishedAt: new Date().toISOString(), paused: false });
      this.note('die', c, { exitCode: String(code) });
      const eps = this.repo.endpoints.list({ containerId: id });
      const clean = await this.cleanup(c);
      for (const ep of eps) this.networkEvent('disconnect', c, ep.networkId);
      this.emit('exit', id, code);
      if (c.spec.autoRemove) await this.removeLocked(id, code, clean);
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

  /**
   * Docker's stop: the stop signal (--stop-signal, SIGTERM), then SIGKILL after the timeout
   * (`t`, else --stop-timeout, else 10 s). `signal` (API 1.42+) overrides the stop signal.
   */
  async stop(idOrName: string, timeoutSec?: number, signal?: string): Promise<void> {
    const c = this.get(idOrName);
    if (c.status !== 'running') throw new NotModified();
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
    if (c.status !== 'running') {
      throw new EngineError('CONTAINER_NOT_RUNNING', `Cannot kill container: ${idOrName}: Container ${c.id} is not running`);
    }
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

  async remove(idOrName: string, force = false): Promise<void> {
    const c = this.get(idOrName);
    const joined = this.joinedTo(c.id).filter((o) => o.status === 'running');
    if (joined.length && !force) {
      throw new EngineError('CONTAINER_IN_USE', `cannot remove container ${c.name}: containers ${joined.map((o) => o.name).join(', ')} use its network namespace`, {
        hint: 'remove those first, or force with -f (they lose their network)',
      });
    }
    if (c.status === 'running') {
      if (c.paused && !force) {
        throw new EngineError('CONTAINER_PAUSED', `You cannot remove a paused container ${c.id}. Unpause and then stop the container before attempting removal or force remove`, { hint: 'ctrnet unpause it, or rm -f' });
      }
      if (!force) {
        throw new EngineError('CONTAINER_RUNNING', `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`, { hint: 'ctrnet stop it, or rm -f' });
      }
      // An auto-removed container removes itself when it exits: wait for that instead.
      const done = c.spec.autoRemove ? this.wait(c.id, 'removed') : this.next('exit', c.id);
      await this.signal(c, 'KILL');
      await done;
      if (c.spec.autoRemove) return;
    }
    await this.mutex.run(c.id, () => this.removeLocked(c.id, c.exitCode));
  }

  /** `cleaned`: the exit's cleanup just ran without errors (--rm): a second one would only spawn runc again. */
  private async removeLocked(id: string, code: number, cleaned = false): Promise<void> {
    const c = this.repo.containers.get(id);
    if (!c) return;
    if (c.status === 'running') throw new EngineError('CONTAINER_RUNNING', `container ${c.name} is running`);
    this.repo.containers.update(id, { status: 'removing' });
    if (!cleaned) await this.cleanup(c);
    await this.runtime.removeFiles(id);
    this.repo.containers.delete(id);
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

  // ---------------------------------------------------------------- restore

  /** After a daemon restart: re-watch running containers, finish what a crash interrupted. */
  async restore(): Promise<void> {
    for (const c of this.repo.containers.list()) {
      if (c.status === 'removing') {
        await this.mutex.run(c.id, () => this.removeLocked(c.id, c.exitCode)).catch((e) => this.log(`finishing removal of ${c.name}: ${describe(e)}`));
        continue;
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
        continue;
      }
      try {
        await this.watch(c.id);
        await this.attachments.completeConnects(c, new Set(this.repo.endpoints.list({ containerId: c.id }).map((e) => e.networkId)));
      } catch {
        // The shim is gone: the container ended while no daemon was watching.
        const code = (await this.runtime.exitCode(c.id)) ?? 255;
        this.log(`container ${c.name} exited (${code}) while the daemon was down`);
        await this.exited(c.id, code);
      }
    }
  }

  /** Stops watching (the daemon is shutting down; containers keep running). */
  close(): void {
    this.closing = true;
    for (const s of this.monitors.values()) s.destroy();
    this.monitors.clear();
  }
}

/**
 * Containers: create, start, stop, kill, remove, wait, attach, logs and exec, over the sandbox
 * layer (network), the image store and the runc runtime. Each container's changes are serialised by
 * a per-container mutex. Exits are reported by the shim's monitor connection, also for containers
 * started by an earlier daemon (see restore()).
 *
 * Limitations: no restart policies, no pause, no volumes.
 */
import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { EngineError, describe } from '../base/errors';
import { CONTAINER_MODE_PREFIX, ContainerSpec, randomName, VALID_NAME } from '../base/container-spec';
import { readLog, LogLine } from '../runtime/logs';
import { KeyedMutex } from '../base/mutex';
import { GATEWAY_BRIDGE, Paths, paths, shortId } from '../base/names';
import { Networks, newId } from './networks';
import { Sandboxes, attachments, modeOf } from './sandbox';
import { containerResolvConf, DEFAULT_PATH, ProcessSpec } from '../runtime/bundle';
import { ImageStore } from '../runtime/image-store';
import { RuncRuntime } from '../runtime/runc';
import { connectShim, readExitFile, resizeShim } from '../runtime/shim';
import { FrameReader, frame, STREAM_EXIT, STREAM_STDERR, STREAM_STDOUT } from '../base/frames';
import { ContainerRow, Store } from '../state/store';

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

export interface ExecRecord {
  id: string;
  containerId: string;
  cmd: string[];
  env: string[];
  workingDir: string;
  tty: boolean;
  flags: StreamFlags;
  running: boolean;
  exitCode: number | null;
  pid: number;
}

interface PendingAttach {
  client: Duplex;
  flags: StreamFlags;
  buffered: Buffer[];
  ended: boolean;
  /** stops buffering (the shim takes over) */
  detach?: () => void;
}

/** Thrown when an operation has nothing to do (start of a running container): HTTP 304. */
export class NotModified extends Error {}

/** How Docker turns a failed start into an exit code (and the CLI into its own). */
export function startFailureExitCode(message: string): number {
  if (/executable file not found|no such file or directory/i.test(message)) return 127;
  if (/permission denied/i.test(message)) return 126;
  return 125;
}

export class Containers extends EventEmitter {
  private readonly mutex = new KeyedMutex();
  private readonly pending = new Map<string, PendingAttach[]>();
  private readonly monitors = new Map<string, net.Socket>();
  readonly execs = new Map<string, ExecRecord>();
  private closing = false;

  constructor(
    private readonly p: Paths,
    private readonly store: Store,
    private readonly images: ImageStore,
    private readonly runtime: RuncRuntime,
    private readonly sandboxes: Sandboxes,
    private readonly networks: Networks,
    private readonly log: (msg: string) => void = () => {},
  ) {
    super();
    this.setMaxListeners(0);
  }

  get(idOrName: string): ContainerRow {
    const c = this.store.container(idOrName);
    if (!c) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${idOrName}`);
    return c;
  }

  spec(c: ContainerRow): ContainerSpec {
    return JSON.parse(c.spec) as ContainerSpec;
  }

  list(): ContainerRow[] {
    return this.store.containers();
  }

  // ---------------------------------------------------------------- create

  create(name: string | undefined, imageRef: string, spec: ContainerSpec): ContainerRow {
    const image = this.images.get(imageRef);
    if (name !== undefined && name !== '') {
      const n = name.replace(/^\//, '');
      if (!VALID_NAME.test(n)) throw new EngineError('INVALID_PARAMETER', `Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      name = n;
    } else {
      name = randomName((n) => this.store.container(n) !== undefined);
    }
    if (spec.cmd.length === 0 && spec.entrypoint.length === 0) {
      throw new EngineError('INVALID_PARAMETER', 'No command specified', { hint: 'give the command after the image name, e.g. `busybox sh`' });
    }
    const networkMode = this.checkNetworkMode(spec);
    spec = { ...spec, networkMode };
    const id = newId();
    if (!spec.hostname && modeOf(spec.networkMode).kind !== 'host') spec.hostname = shortId(id);
    const row: ContainerRow = {
      id, name, image_id: image.id, image: imageRef, spec: JSON.stringify(spec), status: 'created',
      pid: 0, exit_code: 0, error: '', created: new Date().toISOString(), started_at: null, finished_at: null,
    };
    this.store.insertContainer(row);
    this.emit('create', id);
    return row;
  }

  /** Validates the network mode and its conflicting options; returns it normalised. */
  private checkNetworkMode(spec: ContainerSpec): string {
    const mode = modeOf(spec.networkMode || 'bridge');
    const conflict = (what: string) =>
      new EngineError('CONFLICTING_OPTIONS', `conflicting options: ${what} and the network mode`, { hint: `drop ${what} or use another --network` });
    switch (mode.kind) {
      case 'host':
        return 'host';
      case 'none':
        if (spec.portBindings.length) throw conflict('port publishing');
        return 'none';
      case 'container': {
        if (spec.portBindings.length) throw conflict('port publishing');
        if (spec.hostname) throw conflict('hostname');
        if (spec.dns.length) throw conflict('DNS servers');
        if (spec.macAddress) throw conflict('MAC address');
        if (Object.values(spec.networks).some((n) => n.aliases.length)) throw conflict('network aliases');
        const target = this.store.container(mode.target);
        if (!target) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${mode.target}`);
        return `${CONTAINER_MODE_PREFIX}${target.id}`;
      }
      case 'network': {
        const row = this.networks.get(mode.network);
        if (row.driver === 'host') return 'host';
        if (row.driver === 'null') return 'none';
        // Endpoint settings are keyed by the network's name, the primary network's always present.
        // (Docker's CLI says "default" for the default bridge, in both places.)
        const keys = [spec.networkMode, mode.network, row.name, row.id];
        const cfg = keys.map((k) => spec.networks[k]).find(Boolean) ?? { aliases: [] };
        for (const k of keys) delete spec.networks[k];
        spec.networks = { [row.name]: cfg, ...spec.networks };
        this.checkEndpointConfig(row.name, cfg);
        return row.name;
      }
    }
  }

  /** Docker's rule: addresses and aliases are chosen on user-defined networks only. */
  private checkEndpointConfig(network: string, cfg: { ipv4?: string; aliases: string[] }): void {
    const row = this.networks.get(network);
    if (!this.networks.isPredefined(row)) return;
    if (cfg.ipv4) throw new EngineError('INVALID_PARAMETER', 'user specified IP address is supported on user defined networks only', { hint: 'create a network with `ctrnet network create` and use --network NAME --ip IP' });
    if (cfg.aliases.length) throw new EngineError('INVALID_PARAMETER', 'network-scoped alias is supported only for containers in user defined networks', { hint: 'use a user-defined network' });
  }

  // ---------------------------------------------------------------- networks of a container

  async connect(networkRef: string, idOrName: string, cfg: { ipv4?: string; aliases: string[] }): Promise<void> {
    const net = this.networks.get(networkRef);
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, async () => {
      const c = this.get(c0.id);
      const spec = this.spec(c);
      const mode = modeOf(spec.networkMode);
      if (mode.kind === 'container' || mode.kind === 'host') {
        throw new EngineError('CONFLICTING_OPTIONS', 'container sharing network namespace with another container or host cannot be connected to any other network');
      }
      if (mode.kind === 'none' || !this.networks.driver(net)) {
        throw new EngineError('CONFLICTING_OPTIONS', `container cannot be connected to ${net.name} with network mode ${spec.networkMode}`, { hint: 'none, host and container modes cannot be combined with networks' });
      }
      if (attachments(spec).includes(net.name)) {
        throw new EngineError('NAME_IN_USE', `endpoint with name ${c.name} already exists in network ${net.name}`);
      }
      this.checkEndpointConfig(net.name, cfg);
      const next = { ...spec, networks: { ...spec.networks, [net.name]: cfg } };
      // Recorded before the kernel is touched, undone on failure: a crash in between leaves a
      // record that the next start (or reconcile) completes, never an unexplained interface.
      this.store.updateContainer(c.id, { spec: JSON.stringify(next) });
      try {
        if (c.status === 'running') await this.sandboxes.connect(c, next, net.name);
      } catch (e) {
        this.store.updateContainer(c.id, { spec: c.spec });
        throw e;
      }
      this.emit('connect', c.id);
    });
  }

  async disconnect(networkRef: string, idOrName: string): Promise<void> {
    const net = this.networks.get(networkRef);
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, async () => {
      const c = this.get(c0.id);
      const spec = this.spec(c);
      if (!attachments(spec).includes(net.name)) {
        throw new EngineError('INVALID_PARAMETER', `container ${c.name} is not connected to network ${net.name}`);
      }
      const networks = { ...spec.networks };
      delete networks[net.name];
      // Leaving the primary network: the next one becomes primary, as its interface order says.
      const remaining = attachments({ ...spec, networks }).filter((n) => n !== net.name);
      const networkMode = spec.networkMode === net.name ? (remaining[0] ?? 'none') : spec.networkMode;
      this.store.updateContainer(c.id, { spec: JSON.stringify({ ...spec, networks, networkMode }) });
      if (c.status === 'running') await this.sandboxes.disconnect(c, net.id);
      this.emit('disconnect', c.id);
    });
  }

  rename(idOrName: string, name: string): void {
    const c = this.get(idOrName);
    const n = name.replace(/^\//, '');
    if (!VALID_NAME.test(n)) throw new EngineError('INVALID_PARAMETER', `Invalid container name (${n}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
    const other = this.store.container(n);
    if (other && other.name === n) throw new EngineError('NAME_IN_USE', `Conflict. The container name "/${n}" is already in use by container "${other.id}"`);
    this.store.updateContainer(c.id, { name: n });
    this.emit('rename', c.id);
  }

  // ---------------------------------------------------------------- start

  async start(idOrName: string): Promise<void> {
    const c0 = this.get(idOrName);
    await this.mutex.run(c0.id, () => this.startLocked(c0.id));
  }

  private async startLocked(id: string): Promise<void> {
    const c = this.get(id);
    if (c.status === 'running') throw new NotModified();
    const spec = this.spec(c);
    const image = this.images.get(c.image_id);
    const undo: (() => Promise<void>)[] = [];
    try {
      const rootfs = await this.runtime.mountRootfs(c.id, image.rootfs);
      undo.push(() => this.runtime.unmountRootfs(c.id));
      const netns = await this.sandboxes.setup(c, spec);
      undo.push(() => this.sandboxes.teardown(c));
      const eps = this.store.endpoints({ containerId: c.id });
      await mkdir(paths.containerData(this.p, c.id), { recursive: true });
      const shim = await this.runtime.prepare(
        {
          id: c.id,
          rootfs,
          hostname: spec.hostname,
          netns,
          process: { args: [...spec.entrypoint, ...spec.cmd], env: withPath(spec.env), cwd: spec.workingDir || '/', tty: spec.tty },
          hosts: eps.map((e) => `${e.ip}\t${spec.hostname}`),
          resolvConf: await this.resolvConf(spec, netns),
        },
        { stdin: spec.openStdin, logFile: `${paths.containerData(this.p, c.id)}/log` },
      );
      undo.push(() => this.runtime.delete(c.id));
      const dir = this.runtime.shimDir(c.id);
      try {
        await this.watch(c.id, dir);
        for (const a of this.pending.get(c.id) ?? []) await this.connectAttach(dir, a, spec.tty, spec.openStdin);
      } catch (e) {
        shim.abort();
        throw e;
      }
      this.pending.delete(c.id);
      const pid = await shim.go().catch((e: Error) => {
        // A command that is missing or not executable is the user's to fix (400, as Docker); the rest is ours.
        const code = startFailureExitCode(e.message) === 125 ? 'RUNTIME_FAILED' : 'INVALID_PARAMETER';
        throw new EngineError(code, `failed to start container ${c.name}: ${e.message}`, { cause: e });
      });
      this.store.updateContainer(c.id, { status: 'running', pid, started_at: new Date().toISOString(), finished_at: null, error: '', exit_code: 0 });
      this.emit('start', c.id);
    } catch (e) {
      const errors: unknown[] = [];
      for (const u of undo.reverse()) await u().catch((e2) => errors.push(e2));
      for (const err of errors) this.log(`start rollback of ${c.name}: ${describe(err)}`);
      const msg = describe(e);
      const code = startFailureExitCode(msg);
      this.store.updateContainer(c.id, { error: msg, exit_code: code });
      for (const a of this.pending.get(c.id) ?? []) a.client.destroy();
      this.pending.delete(c.id);
      this.emit('exit', c.id, code);
      if (spec.autoRemove) await this.removeLocked(c.id, code);
      throw e;
    }
  }

  /**
   * --dns when given; on a user-defined network the embedded resolver at its gateway (as Docker's
   * 127.0.0.11); otherwise the host's, filtered as Docker does.
   */
  private async resolvConf(spec: ContainerSpec, netns: string): Promise<string> {
    if (spec.dns.length) return spec.dns.map((d) => `nameserver ${d}`).join('\n') + '\n';
    const first = attachments(spec)[0];
    let row = first ? this.networks.get(first) : undefined;
    // An overlay has no address on the host: its containers ask the resolver on the gateway bridge.
    if (row?.driver === 'overlay' && row.internal === 0) row = this.store.network(GATEWAY_BRIDGE);
    if (row && this.networks.isUserDefined(row)) return `nameserver ${row.gateway}\noptions ndots:0\n`;
    return containerResolvConf(netns === 'host');
  }

  /** Connects the monitor: its exit frame (or its loss) ends the container. */
  private async watch(id: string, dir: string): Promise<void> {
    const sock = await connectShim(dir, 'M');
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
        const exit = code ?? (await readExitFile(dir));
        const c = this.store.container(id);
        // A start that failed never ran the process: that is startLocked's to clean up.
        if (c?.status !== 'running') return;
        await this.exited(id, exit ?? 255);
      })().catch((e) => this.log(`handling the exit of ${id}: ${describe(e)}`));
    });
  }

  /** The process ended: record it, free its network and files, auto-remove when asked. */
  private async exited(id: string, code: number): Promise<void> {
    await this.mutex.run(id, async () => {
      const c = this.store.container(id);
      if (!c || c.status !== 'running') return;
      this.store.updateContainer(id, { status: 'exited', exit_code: code, pid: 0, finished_at: new Date().toISOString() });
      const clean = await this.cleanup(c);
      this.emit('exit', id, code);
      if (this.spec(c).autoRemove) await this.removeLocked(id, code, clean);
    });
  }

  /** Frees what a stopped container holds; true when nothing failed. */
  private async cleanup(c: ContainerRow): Promise<boolean> {
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

  // ---------------------------------------------------------------- stop, kill, remove

  /** Resolves with the exit code at the container's next exit. */
  private nextExit(id: string): Promise<number> {
    return this.next('exit', id);
  }

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

  async stop(idOrName: string, timeoutSec = 10): Promise<void> {
    const c = this.get(idOrName);
    if (c.status !== 'running') throw new NotModified();
    const exit = this.nextExit(c.id);
    await this.runtime.kill(c.id, 'TERM');
    const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutSec * 1000).unref());
    if ((await Promise.race([exit, timer])) === 'timeout') {
      await this.runtime.kill(c.id, 'KILL');
      await exit;
    }
  }

  async kill(idOrName: string, signal = 'KILL'): Promise<void> {
    const c = this.get(idOrName);
    if (c.status !== 'running') {
      throw new EngineError('CONTAINER_NOT_RUNNING', `Cannot kill container: ${idOrName}: Container ${c.id} is not running`);
    }
    await this.runtime.kill(c.id, signal.replace(/^SIG/, ''));
  }

  async restart(idOrName: string, timeoutSec = 10): Promise<void> {
    await this.stop(idOrName, timeoutSec).catch((e) => {
      if (!(e instanceof NotModified)) throw e;
    });
    await this.start(idOrName);
  }

  /** Containers whose network is this container's namespace, directly or through a chain. */
  joinedTo(id: string): ContainerRow[] {
    // Only containers in container: mode can be joined; skip parsing everyone else's spec (this runs
    // at every container's exit).
    const all = this.store.containers().filter((o) => o.spec.includes(CONTAINER_MODE_PREFIX));
    const found: ContainerRow[] = [];
    for (let frontier = [id]; frontier.length; ) {
      const next = all.filter((o) => frontier.some((f) => this.spec(o).networkMode === `${CONTAINER_MODE_PREFIX}${f}`) && !found.includes(o));
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
      if (!force) {
        throw new EngineError('CONTAINER_RUNNING', `You cannot remove a running container ${c.id}. Stop the container before attempting removal or force remove`, { hint: 'ctrnet stop it, or rm -f' });
      }
      // An auto-removed container removes itself when it exits: wait for that instead.
      const done = this.spec(c).autoRemove ? this.wait(c.id, 'removed') : this.nextExit(c.id);
      await this.runtime.kill(c.id, 'KILL');
      await done;
      if (this.spec(c).autoRemove) return;
    }
    await this.mutex.run(c.id, () => this.removeLocked(c.id, c.exit_code));
  }

  /** `cleaned`: the exit's cleanup just ran without errors (--rm): a second one would only spawn runc again. */
  private async removeLocked(id: string, code: number, cleaned = false): Promise<void> {
    const c = this.store.container(id);
    if (!c) return;
    if (c.status === 'running') throw new EngineError('CONTAINER_RUNNING', `container ${c.name} is running`);
    this.store.updateContainer(id, { status: 'removing' });
    if (!cleaned) await this.cleanup(c);
    await rm(paths.containerData(this.p, id), { recursive: true, force: true });
    this.store.deleteContainer(id);
    this.emit('removed', id, code);
  }

  // ---------------------------------------------------------------- wait

  /** Docker's wait conditions: not-running (default), next-exit, removed. */
  async wait(idOrName: string, condition = 'not-running'): Promise<number> {
    const c = this.get(idOrName);
    if (condition === 'removed') return this.next('removed', c.id);
    if (condition === 'next-exit' || c.status === 'running') return this.nextExit(c.id);
    return c.exit_code;
  }

  // ---------------------------------------------------------------- attach and logs

  /**
   * Attaches a client connection (already switched to a raw stream) to a container's stdio: before
   * start it waits for the start (stdin is buffered); while running it joins at once.
   */
  async attach(idOrName: string, client: Duplex, flags: StreamFlags): Promise<void> {
    const c = this.get(idOrName);
    const spec = this.spec(c);
    const a: PendingAttach = { client, flags, buffered: [], ended: false };
    if (c.status === 'running') {
      await this.connectAttach(this.runtime.shimDir(c.id), a, spec.tty, spec.openStdin);
      return;
    }
    if (c.status !== 'created' && c.status !== 'exited') {
      throw new EngineError('CONTAINER_NOT_RUNNING', `You cannot attach to a container that is ${c.status}`);
    }
    const onData = (d: Buffer) => a.buffered.push(d);
    const onEnd = () => (a.ended = true);
    client.on('data', onData);
    client.on('end', onEnd);
    client.once('close', () => {
      const list = this.pending.get(c.id)?.filter((x) => x !== a);
      if (list?.length) this.pending.set(c.id, list);
      else this.pending.delete(c.id);
    });
    a.detach = () => {
      client.off('data', onData);
      client.off('end', onEnd);
    };
    this.pending.set(c.id, [...(this.pending.get(c.id) ?? []), a]);
    client.resume();
  }

  private async connectAttach(dir: string, a: PendingAttach, tty: boolean, openStdin: boolean): Promise<void> {
    a.detach?.();
    const withStdin = a.flags.stdin && openStdin;
    const sock = await connectShim(dir, withStdin ? 'A' : 'O');
    pipeStreams(sock, a.client, tty, a.flags, withStdin);
    if (withStdin) {
      for (const b of a.buffered) sock.write(b);
      if (a.ended) sock.end();
    }
  }

  async resize(idOrName: string, rows: number, cols: number): Promise<void> {
    const c = this.get(idOrName);
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
    await resizeShim(this.runtime.shimDir(c.id), rows, cols);
  }

  async logs(idOrName: string): Promise<LogLine[]> {
    const c = this.get(idOrName);
    return readLog(`${paths.containerData(this.p, c.id)}/log`);
  }

  /** Output-only connection to a running container, for `logs -f`; undefined when not running. */
  async follow(idOrName: string): Promise<net.Socket | undefined> {
    const c = this.get(idOrName);
    if (c.status !== 'running') return undefined;
    return connectShim(this.runtime.shimDir(c.id), 'O').catch(() => undefined);
  }

  // ---------------------------------------------------------------- exec

  execCreate(idOrName: string, e: { cmd: string[]; env: string[]; workingDir: string; tty: boolean; flags: StreamFlags }): string {
    const c = this.get(idOrName);
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`, { hint: 'start it first' });
    if (e.cmd.length === 0) throw new EngineError('INVALID_PARAMETER', 'No exec command specified');
    const id = newId();
    this.execs.set(id, { id, containerId: c.id, ...e, running: false, exitCode: null, pid: 0 });
    return id;
  }

  exec(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new EngineError('EXEC_NOT_FOUND', `No such exec instance: ${id}`);
    return e;
  }

  /**
   * Runs an exec; with a client, streams its stdio until it ends. Resolves when the process started;
   * a start failure is written to the client as Docker does and recorded as exit code 126/127.
   */
  async execStart(id: string, client?: Duplex): Promise<void> {
    const e = this.exec(id);
    const c = this.get(e.containerId);
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
    const spec = this.spec(c);
    const proc: ProcessSpec = { args: e.cmd, env: withPath([...spec.env, ...e.env]), cwd: e.workingDir || spec.workingDir || '/', tty: e.tty };
    const withStdin = e.flags.stdin && !!client;
    const { shim, dir } = await this.runtime.prepareExec(c.id, id, proc, withStdin);
    try {
      const mon = await connectShim(dir, 'M');
      const reader = new FrameReader((stream, payload) => {
        if (stream === STREAM_EXIT) e.exitCode = Number(payload.toString());
      });
      mon.on('data', (d: Buffer) => reader.push(d));
      mon.on('error', () => {});
      mon.on('close', () => {
        e.running = false;
        void rm(dir, { recursive: true, force: true });
        setTimeout(() => this.execs.delete(id), 5 * 60_000).unref();
      });
      if (client) {
        const sock = await connectShim(dir, withStdin ? 'A' : 'O');
        // The docker CLI reads the exit code right after the stream ends: record it first.
        pipeStreams(sock, client, e.tty, e.flags, withStdin, (code) => (e.exitCode = code));
      }
    } catch (err) {
      shim.abort();
      throw err;
    }
    try {
      e.pid = await shim.go();
      e.running = true;
    } catch (err) {
      const msg = `OCI runtime exec failed: ${(err as Error).message}`;
      e.exitCode = startFailureExitCode(msg) === 125 ? 126 : startFailureExitCode(msg);
      if (client) {
        client.end(e.tty ? Buffer.from(msg + '\r\n') : frame(STREAM_STDERR, Buffer.from(msg + '\n')));
      } else {
        throw new EngineError('RUNTIME_FAILED', msg, { cause: err });
      }
    }
  }

  async execResize(id: string, rows: number, cols: number): Promise<void> {
    this.exec(id); // 404 for an unknown exec
    await resizeShim(this.runtime.shimDir(id), rows, cols).catch(() => {
      throw new EngineError('CONTAINER_NOT_RUNNING', `exec ${id} is not running`);
    });
  }

  // ---------------------------------------------------------------- restore

  /** After a daemon restart: re-watch running containers, finish what a crash interrupted. */
  async restore(): Promise<void> {
    for (const c of this.store.containers()) {
      if (c.status === 'removing') {
        await this.mutex.run(c.id, () => this.removeLocked(c.id, c.exit_code)).catch((e) => this.log(`finishing removal of ${c.name}: ${describe(e)}`));
        continue;
      }
      if (c.status !== 'running') {
        // A start the crash interrupted leaves leases, ports or a mounted root filesystem of a
        // container that is not running: undo them. (Namespaces and runc containers that no
        // running container explains are removed by reconcile's orphan passes.) Checked from the
        // records first, so a daemon with many stopped containers spawns nothing for them.
        if (this.store.endpoints({ containerId: c.id }).length || this.store.ports(c.id).length) {
          this.log(`undoing the interrupted start of ${c.name}`);
          await this.cleanup(c);
        } else {
          await this.runtime.unmountRootfs(c.id).catch((e) => this.log(`unmounting ${c.name}: ${describe(e)}`));
        }
        continue;
      }
      const dir = this.runtime.shimDir(c.id);
      try {
        await this.watch(c.id, dir);
        await this.completeConnects(c);
      } catch {
        // The shim is gone: the container ended while no daemon was watching.
        const code = (await readExitFile(dir)) ?? 255;
        this.log(`container ${c.name} exited (${code}) while the daemon was down`);
        await this.exited(c.id, code);
      }
    }
  }

  /**
   * A connect is recorded before the kernel is touched: after a crash, a running container may be
   * recorded on a network it has no interface on yet. Finish those; forget networks that are gone.
   */
  private async completeConnects(c: ContainerRow): Promise<void> {
    const spec = this.spec(c);
    if (modeOf(spec.networkMode).kind !== 'network') return;
    const have = new Set(this.store.endpoints({ containerId: c.id }).map((e) => e.network_id));
    for (const name of attachments(spec)) {
      const net = this.store.network(name);
      if (!net) {
        const networks = { ...spec.networks };
        delete networks[name];
        this.store.updateContainer(c.id, { spec: JSON.stringify({ ...spec, networks }) });
        continue;
      }
      if (have.has(net.id)) continue;
      this.log(`finishing the interrupted connect of ${c.name} to ${name}`);
      await this.sandboxes.connect(c, spec, name).catch((e) => this.log(`connecting ${c.name} to ${name}: ${describe(e)}`));
    }
  }

  /** Stops watching (the daemon is shutting down; containers keep running). */
  close(): void {
    this.closing = true;
    for (const s of this.monitors.values()) s.destroy();
    this.monitors.clear();
  }
}

function withPath(env: string[]): string[] {
  return env.some((e) => e.startsWith('PATH=')) ? env : [DEFAULT_PATH, ...env];
}

/**
 * Joins a shim connection and a client: output frames to the client (raw with a TTY, Docker's
 * multiplexed frames without), the client's bytes to stdin, the client's half-close to the shim
 * (closing stdin), the exit frame to the end of the client's stream.
 */
function pipeStreams(shim: net.Socket, client: Duplex, tty: boolean, flags: StreamFlags, withStdin: boolean, onExit?: (code: number) => void): void {
  const reader = new FrameReader((stream, payload) => {
    if (stream === STREAM_EXIT) {
      onExit?.(Number(payload.toString()));
      client.end();
      shim.destroy();
      return;
    }
    if (tty) {
      if (flags.stdout) client.write(payload);
    } else if ((stream === STREAM_STDOUT && flags.stdout) || (stream === STREAM_STDERR && flags.stderr)) {
      client.write(frame(stream, payload));
    }
  });
  shim.on('data', (d: Buffer) => reader.push(d));
  shim.on('error', () => client.destroy());
  shim.on('close', () => client.end());
  client.on('error', () => shim.destroy());
  client.on('close', () => shim.destroy());
  if (withStdin) {
    client.on('data', (d: Buffer) => shim.write(d));
    client.on('end', () => shim.end());
  }
  // Read the client even without stdin: its half-close must be seen, and its bytes must not pile up.
  client.resume();
}

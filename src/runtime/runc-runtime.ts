/**
 * Running containers with runc. A container's root filesystem is an overlay of its image (read-only
 * lower layer) and its own upper directory; its stdio belongs to a ctrnet-shim, so containers keep
 * running, logging and answering attach when the daemon stops.
 *
 * Implements the ContainerRuntime port (runtime/runtime.ts); the shim protocol is runtime/shim.ts.
 *
 * The process's user is resolved against the container's own /etc/passwd and /etc/group (as
 * Docker does), its HOME set from there when the environment has none, and a missing working
 * directory made (owned by that user), all inside the root (runtime/in-root.ts).
 *
 * Limits are runc's cgroup resources (runtime/cgroups.ts), written at start and changed live by
 * `runc update`.
 */
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CommandFailedError, run } from '../kernel/exec';
import { Paths, paths } from '../base/names';
import { SHM_SIZE } from '../base/container-defaults';
import { EngineError } from '../base/errors';
import { Kernel } from '../kernel/kernel';
import { Socket } from 'node:net';
import { BundleSpec, ProcessSpec, processJson, SharedNamespace, TINI, writeBundle } from './bundle';
import { Change, changes, treeSize } from './changes';
import { LogLine, readLog } from './logs';
import { ContainerRuntime, PendingStart, RootfsDirs, StdioMode } from './runtime';
import { connectShim, readExitFile, resizeShim, ShimMode, startShim } from './shim';
import { CgroupStats, parseRuncStats, systemCpuNs } from './stats';
import { top, Top } from './top';
import { ensureDirInRoot, processUser } from './in-root';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { Resources } from '../base/resources';
import { oomKills, ociUpdate } from './cgroups';

/**
 * The layer under every container's writable one: the mount points of the bundle (/etc/hosts,
 * /etc/hostname, /etc/resolv.conf, /proc, /sys, /dev) exist there, so runc never creates them in
 * the writable layer and `docker diff` and `commit` see only what the process changed (Docker's
 * "-init" layer, /.dockerenv included). --init's mount point is made where it is used only.
 */
const MOUNT_POINT_DIRS = ['proc', 'sys', 'dev', 'etc'];
const MOUNT_POINT_FILES = ['etc/hosts', 'etc/hostname', 'etc/resolv.conf', '.dockerenv'];

const SHIM_MODES: Record<StdioMode, ShimMode> = { attach: 'A', output: 'O', monitor: 'M', follow: 'F' };

export class RuncRuntime implements ContainerRuntime {
  constructor(
    private readonly p: Paths,
    /** mounts the root filesystems */
    private readonly kernel: Kernel,
  ) {}

  private runc(...args: string[]): string[] {
    return ['runc', '--root', paths.runcRoot(this.p), ...args];
  }

  private mountPointLayer(): string {
    return `${this.p.root}/mount-points`;
  }

  /** Makes the mount points' layer once (atomically: concurrent starts may race for it). */
  private async ensureMountPointLayer(): Promise<string> {
    const dir = this.mountPointLayer();
    if (await stat(dir).catch(() => undefined)) return dir;
    const tmp = `${dir}.${randomBytes(4).toString('hex')}`;
    for (const d of MOUNT_POINT_DIRS) await mkdir(`${tmp}/${d}`, { recursive: true });
    for (const f of MOUNT_POINT_FILES) await writeFile(`${tmp}/${f}`, '');
    await rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      await rm(tmp, { recursive: true, force: true });
      // Another start made it first.
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    });
    return dir;
  }

  rootfsDirs(id: string, imageLayers: readonly string[]): RootfsDirs {
    const d = paths.containerData(this.p, id);
    return { upper: `${d}/upper`, work: `${d}/work`, merged: `${d}/rootfs`, lower: [this.mountPointLayer(), ...imageLayers] };
  }

  /** Mounts the container's root filesystem (idempotent) and returns its path. */
  async mountRootfs(id: string, layers: readonly string[]): Promise<string> {
    const dirs = this.rootfsDirs(id, layers);
    await Promise.all([mkdir(dirs.upper, { recursive: true }), mkdir(dirs.work, { recursive: true }), mkdir(dirs.merged, { recursive: true }), this.ensureMountPointLayer()]);
    if (await isMountPoint(dirs.merged)) return dirs.merged;
    // mount(2) takes at most one page of options: say so rather than let the kernel answer EINVAL.
    const options = `lowerdir=${dirs.lower.join(':')},upperdir=${dirs.upper},workdir=${dirs.work}`;
    if (options.length > 4095) {
      throw new EngineError('IMAGE_UNSUPPORTED', `the image's ${layers.length} layers do not fit in one overlayfs mount (${options.length} bytes of options, at most 4095)`, {
        hint: 'use an image with fewer layers, or a shorter --root',
      });
    }
    await this.kernel.mountOverlay(dirs.lower.join(':'), dirs.upper, dirs.work, dirs.merged);
    return dirs.merged;
  }

  etcFiles(id: string): { hosts: string; hostname: string; resolvConf: string } {
    const d = paths.containerData(this.p, id);
    return { hosts: `${d}/hosts`, hostname: `${d}/hostname`, resolvConf: `${d}/resolv.conf` };
  }

  async unmountRootfs(id: string): Promise<void> {
    const merged = `${paths.containerData(this.p, id)}/rootfs`;
    if (await isMountPoint(merged)) await this.kernel.unmount(merged);
  }

  /** Writes the bundle and starts a shim that will `runc run -d` it on `go`. */
  async prepare(b: BundleSpec, io: { stdin: boolean }): Promise<PendingStart> {
    const bundle = paths.bundle(this.p, b.id);
    const dir = paths.shimDir(this.p, b.id);
    await mkdir(paths.containerData(this.p, b.id), { recursive: true });
    if (b.init && !(await stat(TINI).catch(() => undefined))) {
      throw new EngineError('INVALID_PARAMETER', `--init needs ${TINI}, which this host does not have`, { hint: 'apt-get install tini' });
    }
    let shm = b.shm;
    if (shm === 'shareable') {
      shm = this.shmOf(b.id);
      await mkdir(shm, { recursive: true });
      if (!(await isMountPoint(shm))) await this.kernel.mount('shm', shm, { type: 'tmpfs', options: `nosuid,nodev,noexec,mode=1777,size=${Math.ceil((b.resources?.shmSize || SHM_SIZE) / 1024)}k` });
    }
    const user = await processUser(b.rootfs, b.process.user);
    await ensureDirInRoot(b.rootfs, b.process.cwd, user.uid, user.gid);
    const proc = { ...b.process, env: withHome(b.process.env, user.home) };
    await writeBundle(bundle, { ...b, process: proc, shm, etcDir: paths.containerData(this.p, b.id) }, os.hostname(), user);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const argv = this.runc('--log', `${dir}/runc.log`, 'run', '-d', '--pid-file', `${dir}/pid`);
    if (b.process.tty) argv.push('--console-socket', `${dir}/console.sock`);
    argv.push('--bundle', bundle, b.id);
    return startShim({ dir, logFile: this.logPath(b.id), tty: b.process.tty, stdin: io.stdin, argv });
  }

  /** Starts a shim that will `runc exec -d` a process in a running container on `go`. */
  async writeEtcFile(id: string, file: 'resolv.conf' | 'hosts', text: string): Promise<void> {
    // writeFile truncates and writes the same file: the bind mount keeps pointing at it.
    const etc = this.etcFiles(id);
    await writeFile(file === 'hosts' ? etc.hosts : etc.resolvConf, text);
  }

  async prepareExec(containerId: string, execId: string, proc: ProcessSpec, stdin: boolean): Promise<PendingStart> {
    const dir = paths.shimDir(this.p, execId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const user = await processUser(`${paths.containerData(this.p, containerId)}/rootfs`, proc.user);
    // An exec inherits the container's rlimits (--ulimit), as in Docker.
    const config = JSON.parse(await readFile(`${paths.bundle(this.p, containerId)}/config.json`, 'utf8').catch(() => '{}')) as { process?: { rlimits?: unknown } };
    await writeFile(`${dir}/process.json`, JSON.stringify({ ...processJson({ ...proc, env: withHome(proc.env, user.home) }, user), ...(config.process?.rlimits ? { rlimits: config.process.rlimits } : {}) }));
    const argv = this.runc('exec', '-d', '--pid-file', `${dir}/pid`, '--process', `${dir}/process.json`);
    if (proc.tty) argv.push('--console-socket', `${dir}/console.sock`);
    argv.push(containerId);
    return startShim({ dir, tty: proc.tty, stdin, argv });
  }

  connect(id: string, mode: StdioMode): Promise<Socket> {
    return connectShim(paths.shimDir(this.p, id), SHIM_MODES[mode]);
  }

  resize(id: string, rows: number, cols: number): Promise<void> {
    return resizeShim(paths.shimDir(this.p, id), rows, cols);
  }

  exitCode(id: string): Promise<number | undefined> {
    return readExitFile(paths.shimDir(this.p, id));
  }

  logPath(id: string): string {
    return `${paths.containerData(this.p, id)}/log`;
  }

  logs(id: string, upTo?: number): Promise<LogLine[]> {
    return readLog(this.logPath(id), upTo);
  }

  async deleteExec(execId: string): Promise<void> {
    await rm(paths.shimDir(this.p, execId), { recursive: true, force: true });
  }

  async removeFiles(id: string): Promise<void> {
    await rm(paths.containerData(this.p, id), { recursive: true, force: true });
  }

  /** Equivalent to: `runc kill ID SIGNAL`; a container that is already gone is not an error. */
  async kill(id: string, signal: string): Promise<void> {
    try {
      await run(this.runc('kill', id, signal));
    } catch (e) {
      if (e instanceof CommandFailedError && /does not exist|not running|container not running|process already finished/i.test(e.stderr)) return;
      throw e;
    }
  }

  /** Removes runc's record of the container and its bundle and shim files (idempotent). */
  async delete(id: string): Promise<void> {
    try {
      await run(this.runc('delete', '--force', id));
    } catch (e) {
      if (!(e instanceof CommandFailedError && /does not exist/i.test(e.stderr))) throw e;
    }
    await rm(paths.bundle(this.p, id), { recursive: true, force: true });
    await rm(paths.shimDir(this.p, id), { recursive: true, force: true });
    // A shareable /dev/shm lives as long as its container runs, as Docker's does.
    if (await isMountPoint(this.shmOf(id))) await this.kernel.unmount(this.shmOf(id));
  }

  shmOf(id: string): string {
    return `${paths.containerData(this.p, id)}/shm`;
  }

  /** Equivalent to: `runc update --resources - ID` with the container's limits as OCI JSON. */
  async update(id: string, r: Resources): Promise<void> {
    await run(this.runc('update', '--resources', '-', id), { input: JSON.stringify(ociUpdate(r)) });
  }

  async oomKilled(id: string): Promise<boolean> {
    return (await oomKills(id)) > 0;
  }

  async pidOf(id: string): Promise<number | undefined> {
    const dir = paths.shimDir(this.p, id);
    if ((await readExitFile(dir)) !== undefined) return undefined;
    const pid = Number((await readFile(`${dir}/pid`, 'utf8').catch(() => '')).trim());
    if (!(pid > 1)) return undefined;
    try {
      process.kill(pid, 0);
      return pid;
    } catch {
      return undefined; // gone
    }
  }

  async killExec(execId: string): Promise<void> {
    const pid = Number((await readFile(`${paths.shimDir(this.p, execId)}/pid`, 'utf8').catch(() => '')).trim());
    if (!(pid > 1)) return;
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  }

  /** Ids of the containers runc knows under our root. */
  async list(): Promise<string[]> {
    const out = await run(this.runc('list', '-q')).catch(() => '');
    return out.split('\n').filter(Boolean);
  }

  /** Equivalent to: `runc pause ID` */
  async pause(id: string): Promise<void> {
    await run(this.runc('pause', id));
  }

  /** Equivalent to: `runc resume ID` */
  async resume(id: string): Promise<void> {
    await run(this.runc('resume', id));
  }

  /** Equivalent to: `runc ps --format json ID` */
  async pids(id: string): Promise<number[]> {
    const out = await run(this.runc('ps', '--format', 'json', id));
    const pids = JSON.parse(out) as unknown;
    return Array.isArray(pids) ? pids.filter((p): p is number => typeof p === 'number') : [];
  }

  async top(id: string, psArgs: string): Promise<Top> {
    return top(await this.pids(id), psArgs);
  }

  /** Equivalent to: `runc events --stats ID` */
  async stats(id: string): Promise<CgroupStats> {
    const [out, system] = await Promise.all([run(this.runc('events', '--stats', id)), systemCpuNs()]);
    return parseRuncStats(out, system);
  }

  layerSize(id: string): Promise<number> {
    return treeSize(`${paths.containerData(this.p, id)}/upper`);
  }

  changes(id: string, imageLayers: readonly string[]): Promise<Change[]> {
    const dirs = this.rootfsDirs(id, imageLayers);
    return changes(dirs.upper, dirs.lower);
  }

  namespaceOf(pid: number, type: 'pid' | 'ipc'): SharedNamespace {
    return { path: `/proc/${pid}/ns/${type}` };
  }
}

/** Docker's HOME: the user's home from passwd, unless the environment sets one. */
function withHome(env: string[], home: string): string[] {
  return env.some((e) => e.startsWith('HOME=')) ? env : [...env, `HOME=${home}`];
}

/** A mount point is on another device than its parent: O(1), where reading mountinfo grows with every container. */
async function isMountPoint(dir: string): Promise<boolean> {
  const [d, parent] = await Promise.all([stat(dir).catch(() => undefined), stat(path.dirname(dir)).catch(() => undefined)]);
  return !!d && !!parent && d.dev !== parent.dev;
}

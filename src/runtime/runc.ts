/**
 * Running containers with runc. A container's root filesystem is an overlay of its image (read-only
 * lower layer) and its own upper directory; its stdio belongs to a ctrnet-shim, so containers keep
 * running, logging and answering attach when the daemon stops.
 *
 * Limitations: no cgroup resource limits; one user (root) in the container.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CommandFailedError, run } from '../kernel/exec';
import { Paths, paths } from '../base/names';
import { Kernel } from '../kernel/kernel';
import { BundleSpec, ProcessSpec, processJson, writeBundle } from './bundle';
import { PendingShim, startShim } from './shim';
import { writeFile } from 'node:fs/promises';
import os from 'node:os';

export class RuncRuntime {
  constructor(
    private readonly p: Paths,
    /** mounts the root filesystems */
    private readonly kernel: Kernel,
  ) {}

  private runc(...args: string[]): string[] {
    return ['runc', '--root', paths.runcRoot(this.p), ...args];
  }

  /** Mounts the container's root filesystem (idempotent) and returns its path. */
  async mountRootfs(id: string, imageRootfs: string): Promise<string> {
    const d = paths.containerData(this.p, id);
    const merged = `${d}/rootfs`;
    await Promise.all([mkdir(`${d}/upper`, { recursive: true }), mkdir(`${d}/work`, { recursive: true }), mkdir(merged, { recursive: true })]);
    if (await isMountPoint(merged)) return merged;
    await this.kernel.mountOverlay(imageRootfs, `${d}/upper`, `${d}/work`, merged);
    return merged;
  }

  async unmountRootfs(id: string): Promise<void> {
    const merged = `${paths.containerData(this.p, id)}/rootfs`;
    if (await isMountPoint(merged)) await this.kernel.unmount(merged);
  }

  /** Writes the bundle and starts a shim that will `runc run -d` it on `go`. */
  async prepare(b: BundleSpec, io: { stdin: boolean; logFile: string }): Promise<PendingShim> {
    const bundle = paths.bundle(this.p, b.id);
    const dir = paths.shimDir(this.p, b.id);
    await writeBundle(bundle, b, os.hostname());
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const argv = this.runc('--log', `${dir}/runc.log`, 'run', '-d', '--pid-file', `${dir}/pid`);
    if (b.process.tty) argv.push('--console-socket', `${dir}/console.sock`);
    argv.push('--bundle', bundle, b.id);
    return startShim({ dir, logFile: io.logFile, tty: b.process.tty, stdin: io.stdin, argv });
  }

  /** Starts a shim that will `runc exec -d` a process in a running container on `go`. */
  async prepareExec(containerId: string, execId: string, proc: ProcessSpec, stdin: boolean): Promise<{ shim: PendingShim; dir: string }> {
    const dir = paths.shimDir(this.p, execId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    await writeFile(`${dir}/process.json`, JSON.stringify(processJson(proc)));
    const argv = this.runc('exec', '-d', '--pid-file', `${dir}/pid`, '--process', `${dir}/process.json`);
    if (proc.tty) argv.push('--console-socket', `${dir}/console.sock`);
    argv.push(containerId);
    return { shim: await startShim({ dir, tty: proc.tty, stdin, argv }), dir };
  }

  shimDir(id: string): string {
    return paths.shimDir(this.p, id);
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
  }

  /** Ids of the containers runc knows under our root. */
  async list(): Promise<string[]> {
    const out = await run(this.runc('list', '-q')).catch(() => '');
    return out.split('\n').filter(Boolean);
  }
}

/** A mount point is on another device than its parent: O(1), where reading mountinfo grows with every container. */
async function isMountPoint(dir: string): Promise<boolean> {
  const [d, parent] = await Promise.all([stat(dir).catch(() => undefined), stat(path.dirname(dir)).catch(() => undefined)]);
  return !!d && !!parent && d.dev !== parent.dev;
}

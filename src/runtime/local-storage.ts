/**
 * The `local` volume driver and the host paths of bind mounts (implements runtime/storage.ts).
 * A volume's data is ROOT/volumes/NAME/_data; a volume created with options (type, o, device)
 * has that directory mounted over (a tmpfs, a bind of a host directory) through the Kernel port
 * while containers use it, as Docker's local driver does.
 *
 * Limitations: no quota (`size` option); `o=addr=…` (NFS) is passed to mount(2) as it is, without
 * Docker's address resolution.
 */
import { lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Paths, paths } from '../base/names';
import { run } from '../kernel/exec';
import { Kernel, KernelError } from '../kernel/kernel';
import { Storage, VolumeRef } from './storage';

export class LocalStorage implements Storage {
  constructor(
    private readonly p: Paths,
    private readonly kernel: Kernel,
  ) {}

  volumePath(name: string): string {
    return paths.volumeData(this.p, name);
  }

  async createVolume(name: string): Promise<void> {
    await mkdir(this.volumePath(name), { recursive: true, mode: 0o755 });
  }

  async removeVolume(name: string): Promise<number> {
    const data = this.volumePath(name);
    // Never delete through a mount: the data of a bind volume is the user's directory.
    while (await mountedAt(data)) await this.kernel.unmount(data);
    const bytes = await du(data);
    await rm(path.dirname(data), { recursive: true, force: true });
    return bytes;
  }

  volumeSize(name: string): Promise<number> {
    return du(this.volumePath(name));
  }

  async mountVolume(v: VolumeRef): Promise<void> {
    const o = v.options ?? {};
    if (!o.type && !o.device) return;
    const data = this.volumePath(v.name);
    await mkdir(data, { recursive: true });
    if (await mountedAt(data)) return;
    const device = o.device ?? o.type;
    try {
      await this.kernel.mount(device, data, { type: o.type || 'none', options: o.o ?? '' });
    } catch (e) {
      const why = e instanceof KernelError && e.errno === 'ENOENT' ? 'no such file or directory' : (e as Error).message;
      throw new Error(`error while mounting volume '${data}': failed to mount local volume: mount ${device}:${data}, options: ${o.o || 'none'}: ${why}`, { cause: e });
    }
  }

  async unmountVolume(v: VolumeRef): Promise<void> {
    const o = v.options ?? {};
    if (!o.type && !o.device) return;
    const data = this.volumePath(v.name);
    while (await mountedAt(data)) await this.kernel.unmount(data);
  }

  async copyUp(rootfs: string, target: string, name: string): Promise<boolean> {
    const data = this.volumePath(name);
    const entries = await readdir(data).catch(() => ['(missing)']);
    if (entries.length) return false;
    const from = await insideWithoutLinks(rootfs, target);
    if (!from) return false;
    const src = await stat(from).catch(() => undefined);
    if (!src?.isDirectory()) return false;
    // `cp -a SRC/. DST`: the files with owners, modes and times, and SRC's own owner and mode on DST.
    await run(['cp', '-a', '--', `${from}/.`, data], { timeoutMs: 600_000 });
    return true;
  }

  async hostPath(p: string, create: boolean): Promise<boolean> {
    if (await stat(p).then(() => true, () => false)) return true;
    if (!create) return false;
    await mkdir(p, { recursive: true, mode: 0o755 });
    return true;
  }
}

/**
 * Something is mounted at `dir`, by the mount table: a bind of a directory of the same filesystem
 * has the same device as its parent, so comparing devices cannot tell (and a wrong "no" here
 * would delete a user's files through the mount).
 */
async function mountedAt(dir: string): Promise<boolean> {
  const table = await readFile('/proc/self/mountinfo', 'utf8');
  // mount points are field 5, with white space escaped as \040 (volume paths have none)
  return table.split('\n').some((l) => l.split(' ')[4] === dir);
}

/**
 * `target` inside a container's root, reached without a symbolic link (or undefined): an image
 * could otherwise point a VOLUME directory at the host's own files (/etc) and have them copied.
 */
async function insideWithoutLinks(rootfs: string, target: string): Promise<string | undefined> {
  let cur = rootfs;
  for (const part of target.split('/').filter(Boolean)) {
    if (part === '..') return undefined;
    cur = `${cur}/${part}`;
    const s = await lstat(cur).catch(() => undefined);
    if (!s || s.isSymbolicLink()) return undefined;
  }
  return cur;
}

/** The bytes of the files under a directory, not crossing into other filesystems. */
async function du(dir: string): Promise<number> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top) return 0;
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = `${d}/${e.name}`;
      const s = await lstat(full).catch(() => undefined);
      if (!s || s.dev !== top.dev) continue;
      if (s.isDirectory()) await walk(full);
      else total += s.size;
    }
  };
  await walk(dir);
  return total;
}

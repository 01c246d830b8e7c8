/**
 * A container's mounts, from its request to its bundle. At create (`settle`): mounts copied from
 * --volumes-from containers, the image's VOLUMEs, duplicates refused, anonymous volumes named and
 * made, named volumes made on first use, a `--mount type=bind` source checked (Docker's rule: it
 * must exist; a `-v` one is made at start). At start (`prepare`): the host paths of `-v` binds
 * made, volumes with options mounted on the host, an empty volume filled from the image's files
 * at its mount point, and the list runc mounts. After a run (`release`): a volume with options is
 * unmounted when no container uses it any more.
 */
import { ContainerSpec, mountsOf } from '../../base/container-spec';
import { EngineError } from '../../base/errors';
import { Container } from '../../base/model';
import { MountPoint, parseVolumesFrom } from '../../base/mount-spec';
import { KeyedMutex } from '../../base/mutex';
import { Image } from '../../images/image-store';
import { BundleMount } from '../../runtime/runtime';
import { Storage } from '../../runtime/storage';
import { Repos } from '../../state/repos';
import { Volumes } from '../volumes';

export class ContainerStorage {
  /** containers holding each volume with options between prepare and release */
  private readonly holders = new Map<string, Set<string>>();
  private readonly mutex = new KeyedMutex();

  constructor(
    private readonly volumes: Volumes,
    private readonly storage: Storage,
    private readonly repo: Pick<Repos, 'containers'>,
  ) {}

  /**
   * The container's mounts as they will be made (spec.mounts holds what was asked: binds, mounts,
   * tmpfs, Config.Volumes). Volumes it makes are undone if a later step fails.
   */
  async settle(spec: ContainerSpec, image: Image): Promise<MountPoint[]> {
    const asked = mountsOf(spec);
    const out: MountPoint[] = [];
    const taken = new Set<string>();
    for (const m of asked.filter((x) => x.origin !== 'volumes')) {
      if (taken.has(m.target)) throw new EngineError('INVALID_PARAMETER', `Duplicate mount point: ${m.target}`, { hint: 'mount one thing per path' });
      taken.add(m.target);
      out.push({ ...m });
    }
    for (const raw of spec.volumesFrom ?? []) {
      const { container, mode } = parseVolumesFrom(raw);
      const from = this.repo.containers.get(container);
      if (!from) throw new EngineError('INVALID_PARAMETER', `No such container: ${container}`, { hint: 'name a container whose volumes to mount' });
      for (const m of mountsOf(from.spec)) {
        if (m.type === 'tmpfs' || taken.has(m.target)) continue;
        taken.add(m.target);
        out.push({ ...m, origin: 'volumes-from', from: from.id, mode: '', readOnly: mode === '' ? m.readOnly : mode === 'ro' });
      }
    }
    // Anonymous volumes of the request and of the image where nothing else is mounted.
    const anon = [...asked.filter((x) => x.origin === 'volumes').map((x) => x.target), ...(image.config?.volumes ?? [])];
    for (const target of anon) {
      if (taken.has(target)) continue;
      taken.add(target);
      const origin = asked.some((x) => x.origin === 'volumes' && x.target === target) ? 'volumes' : 'image';
      out.push({ type: 'volume', source: '', target, readOnly: false, origin, mode: '', propagation: '', anonymous: true, noCopy: false });
    }
    const made: string[] = [];
    try {
      for (const m of out) {
        if (m.type === 'bind' && m.origin === 'mounts' && !(await this.storage.hostPath(m.source, false))) {
          throw new EngineError('INVALID_PARAMETER', `invalid mount config for type "bind": bind source path does not exist: ${m.source}`, { hint: 'create the directory first, or use -v, which creates it' });
        }
        if (m.type !== 'volume' || m.origin === 'volumes-from') continue;
        if (m.anonymous) {
          const v = await this.volumes.create({ name: '', driver: m.volumeDriver ?? 'local', options: m.volumeOptions, labels: m.volumeLabels });
          made.push(v.name);
          m.source = v.name;
        } else if (!this.volumes.find(m.source)) {
          await this.volumes.create({ name: m.source, driver: m.volumeDriver ?? 'local', options: m.volumeOptions, labels: m.volumeLabels });
          made.push(m.source);
        }
        // Docker shows "z" for a named local volume given without a mode.
        if (!m.anonymous && m.mode === '') m.mode = 'z';
      }
    } catch (e) {
      await this.undo(made);
      throw e;
    }
    return out;
  }

  /** Removes volumes a failed create made. */
  async undo(names: readonly string[]): Promise<void> {
    for (const n of [...names].reverse()) await this.volumes.remove(n, true).catch(() => {
      // still referred to by another container: it was not only ours to remove
    });
  }

  /** The volumes a settled mount list made (to undo when the container record cannot be written). */
  static volumesOf(ms: readonly MountPoint[]): string[] {
    return ms.filter((m) => m.type === 'volume' && m.anonymous && m.origin !== 'volumes-from').map((m) => m.source);
  }

  /** Host paths, host-side volume mounts and image files in new volumes: the mounts for runc. */
  async prepare(c: Container, rootfs: string): Promise<BundleMount[]> {
    const out: BundleMount[] = [];
    for (const m of mountsOf(c.spec)) {
      if (m.type === 'tmpfs') {
        out.push({ type: 'tmpfs', source: '', target: m.target, readOnly: m.readOnly, tmpfsOptions: m.tmpfsOptions });
        continue;
      }
      if (m.type === 'bind') {
        // -v makes a missing host directory (Docker's rule); --mount wants it to exist.
        if (!(await this.storage.hostPath(m.source, m.origin !== 'mounts'))) {
          throw new EngineError('INVALID_PARAMETER', `invalid mount config for type "bind": bind source path does not exist: ${m.source}`, { hint: 'create the directory, or use -v, which creates it' });
        }
        out.push({ type: 'bind', source: m.source, target: m.target, readOnly: m.readOnly, propagation: m.propagation });
        continue;
      }
      // A volume of an older record that is gone is made again rather than failing the start.
      const v = this.volumes.find(m.source) ?? (await this.volumes.create({ name: m.source, driver: 'local' }));
      if (v.options?.type || v.options?.device) {
        await this.mutex.run(v.name, async () => {
          await this.storage.mountVolume(v);
          this.holders.set(v.name, (this.holders.get(v.name) ?? new Set()).add(c.id));
        });
      }
      if (!m.noCopy) await this.storage.copyUp(rootfs, m.target, v.name);
      out.push({ type: 'bind', source: this.storage.volumePath(v.name), target: m.target, readOnly: m.readOnly, propagation: 'rprivate' });
    }
    return out;
  }

  /** At daemon start: volumes with options that no running container uses (their last user ended while no daemon ran) are unmounted. */
  async releaseUnused(): Promise<void> {
    const running = this.repo.containers.list().filter((c) => c.status === 'running');
    for (const v of this.volumes.list()) {
      if (!(v.options?.type || v.options?.device)) continue;
      if (running.some((c) => mountsOf(c.spec).some((m) => m.type === 'volume' && m.source === v.name))) continue;
      await this.mutex.run(v.name, () => this.storage.unmountVolume(v));
    }
  }

  /** After a run (or a failed start): volumes with options that no container uses any more are unmounted. */
  async release(c: Container): Promise<void> {
    for (const m of mountsOf(c.spec)) {
      if (m.type !== 'volume') continue;
      const v = this.volumes.find(m.source);
      if (!v || !(v.options?.type || v.options?.device)) continue;
      await this.mutex.run(v.name, async () => {
        const held = this.holders.get(v.name);
        held?.delete(c.id);
        // Containers that run from before a daemon restart hold it too: the records say so.
        const running = this.repo.containers.list().some((o) => o.id !== c.id && o.status === 'running' && mountsOf(o.spec).some((x) => x.type === 'volume' && x.source === v.name));
        if ((held?.size ?? 0) === 0 && !running) await this.storage.unmountVolume(v);
      });
    }
  }
}

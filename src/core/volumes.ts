/**
 * Volumes: create (named or anonymous, driver `local` with Docker's options type/o/device), list
 * with Docker's filters, inspect, remove (refused while a container refers to the volume, in
 * Docker's words) and prune. The records are the state store's (VolumeRepo); the data directories
 * and the host-side mounts of volumes with options are the Storage port's (runtime/storage.ts).
 * A volume is in use while any container, running or not, has it among its mounts.
 *
 * Events (through `emit`): volume create, volume destroy.
 *
 * Limitations: one driver, `local`; no quota (`size`); prune leaves volumes created with options
 * alone (their data may be a user's directory), as Docker 20.10 does.
 */
import { randomBytes } from 'node:crypto';
import { mountsOf } from '../base/container-spec';
import { EngineError } from '../base/errors';
import { Container, Volume } from '../base/model';
import { checkVolumeName } from '../base/mount-spec';
import { Repos } from '../state/repos';
import { Storage } from '../runtime/storage';

export interface VolumeRequest {
  /** empty: an anonymous volume (64 hex digits) */
  name: string;
  driver: string;
  options?: Record<string, string>;
  labels?: Record<string, string>;
}

/** Docker's volume list filters, typed (the API checks the keys and values). */
export interface VolumeFilter {
  /** regular expressions, any of them (Docker's `name`) */
  names?: string[];
  /** "key" or "key=value", all of them */
  labels?: string[];
  drivers?: string[];
  /** true: no container refers to it; false: some container does */
  dangling?: boolean;
}

const OPTIONS = new Set(['type', 'o', 'device']);

/** Docker's label filter: "key" (present) or "key=value". */
export function labelsMatch(labels: Record<string, string> | undefined, wanted: readonly string[]): boolean {
  return wanted.every((w) => {
    const eq = w.indexOf('=');
    const k = eq < 0 ? w : w.slice(0, eq);
    return labels !== undefined && k in labels && (eq < 0 || labels[k] === w.slice(eq + 1));
  });
}

/** A filter value as Docker matches names: a regular expression (so a plain word matches as a substring). */
function nameMatches(name: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(name);
  } catch {
    return name.includes(pattern);
  }
}

export class Volumes {
  constructor(
    private readonly repo: Pick<Repos, 'volumes' | 'containers'>,
    private readonly storage: Storage,
    private readonly emit: (action: 'create' | 'destroy', name: string) => void = () => {},
  ) {}

  /** ROOT/volumes/NAME/_data */
  path(name: string): string {
    return this.storage.volumePath(name);
  }

  get(name: string): Volume {
    const v = this.repo.volumes.get(name);
    if (!v) throw new EngineError('VOLUME_NOT_FOUND', `get ${name}: no such volume`, { hint: 'see `ctrnet volume ls`' });
    return v;
  }

  find(name: string): Volume | undefined {
    return this.repo.volumes.get(name);
  }

  /** Ids of the containers that refer to each volume, by volume name. */
  users(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const c of this.repo.containers.list()) {
      for (const m of mountsOf(c.spec)) if (m.type === 'volume') out.set(m.source, [...(out.get(m.source) ?? []), c.id]);
    }
    return out;
  }

  /** `system df`: each volume with its bytes and how many containers refer to it. */
  async usage(): Promise<{ volume: Volume; size: number; refCount: number }[]> {
    const users = this.users();
    const out = [];
    for (const v of this.repo.volumes.list()) out.push({ volume: v, size: await this.storage.volumeSize(v.name).catch(() => -1), refCount: users.get(v.name)?.length ?? 0 });
    return out;
  }

  list(f: VolumeFilter = {}): Volume[] {
    const users = f.dangling === undefined ? undefined : this.users();
    return this.repo.volumes.list().filter((v) =>
      (!f.names?.length || f.names.some((n) => nameMatches(v.name, n))) &&
      (!f.labels?.length || labelsMatch(v.labels, f.labels)) &&
      (!f.drivers?.length || f.drivers.includes(v.driver)) &&
      (users === undefined || (users.has(v.name) ? !f.dangling : f.dangling)),
    );
  }

  /**
   * Docker's `volume create`: an existing volume of that name is answered as it is (options and
   * labels of the new request ignored, as Docker does).
   */
  async create(req: VolumeRequest): Promise<Volume> {
    const anonymous = req.name === '';
    const name = anonymous ? randomBytes(32).toString('hex') : req.name;
    checkVolumeName(name);
    const driver = req.driver || 'local';
    if (driver !== 'local') {
      throw new EngineError('PLUGIN_NOT_FOUND', `create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`, { hint: 'ctrnet has the local driver only' });
    }
    const existing = this.repo.volumes.get(name);
    if (existing) return existing;
    for (const [k, v] of Object.entries(req.options ?? {})) {
      if (!OPTIONS.has(k)) throw new EngineError('INVALID_PARAMETER', `create ${name}: invalid option: "${k}"`, { hint: 'the local driver takes type, o and device' });
      // They are handed to mount(2) as single tokens.
      if (/\s/.test(v) || v === '') throw new EngineError('INVALID_PARAMETER', `create ${name}: option ${k} must be a non-empty value without white space`);
    }
    const o = req.options ?? {};
    if (o.device && (o.o ?? '').split(',').includes('bind') && !o.device.startsWith('/')) {
      throw new EngineError('INVALID_PARAMETER', `create ${name}: a bind device must be an absolute host path, not "${o.device}"`);
    }
    if ((o.type || o.o) && !o.device) throw new EngineError('INVALID_PARAMETER', `create ${name}: option device is missing`, { hint: 'e.g. -o type=tmpfs -o device=tmpfs, or -o type=none -o o=bind -o device=/path' });
    await this.storage.createVolume(name);
    const v: Volume = { name, driver, anonymous, created: new Date().toISOString(), ...(req.options ? { options: req.options } : {}), ...(req.labels ? { labels: req.labels } : {}) };
    const recorded = this.repo.volumes.ensure(v);
    this.emit('create', name);
    return recorded;
  }

  /** Docker's `volume rm`: refused while a container refers to it, forced or not; `force` makes a missing one fine. */
  async remove(name: string, force = false): Promise<void> {
    const v = this.repo.volumes.get(name);
    if (!v) {
      if (force) return;
      throw new EngineError('VOLUME_NOT_FOUND', `get ${name}: no such volume`, { hint: 'see `ctrnet volume ls`' });
    }
    const users = this.users().get(name) ?? [];
    if (users.length) {
      throw new EngineError('VOLUME_IN_USE', `remove ${name}: volume is in use - [${users.join(', ')}]`, { hint: 'remove those containers first: ctrnet rm' });
    }
    await this.destroy(v);
  }

  private async destroy(v: Volume): Promise<number> {
    // The record goes last: a removal a crash interrupts is finished by the next one.
    const bytes = await this.storage.removeVolume(v.name);
    this.repo.volumes.delete(v.name);
    this.emit('destroy', v.name);
    return bytes;
  }

  /** Docker's `volume prune` (API 1.41): every unused volume matching the labels, except those with driver options. */
  async prune(labels: string[] = [], notLabels: string[] = []): Promise<{ deleted: string[]; bytes: number }> {
    const users = this.users();
    const out = { deleted: [] as string[], bytes: 0 };
    for (const v of this.repo.volumes.list()) {
      if (users.has(v.name) || (v.options && Object.keys(v.options).length)) continue;
      if (!labelsMatch(v.labels, labels) || (notLabels.length && notLabels.some((l) => labelsMatch(v.labels, [l])))) continue;
      out.bytes += await this.destroy(v);
      out.deleted.push(v.name);
    }
    return out;
  }

  /** The anonymous volumes of a removed container (rm -v, --rm) that no other container refers to. */
  async removeAnonymous(c: Container): Promise<void> {
    const users = this.users();
    for (const m of mountsOf(c.spec)) {
      if (m.type !== 'volume' || !m.anonymous || m.origin === 'volumes-from') continue;
      const v = this.repo.volumes.get(m.source);
      // Another container still refers to it (--volumes-from): not an error, Docker keeps it too.
      if (!v || (users.get(m.source) ?? []).some((id) => id !== c.id)) continue;
      await this.destroy(v);
    }
  }
}

/**
 * A container's mounts, typed, and the parsers of Docker's strings for them: Binds / `-v`
 * (`SRC:DST[:MODE]`), `--mount type=…,…`, `--tmpfs DST[:OPTS]`, `--volumes-from CTR[:ro|rw]`, and
 * volume names (they reach the filesystem: ROOT/volumes/NAME). Errors carry Docker's words.
 *
 * Limitations: SELinux relabelling (`z`, `Z`) and consistency modes (`cached`, `delegated`) are
 * accepted and shown, and change nothing (no SELinux here; one machine).
 */
import { EngineError } from './errors';
import { parseBytes } from './resources';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** Where a mount came from; it decides defaults (a missing `-v` host path is created, a `--mount` one is an error). */
export type MountOrigin = 'binds' | 'mounts' | 'tmpfs' | 'volumes' | 'image' | 'volumes-from';

/** One mount of a container, as asked for and, once settled at create, as it is made. */
export interface MountPoint {
  type: MountType;
  /** volume: its name (an anonymous one is named at create); bind: the host path; tmpfs: '' */
  source: string;
  /** absolute path inside the container */
  target: string;
  readOnly: boolean;
  origin: MountOrigin;
  /** inspect's Mode: a Binds entry's mode as given ("ro", "ro,z"), "z" for a named local volume */
  mode: string;
  /** bind propagation: rprivate unless asked */
  propagation: string;
  /** volume: not named by the user, so removed with its container (rm -v, --rm) */
  anonymous: boolean;
  /** volume: leave an empty volume empty (no copy of the image's files) */
  noCopy: boolean;
  /** volume made by this mount (--mount volume-label / volume-driver / volume-opt) */
  volumeLabels?: Record<string, string>;
  volumeDriver?: string;
  volumeOptions?: Record<string, string>;
  /** tmpfs: mount data (size=2m,mode=1770), without the defaults (nosuid,nodev,noexec) */
  tmpfsOptions?: string;
  /** tmpfs from --mount: what was asked (HostConfig.Mounts echoes it) */
  tmpfsSize?: number;
  tmpfsMode?: number;
  /** volumes-from: the container this mount was copied from */
  from?: string;
}

/** Local volume names: they name a directory under ROOT/volumes. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** Docker's rules and words for a volume name; `op` is the operation Docker names ("create", "get"). */
export function checkVolumeName(name: string, op = 'create'): void {
  if (name.length === 1 && /^[a-zA-Z0-9]$/.test(name)) {
    throw new EngineError('INVALID_PARAMETER', `${op} ${name}: volume name is too short, names should be at least two alphanumeric characters`);
  }
  if (!VOLUME_NAME.test(name) || name.length > 255) {
    throw new EngineError('INVALID_PARAMETER', `${op} ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`, {
      hint: 'name a volume with letters, digits, "_", "." and "-", or give an absolute host path for a bind mount',
    });
  }
}

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated', 'default']);

/** Docker's ValidMountMode: comma-separated words, at most one of each kind. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const kind = RW_MODES.has(o) ? 0 : LABEL_MODES.has(o) ? 1 : PROPAGATION.has(o) ? 2 : o === 'nocopy' ? 3 : CONSISTENCY.has(o) ? 4 : -1;
    if (kind < 0) return false;
    counts[kind]++;
  }
  return counts.every((n) => n <= 1);
}

function absolute(target: string, type: MountType): void {
  if (!target.startsWith('/')) {
    throw new EngineError('INVALID_PARAMETER', `invalid mount config for type "${type}": invalid mount path: '${target}' mount path must be absolute`, { hint: 'give the path inside the container from /' });
  }
}

/** A clean absolute path: no trailing slash, no "." or empty parts (".." stays: the kernel resolves it in the container). */
export function cleanPath(p: string): string {
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  return `/${parts.join('/')}`;
}

const base = (type: MountType, origin: MountOrigin): Omit<MountPoint, 'source' | 'target'> => ({
  type, readOnly: false, origin, mode: '', propagation: type === 'bind' ? 'rprivate' : '', anonymous: false, noCopy: false,
});

/**
 * A Binds entry (`docker run -v`): `NAME:/dst[:mode]` (a named volume), `/host:/dst[:mode]` (a bind
 * mount), or `/dst` (an anonymous volume).
 * @example parseBind('data:/var/lib/db:ro') // { type: 'volume', source: 'data', target: '/var/lib/db', readOnly: true, … }
 */
export function parseBind(raw: string): MountPoint {
  const arr = raw.split(':');
  let source = '';
  let target: string;
  let mode = '';
  if (arr.length === 1) target = arr[0];
  else if (arr.length === 2) {
    if (validMountMode(arr[1])) throw new EngineError('INVALID_PARAMETER', `invalid volume specification: '${raw}'`, { hint: 'write SOURCE:DESTINATION[:MODE]' });
    [source, target] = arr;
  } else if (arr.length === 3) [source, target, mode] = arr;
  else throw new EngineError('INVALID_PARAMETER', `invalid volume specification: '${raw}'`, { hint: 'write SOURCE:DESTINATION[:MODE]' });
  if (!validMountMode(mode)) throw new EngineError('INVALID_PARAMETER', `invalid mode: ${mode}`, { hint: 'modes are ro or rw, z or Z, nocopy, and a propagation (rprivate, rshared, …), comma-separated' });
  if (!target) throw new EngineError('INVALID_PARAMETER', `invalid volume specification: '${raw}'`, { hint: 'write SOURCE:DESTINATION[:MODE]' });
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  absolute(target, type);
  const words = mode.split(',');
  const m: MountPoint = {
    ...base(type, 'binds'), source: type === 'bind' ? cleanPath(source) : source, target: cleanPath(target), mode,
    readOnly: words.includes('ro'), anonymous: type === 'volume' && source === '', noCopy: words.includes('nocopy'),
  };
  const prop = words.find((w) => PROPAGATION.has(w));
  if (prop) {
    if (type !== 'bind') throw new EngineError('INVALID_PARAMETER', `invalid mode: ${mode}`, { hint: 'propagation applies to bind mounts only' });
    m.propagation = prop;
  }
  if (m.noCopy && type === 'bind') throw new EngineError('INVALID_PARAMETER', `invalid mode: ${mode}`, { hint: 'nocopy applies to volumes only' });
  return m;
}

/** The fields of one HostConfig.Mounts entry, already read from JSON (api/dto) or from `--mount` (cli). */
export interface MountRequest {
  type: string;
  source: string;
  target: string;
  readOnly: boolean;
  propagation?: string;
  noCopy?: boolean;
  labels?: Record<string, string>;
  driver?: string;
  driverOptions?: Record<string, string>;
  tmpfsSize?: number;
  tmpfsMode?: number;
  /** which option groups were given (Docker refuses VolumeOptions on a bind, …) */
  has: { bindOptions?: boolean; volumeOptions?: boolean; tmpfsOptions?: boolean };
}

/** Docker's checks of a HostConfig.Mounts entry (`--mount`), in Docker's words; the host path is checked later. */
export function mountFromRequest(r: MountRequest): MountPoint {
  const bad = (what: string) => new EngineError('INVALID_PARAMETER', `invalid mount config for type "${r.type}": ${what}`);
  if (r.type !== 'bind' && r.type !== 'volume' && r.type !== 'tmpfs') throw bad('mount type unknown');
  const type = r.type;
  if (!r.target) throw bad('field Target must not be empty');
  absolute(r.target, type);
  const m: MountPoint = { ...base(type, 'mounts'), source: r.source, target: cleanPath(r.target), readOnly: r.readOnly };
  if (type === 'bind') {
    if (!r.source) throw bad('field Source must not be empty');
    if (!r.source.startsWith('/')) throw bad(`invalid mount path: '${r.source}' mount path must be absolute`);
    if (r.has.volumeOptions) throw bad('field VolumeOptions must not be specified');
    if (r.has.tmpfsOptions) throw bad('field TmpfsOptions must not be specified');
    m.source = cleanPath(r.source);
    if (r.propagation) {
      if (!PROPAGATION.has(r.propagation)) throw bad(`invalid propagation mode: ${r.propagation}`);
      m.propagation = r.propagation;
    }
  } else if (type === 'volume') {
    if (r.has.bindOptions) throw bad('field BindOptions must not be specified');
    if (r.has.tmpfsOptions) throw bad('field TmpfsOptions must not be specified');
    if (r.source) checkVolumeName(r.source);
    m.anonymous = !r.source;
    m.noCopy = r.noCopy === true;
    if (r.labels && Object.keys(r.labels).length) m.volumeLabels = r.labels;
    if (r.driver) m.volumeDriver = r.driver;
    if (r.driverOptions && Object.keys(r.driverOptions).length) m.volumeOptions = r.driverOptions;
  } else {
    if (r.source) throw bad('field Source must not be specified');
    if (r.has.bindOptions) throw bad('field BindOptions must not be specified');
    if (r.has.volumeOptions) throw bad('field VolumeOptions must not be specified');
    if (r.tmpfsSize !== undefined && r.tmpfsSize < 0) throw bad('invalid tmpfs size');
    m.tmpfsSize = r.tmpfsSize;
    m.tmpfsMode = r.tmpfsMode;
    m.tmpfsOptions = tmpfsData(r.readOnly, r.tmpfsSize, r.tmpfsMode);
  }
  return m;
}

/** Docker's ConvertTmpfsOptions: "ro", "mode=1770", "size=1024k" (the largest unit that divides the size). */
function tmpfsData(readOnly: boolean, size?: number, mode?: number): string {
  const out: string[] = [];
  if (readOnly) out.push('ro');
  if (mode) out.push(`mode=${mode.toString(8)}`);
  if (size) {
    const unit = ([['g', 1 << 30], ['m', 1 << 20], ['k', 1 << 10]] as const).find(([, d]) => size % d === 0);
    out.push(unit ? `size=${size / unit[1]}${unit[0]}` : `size=${size}`);
  }
  return out.join(',');
}

/** A HostConfig.Tmpfs entry (`--tmpfs /run:size=64m`). */
export function tmpfsMount(target: string, options: string): MountPoint {
  if (!target.startsWith('/')) throw new EngineError('INVALID_PARAMETER', `invalid mount path: '${target}' mount path must be absolute`, { hint: 'give the path inside the container from /' });
  if (cleanPath(target) === '/') throw new EngineError('INVALID_PARAMETER', `invalid mount path: '${target}': a tmpfs cannot be mounted on /`);
  for (const o of options ? options.split(',') : []) {
    if (!/^[a-z_]+(=[\w.:/-]*)?$/.test(o)) throw new EngineError('INVALID_PARAMETER', `invalid tmpfs option "${o}" for ${target}`, { hint: 'e.g. --tmpfs /run:size=64m,mode=1777' });
  }
  return { ...base('tmpfs', 'tmpfs'), source: '', target: cleanPath(target), readOnly: options.split(',').includes('ro'), tmpfsOptions: options };
}

/** `--volumes-from CTR[:ro|rw]`. */
export function parseVolumesFrom(raw: string): { container: string; mode: '' | 'ro' | 'rw' } {
  const [container, mode = '', ...rest] = raw.split(':');
  if (!container || rest.length || (mode !== '' && mode !== 'ro' && mode !== 'rw')) {
    throw new EngineError('INVALID_PARAMETER', `invalid mode: ${mode || raw}`, { hint: 'write CONTAINER[:ro|rw]' });
  }
  return { container, mode };
}

/**
 * `--mount type=bind,source=/a,target=/b,readonly` (the CLI's parser; the daemon gets the JSON):
 * keys as the docker CLI accepts them.
 */
export function parseMountFlag(csv: string): MountRequest {
  const r: MountRequest = { type: 'volume', source: '', target: '', readOnly: false, has: {} };
  const labels: Record<string, string> = {};
  const opts: Record<string, string> = {};
  for (const field of csv.split(',')) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? undefined : field.slice(eq + 1);
    const flag = () => value === undefined || ['1', 'true'].includes(value.toLowerCase());
    switch (key) {
      case 'type': r.type = value ?? ''; break;
      case 'source': case 'src': r.source = value ?? ''; break;
      case 'target': case 'destination': case 'dst': r.target = value ?? ''; break;
      case 'readonly': case 'ro': r.readOnly = flag(); break;
      case 'bind-propagation': r.propagation = value; r.has.bindOptions = true; break;
      case 'volume-nocopy': r.noCopy = flag(); r.has.volumeOptions = true; break;
      case 'volume-label': { const [k, ...v] = (value ?? '').split('='); labels[k] = v.join('='); r.has.volumeOptions = true; break; }
      case 'volume-driver': r.driver = value; r.has.volumeOptions = true; break;
      case 'volume-opt': { const [k, ...v] = (value ?? '').split('='); opts[k] = v.join('='); r.has.volumeOptions = true; break; }
      case 'tmpfs-size': r.tmpfsSize = parseBytes(value ?? '', 'tmpfs-size'); r.has.tmpfsOptions = true; break;
      case 'tmpfs-mode': r.tmpfsMode = parseInt(value ?? '', 8); r.has.tmpfsOptions = true; break;
      case 'consistency': break;
      default: throw new EngineError('INVALID_PARAMETER', `unexpected key '${key}' in '${csv}'`, { hint: 'keys: type, source, target, readonly, bind-propagation, volume-nocopy, volume-label, volume-opt, tmpfs-size, tmpfs-mode' });
    }
  }
  if (Object.keys(labels).length) r.labels = labels;
  if (Object.keys(opts).length) r.driverOptions = opts;
  return r;
}

/** Mounts in the order they must be made: a parent before what is mounted inside it. */
export function mountOrder<T extends { target: string }>(ms: readonly T[]): T[] {
  const depth = (t: string) => t.split('/').filter(Boolean).length;
  return [...ms].sort((a, b) => depth(a.target) - depth(b.target));
}

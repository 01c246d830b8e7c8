/**
 * `docker diff`: what a container changed, read from its writable (upper) overlay layer against
 * the layers below it. An entry of the upper layer is
 *   - deleted (2) when it is an overlayfs whiteout (a character device 0:0), or an opaque
 *     directory (xattr trusted.overlay.opaque=y) that hides one below (then its contents are added);
 *   - modified (0) when the path exists below (a directory only when its mode or mtime changed,
 *     or when something in it was added or deleted);
 *   - added (1) otherwise.
 * Kinds and their order (sorted by path) are Docker's.
 *
 * Limitations: a file whose content changed back to the original still counts as modified
 * (overlayfs copied it up), as in Docker.
 */
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { run } from '../kernel/exec';

export const CHANGE_MODIFIED = 0;
export const CHANGE_ADDED = 1;
export const CHANGE_DELETED = 2;

export interface Change {
  path: string;
  kind: 0 | 1 | 2;
}

type Stat = Awaited<ReturnType<typeof lstat>>;

const isWhiteout = (st: Stat): boolean => st.isCharacterDevice() && st.rdev === 0;

/** The opaque directories of an upper layer (relative paths), in one pass of getfattr. */
async function opaqueDirs(upper: string): Promise<Set<string>> {
  // Dump format: "# file: PATH" then NAME="VALUE" lines, only for files that have the attribute.
  // (No file having it is exit 0 with no output; a missing getfattr fails the diff.)
  const dump = await run(['getfattr', '-R', '-P', '--absolute-names', '-d', '-m', '^trusted\\.overlay\\.opaque$', upper]);
  const dirs = new Set<string>();
  let file = '';
  for (const line of dump.split('\n')) {
    if (line.startsWith('# file: ')) file = line.slice(8);
    else if (/^trusted\.overlay\.opaque="y"$/.test(line.trim()) && file) dirs.add(`/${path.relative(upper, file)}`);
  }
  return dirs;
}

async function statBelow(lowers: readonly string[], rel: string): Promise<Stat | undefined> {
  for (const l of lowers) {
    const st = await lstat(path.join(l, rel)).catch(() => undefined);
    if (st && !isWhiteout(st)) return st;
    if (st) return undefined; // a whiteout in a lower layer: deleted further down
  }
  return undefined;
}

/** The changes of the upper layer `upper` over `lowers` (top-most first), sorted by path. */
export async function changes(upper: string, lowers: readonly string[]): Promise<Change[]> {
  // Never started: no writable layer, no changes.
  if (!(await lstat(upper).catch(() => undefined))) return [];
  const opaque = await opaqueDirs(upper);
  const found = new Map<string, Change['kind']>();
  const note = (p: string, kind: Change['kind']) => {
    found.set(p, kind);
    const parent = path.posix.dirname(p);
    if ((kind === CHANGE_ADDED || kind === CHANGE_DELETED) && parent !== '/' && !found.has(parent)) found.set(parent, CHANGE_MODIFIED);
  };

  async function walk(rel: string): Promise<void> {
    const names = await readdir(path.join(upper, rel)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const p = path.posix.join(rel, name);
      const st = await lstat(path.join(upper, p));
      const below = await statBelow(lowers, p);
      if (isWhiteout(st)) {
        if (below) note(p, CHANGE_DELETED);
        continue;
      }
      if (st.isDirectory() && opaque.has(p) && below) {
        // Deleted and made again: what was below is gone, what is here now is new.
        note(p, CHANGE_DELETED);
        found.set(p, CHANGE_DELETED);
        await addAll(p);
        continue;
      }
      if (!below) {
        note(p, CHANGE_ADDED);
        if (st.isDirectory()) await addAll(p);
        continue;
      }
      if (st.isDirectory() && below.isDirectory()) {
        const same = st.mode === below.mode && st.size === below.size && st.mtimeMs === below.mtimeMs;
        if (!same) found.set(p, CHANGE_MODIFIED);
        await walk(p);
        continue;
      }
      note(p, CHANGE_MODIFIED);
    }
  }

  /** Everything under a new directory is new. */
  async function addAll(rel: string): Promise<void> {
    for (const name of (await readdir(path.join(upper, rel)).catch(() => [] as string[])).sort()) {
      const p = path.posix.join(rel, name);
      const st = await lstat(path.join(upper, p));
      if (isWhiteout(st)) continue;
      found.set(p, CHANGE_ADDED);
      if (st.isDirectory()) await addAll(p);
    }
  }

  await walk('/');
  return [...found].map(([p, kind]) => ({ path: p, kind })).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Bytes in a directory tree (regular files and symlinks; whiteouts and directories count nothing), as `du --apparent-size` counts them. */
export async function treeSize(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    for (const name of await readdir(d).catch(() => [] as string[])) {
      const st = await lstat(path.join(d, name)).catch(() => undefined);
      if (!st) continue;
      if (st.isDirectory()) await walk(path.join(d, name));
      else if (st.isFile() || st.isSymbolicLink()) total += st.size;
    }
  };
  await walk(dir);
  return total;
}

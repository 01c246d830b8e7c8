/**
 * The directory that holds the sandboxes' namespace files (EXEC_ROOT/netns) on tmpfs. A network
 * namespace is kept by a bind mount on a file there; on a disk filesystem (some machines have /run
 * on ext4) each new file costs an inode allocation and journal work (100–300 µs against ~12 µs
 * on tmpfs, ../shared/reference/endpoint-floor.md), on every container start.
 *
 * Limitations: only an empty directory gets a tmpfs of its own: mounting over files that hold
 * live namespaces (a daemon of an older version ran here) would hide them. The tmpfs stays when
 * the daemon stops (its containers keep running); removing the exec root unmounts it.
 */
import { readdir, statfs } from 'node:fs/promises';
import { run } from './exec';

const TMPFS_MAGIC = 0x01021994;

/** Equivalent to: `mount -t tmpfs -o mode=0711 tmpfs DIR` when DIR is empty and on another filesystem. Returns what was done. */
export async function ensureTmpfs(dir: string): Promise<'already' | 'mounted' | 'kept: not empty'> {
  if ((await statfs(dir)).type === TMPFS_MAGIC) return 'already';
  if ((await readdir(dir)).length) return 'kept: not empty';
  await run(['mount', '-t', 'tmpfs', '-o', 'mode=0711,size=16m', 'tmpfs', dir]);
  return 'mounted';
}

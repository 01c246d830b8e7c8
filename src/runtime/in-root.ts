/**
 * Paths inside a container's root filesystem, resolved the way the container would see them:
 * symlinks are followed within the root (an absolute target starts at the root, `..` stops at it),
 * so that an image's `/etc/passwd -> /etc/shadow` or `WORKDIR /w` with `/w -> /` never reaches
 * the host's files. Used to read the image's user database and to make the working directory,
 * as Docker does (FollowSymlinkInScope).
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, readlink, chown } from 'node:fs/promises';
import path from 'node:path';
import { resolveUser, ProcessUser } from '../base/user-spec';

const MAX_LINKS = 40;
const MAX_FILE = 1 << 20;

/** `p` (absolute, as the container sees it) resolved inside `root`; missing parts are kept as they are. */
export async function resolveInRoot(root: string, p: string): Promise<string> {
  const todo = p.split('/').filter(Boolean);
  const done: string[] = [];
  let links = 0;
  while (todo.length) {
    const part = todo.shift()!;
    if (part === '.') continue;
    if (part === '..') {
      done.pop();
      continue;
    }
    const here = path.join(root, ...done, part);
    const st = await lstat(here).catch(() => undefined);
    if (st?.isSymbolicLink()) {
      if (++links > MAX_LINKS) throw new Error(`too many symlinks resolving ${p} in the container`);
      const target = await readlink(here);
      if (target.startsWith('/')) done.length = 0;
      todo.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    done.push(part);
  }
  return path.join(root, ...done);
}

/** A small regular file of the container (its /etc/passwd); undefined when missing or not a regular file. */
export async function readInRoot(root: string, p: string): Promise<string | undefined> {
  const real = await resolveInRoot(root, p);
  const st = await lstat(real).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  // O_NOFOLLOW: a link swapped in after the resolution (a running container's exec) is not followed.
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const buf = Buffer.alloc(Math.min(st.size, MAX_FILE));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** The container's user, resolved against its own /etc/passwd and /etc/group. */
export async function processUser(root: string, spec: string | undefined): Promise<ProcessUser> {
  const [passwd, group] = await Promise.all([readInRoot(root, '/etc/passwd'), readInRoot(root, '/etc/group')]);
  return resolveUser(spec ?? '', passwd, group);
}

/** Makes the working directory inside the root when missing (owned by the container's user, as Docker). */
export async function ensureDirInRoot(root: string, p: string, uid: number, gid: number): Promise<void> {
  const parts = p.split('/').filter(Boolean);
  let cur = '/';
  for (const part of parts) {
    cur = path.posix.join(cur, part);
    const real = await resolveInRoot(root, cur);
    const st = await lstat(real).catch(() => undefined);
    if (st) continue;
    await mkdir(real, { mode: 0o755 });
    await chown(real, uid, gid);
  }
}

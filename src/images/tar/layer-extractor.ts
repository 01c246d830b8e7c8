/**
 * Unpacks one image layer (a tar stream in the OCI/Docker layer format) into an empty directory
 * of its own, in overlayfs' format, so that a stack of such directories is a container's root:
 * whiteouts (`.wh.NAME`) become 0/0 character devices, opaque markers (`.wh..wh..opq`) the
 * `trusted.overlay.opaque` attribute of their directory.
 *
 * Safety: a layer may only write inside its directory. Names are normalised and any `..`
 * component refuses the layer; the extractor never follows a link: it knows the type of every
 * path it made (the directory starts empty and is private), so a parent that is a symlink (planted
 * by this layer, absolute or not) or a file refuses the layer, and files are opened with
 * O_NOFOLLOW|O_EXCL. Hard links must point at a file this layer made. Device nodes are skipped
 * (containers get their own /dev). Extended attributes: only `security.capability` and `user.*`
 * are kept; `trusted.*` (overlayfs' own redirects and whiteouts among them) never are.
 * Ownership, modes (setuid included), times and fifos are kept.
 *
 * Limitations: a layer that writes below a symlink made by a lower layer gets a real directory of
 * that name, which hides the link (Docker resolves such a link inside the root instead).
 */
import { constants } from 'node:fs';
import { chmod, chown, lchown, link, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import { run } from '../../kernel/exec';
import { TarHeader, TarReader } from './tar-reader';

/** A layer that would write outside its directory, or that is not a layer at all. */
export class LayerRefusedError extends Error {}

export interface ExtractResult {
  /** bytes of regular files and symlink targets (Docker's layer size) */
  size: number;
  entries: number;
  /** device nodes and other entries not made, with why */
  skipped: string[];
}

type Kind = 'dir' | 'file' | 'symlink' | 'whiteout' | 'other';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';
const KEPT_XATTR = (k: string) => k === 'security.capability' || k.startsWith('user.');

/** "./a//b/" → ["a", "b"]; a ".." anywhere refuses the layer. */
export function safeComponents(name: string, what = 'entry'): string[] {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new LayerRefusedError(`layer ${what} "${name}" tries to write outside the layer's directory`);
  if (name.includes('\0')) throw new LayerRefusedError(`layer ${what} "${name}" has a NUL byte in its name`);
  return parts;
}

/** getfattr's quoting for a path in a --restore dump */
function quotePath(p: string): string {
  return [...Buffer.from(p)].map((c) => (c < 0x21 || c > 0x7e || c === 0x5c ? `\\${c.toString(8).padStart(3, '0')}` : String.fromCharCode(c))).join('');
}

export class LayerExtractor {
  private readonly kinds = new Map<string, Kind>([['', 'dir']]);
  private readonly dirTimes: [string, number][] = [];
  private readonly xattrs: [string, string, Buffer][] = [];
  private readonly result: ExtractResult = { size: 0, entries: 0, skipped: [] };

  constructor(private readonly root: string) {}

  private abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /** Makes the parent directories of `parts` (as Docker: 0755, root), refusing non-directories. */
  private async parents(parts: string[], name: string): Promise<string> {
    let rel = '';
    for (const p of parts.slice(0, -1)) {
      rel = rel ? `${rel}/${p}` : p;
      const k = this.kinds.get(rel);
      if (k === 'dir') continue;
      if (k === 'symlink') throw new LayerRefusedError(`layer entry "${name}" is below a symlink ("${rel}"): refused, it could lead outside the layer`);
      if (k !== undefined) throw new LayerRefusedError(`layer entry "${name}" is below "${rel}", which is not a directory`);
      await mkdir(this.abs(rel), { mode: 0o755 });
      this.kinds.set(rel, 'dir');
    }
    return parts.slice(0, -1).join('/');
  }

  /** Removes what this layer already has at `rel` (a later entry of the same name replaces it). */
  private async clear(rel: string): Promise<void> {
    const k = this.kinds.get(rel);
    if (k === undefined) return;
    await rm(this.abs(rel), { recursive: true, force: true });
    for (const key of [...this.kinds.keys()]) if (key === rel || key.startsWith(`${rel}/`)) this.kinds.delete(key);
  }

  async entry(h: TarHeader, reader: TarReader): Promise<void> {
    this.result.entries++;
    const parts = safeComponents(h.name);
    const base = parts[parts.length - 1] ?? '';
    if (base.startsWith(WHITEOUT)) {
      const dir = await this.parents(parts, h.name);
      if (base === OPAQUE) {
        this.xattrs.push([dir, 'trusted.overlay.opaque', Buffer.from('y')]);
        return;
      }
      if (base.startsWith(`${WHITEOUT}${WHITEOUT}`)) {
        this.result.skipped.push(`${h.name} (aufs metadata)`);
        return;
      }
      const hidden = base.slice(WHITEOUT.length);
      if (hidden === '' || hidden === '.' || hidden === '..') throw new LayerRefusedError(`layer whiteout "${h.name}" names no file`);
      const rel = dir ? `${dir}/${hidden}` : hidden;
      await this.clear(rel);
      await run(['mknod', '-m', '000', this.abs(rel), 'c', '0', '0']);
      this.kinds.set(rel, 'whiteout');
      return;
    }
    if (parts.length === 0) {
      // The layer's root ("./"): its attributes.
      if (h.type !== 'dir') throw new LayerRefusedError(`layer entry "${h.name}" is the layer's root but not a directory`);
      await this.meta(this.root, h, false);
      this.dirTimes.push([this.root, h.mtime]);
      return;
    }
    await this.parents(parts, h.name);
    const rel = parts.join('/');
    const path = this.abs(rel);
    const existing = this.kinds.get(rel);
    if (!(existing === 'dir' && h.type === 'dir')) await this.clear(rel);
    switch (h.type) {
      case 'dir':
        if (existing !== 'dir') await mkdir(path, { mode: 0o700 });
        this.kinds.set(rel, 'dir');
        await this.meta(path, h, false);
        this.dirTimes.push([path, h.mtime]);
        break;
      case 'file': {
        const fh = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of reader.body()) await fh.write(chunk);
        } finally {
          await fh.close();
        }
        this.kinds.set(rel, 'file');
        this.result.size += h.size;
        await this.meta(path, h, true);
        break;
      }
      case 'symlink':
        await symlink(h.linkname, path);
        this.kinds.set(rel, 'symlink');
        this.result.size += Buffer.byteLength(h.linkname);
        await lchown(path, h.uid, h.gid);
        await lutimes(path, h.mtime, h.mtime);
        break;
      case 'hardlink': {
        const target = safeComponents(h.linkname, 'hard link target').join('/');
        const tk = this.kinds.get(target);
        if (tk !== 'file' && tk !== 'symlink' && tk !== 'other') throw new LayerRefusedError(`layer hard link "${h.name}" points at "${h.linkname}", which this layer does not have as a file`);
        // link(2) does not follow a symlink target: the link is to the symlink itself.
        await link(this.abs(target), path);
        this.kinds.set(rel, tk);
        break;
      }
      case 'fifo':
        await run(['mkfifo', '-m', (h.mode & 0o777).toString(8), path]);
        this.kinds.set(rel, 'other');
        await this.meta(path, h, true);
        break;
      case 'char':
      case 'block':
        this.result.skipped.push(`${h.name} (${h.type} device ${h.devmajor}:${h.devminor})`);
        break;
    }
  }

  /** Owner, then mode (chown clears setuid bits), times; extended attributes for later. */
  private async meta(path: string, h: TarHeader, times: boolean): Promise<void> {
    await chown(path, h.uid, h.gid);
    await chmod(path, h.mode & 0o7777);
    if (times) await utimes(path, h.mtime, h.mtime);
    const rel = path === this.root ? '' : path.slice(this.root.length + 1);
    for (const [k, v] of Object.entries(h.xattrs)) if (KEPT_XATTR(k)) this.xattrs.push([rel, k, v]);
  }

  /** Extended attributes in one setfattr, then directory times, deepest first. */
  async finish(): Promise<ExtractResult> {
    const live = this.xattrs.filter(([rel]) => this.kinds.get(rel) === 'dir' || this.kinds.get(rel) === 'file');
    if (live.length) {
      const dump = live.map(([rel, k, v]) => `# file: ${quotePath(this.abs(rel))}\n${k}=0x${v.toString('hex')}\n\n`).join('');
      await run(['setfattr', `--restore=-`], { input: dump, timeoutMs: 120_000 });
    }
    for (const [p, t] of this.dirTimes.sort((a, b) => b[0].length - a[0].length)) {
      await utimes(p, t, t).catch((e: NodeJS.ErrnoException) => {
        // A later entry of the layer replaced the directory (or a whiteout removed it).
        if (e.code !== 'ENOENT' && e.code !== 'ENOTDIR') throw e;
      });
    }
    return this.result;
  }
}

/** Unpacks the layer tar `source` into the empty directory `dir`. */
export async function extractLayer(source: AsyncIterable<Buffer>, dir: string): Promise<ExtractResult> {
  const reader = new TarReader(source);
  const x = new LayerExtractor(dir);
  for (let h = await reader.next(); h; h = await reader.next()) await x.entry(h, reader);
  return x.finish();
}

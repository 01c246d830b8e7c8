/**
 * A directory tree as a tar stream, walked in name order without following links: hard links
 * kept as such, devices and fifos as entries, sockets left out, `security.capability` and `user.*`
 * attributes carried (read with one `getfattr` for the whole tree). For an overlayfs upper
 * directory (a container's writable layer, for `commit`), overlay's whiteouts (0/0 character
 * devices) become `.wh.NAME` entries and opaque directories get a `.wh..wh..opq` entry, as
 * Docker's layer tars have them.
 */
import { Dirent } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { run } from '../../kernel/exec';
import { TarItem, tarStream } from './tar-writer';

export interface ArchiveOptions {
  /** convert overlayfs' whiteouts and opaque directories to the layer format */
  overlayUpper?: boolean;
  /** every entry's mtime (a reproducible archive), instead of the files' own */
  mtime?: number;
}

const XATTRS = '^(trusted\\.overlay\\.opaque|security\\.capability|user\\..*)$';

/** getfattr's octal escapes undone */
function unquote(s: string): string {
  return Buffer.from(s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8))), 'latin1').toString('utf8');
}

/** Every matching attribute of the tree: path → name → value. */
async function treeXattrs(dir: string): Promise<Map<string, Record<string, Buffer>>> {
  const out = new Map<string, Record<string, Buffer>>();
  const text = await run(['getfattr', '-R', '-P', '-d', '-e', 'hex', '--absolute-names', '-m', XATTRS, dir], { timeoutMs: 300_000 }).catch((e: Error) => {
    // A filesystem without extended attributes has none to carry.
    if (/Operation not supported/.test(e.message)) return '';
    throw e;
  });
  let file = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('# file: ')) file = unquote(line.slice(8));
    else if (line && file) {
      const eq = line.indexOf('=');
      const name = line.slice(0, eq);
      const v = line.slice(eq + 1);
      (out.get(file) ?? out.set(file, {}).get(file)!)[name] = v.startsWith('0x') ? Buffer.from(v.slice(2), 'hex') : Buffer.from(v.replace(/^"|"$/g, ''));
    }
  }
  return out;
}

function major(rdev: number): number {
  return Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
}

function minor(rdev: number): number {
  return Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));
}

async function* items(root: string, opts: ArchiveOptions): AsyncGenerator<TarItem> {
  const xattrs = await treeXattrs(root);
  const links = new Map<string, string>();
  const when = (t: number) => opts.mtime ?? Math.floor(t / 1000);
  async function* walk(rel: string): AsyncGenerator<TarItem> {
    const abs = rel ? `${root}/${rel}` : root;
    const names = (await readdir(abs, { withFileTypes: true })).map((d: Dirent) => d.name).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      const p = `${root}/${r}`;
      const st = await lstat(p);
      const base = { uid: st.uid, gid: st.gid, mtime: when(st.mtimeMs), mode: st.mode & 0o7777 };
      const xa = Object.fromEntries(Object.entries(xattrs.get(p) ?? {}).filter(([k]) => !k.startsWith('trusted.')));
      if (st.isDirectory()) {
        yield { entry: { ...base, name: `${r}/`, type: 'dir', xattrs: xa } };
        if (opts.overlayUpper && xattrs.get(p)?.['trusted.overlay.opaque']?.toString() === 'y') {
          yield { entry: { name: `${r}/.wh..wh..opq`, type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, size: 0, mtime: opts.mtime ?? 0 } };
        }
        yield* walk(r);
      } else if (st.isSymbolicLink()) {
        yield { entry: { ...base, name: r, type: 'symlink', linkname: await readlink(p) } };
      } else if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        if (st.nlink > 1 && links.has(key)) {
          yield { entry: { ...base, name: r, type: 'hardlink', linkname: links.get(key) } };
          continue;
        }
        if (st.nlink > 1) links.set(key, r);
        const size = st.size;
        yield {
          entry: { ...base, name: r, type: 'file', size, xattrs: xa },
          data: async function* () {
            const fh = await open(p, 'r');
            try {
              const buf = Buffer.alloc(1 << 16);
              let left = size;
              while (left > 0) {
                const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, left), null);
                if (bytesRead === 0) break;
                left -= bytesRead;
                yield Buffer.from(buf.subarray(0, bytesRead));
              }
            } finally {
              await fh.close();
            }
          },
        };
      } else if (st.isCharacterDevice() || st.isBlockDevice()) {
        if (opts.overlayUpper && st.isCharacterDevice() && st.rdev === 0) {
          const slash = r.lastIndexOf('/');
          const wh = slash >= 0 ? `${r.slice(0, slash)}/.wh.${r.slice(slash + 1)}` : `.wh.${r}`;
          yield { entry: { name: wh, type: 'file', mode: 0o600, uid: st.uid, gid: st.gid, size: 0, mtime: when(st.mtimeMs) } };
          continue;
        }
        yield { entry: { ...base, name: r, type: st.isCharacterDevice() ? 'char' : 'block', devmajor: major(st.rdev), devminor: minor(st.rdev) } };
      } else if (st.isFIFO()) {
        yield { entry: { ...base, name: r, type: 'fifo' } };
      }
      // Sockets cannot be archived (tar has no type for them): left out, as Docker does.
    }
  }
  yield* walk('');
}

/** The tree under `dir` as a tar stream (names relative to it, no leading "./"). */
export function archiveDir(dir: string, opts: ArchiveOptions = {}): Readable {
  return tarStream(items(dir.replace(/\/+$/, ''), opts));
}

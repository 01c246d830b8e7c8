/**
 * Tar headers and streams, written the way Go's archive/tar writes them (Docker's `save`, `export`
 * and layer tars are made with it): ustar headers with zero-padded octal fields, `ustar\0` `00`
 * magic, user and group names, the file type bits in the mode field, and pax records only for
 * what ustar cannot hold (long names and links, big sizes and ids, extended attributes).
 */
import { Readable } from 'node:stream';
import { TarType } from './tar-reader';

export interface TarEntry {
  name: string;
  type: TarType;
  /** permission bits (07777) */
  mode: number;
  uid?: number;
  gid?: number;
  size?: number;
  /** seconds since the epoch */
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, Buffer>;
}

const BLOCK = 512;
const FLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6' };
/** st_mode type bits, which Go's FileInfoHeader leaves in the mode field */
const TYPE_BITS: Record<TarType, number> = { file: 0o100000, hardlink: 0o100000, symlink: 0o120000, char: 0o020000, block: 0o060000, dir: 0o040000, fifo: 0o010000 };

/** Two zero blocks: the end of an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

export function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** Fits `v` in an octal field of `len` bytes (digits plus NUL), or undefined when it cannot. */
function octal(v: number, len: number): string | undefined {
  const s = Math.floor(v).toString(8);
  return s.length > len - 1 ? undefined : s.padStart(len - 1, '0');
}

function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  // The length counts its own digits.
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return Buffer.concat([Buffer.from(String(len)), body]);
}

/** `name` split into ustar's prefix (155) and name (100) fields, when it can be. */
function splitUstar(name: string): [string, string] | undefined {
  const b = Buffer.byteLength(name);
  if (b <= 100) return ['', name];
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const pre = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(pre) <= 155 && Buffer.byteLength(rest) <= 100 && rest) return [pre, rest];
  }
  return undefined;
}

function block(e: TarEntry, flag: string, name: string, prefix: string, fields: { uid: string; gid: string; size: string; mtime: string }): Buffer {
  const h = Buffer.alloc(BLOCK);
  const put = (s: string, off: number, len: number) => h.write(s, off, len, 'utf8');
  put(name, 0, 100);
  put(`${octal(((e.mode & 0o7777) | TYPE_BITS[e.type]) >>> 0, 8)}\0`, 100, 8);
  put(`${fields.uid}\0`, 108, 8);
  put(`${fields.gid}\0`, 116, 8);
  put(`${fields.size}\0`, 124, 12);
  put(`${fields.mtime}\0`, 136, 12);
  h.fill(0x20, 148, 156);
  put(flag, 156, 1);
  if (e.linkname && Buffer.byteLength(e.linkname) <= 100) put(e.linkname, 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  put(e.uname ?? '', 265, 32);
  put(e.gname ?? '', 297, 32);
  put(`${octal(e.devmajor ?? 0, 8)}\0`, 329, 8);
  put(`${octal(e.devminor ?? 0, 8)}\0`, 337, 8);
  put(prefix, 345, 155);
  let sum = 0;
  for (const c of h) sum += c;
  put(`${octal(sum, 7)}\0 `, 148, 8);
  return h;
}

/** The header block(s) of one entry: a pax header first when ustar cannot hold it. */
export function tarHeader(e: TarEntry): Buffer {
  const size = e.type === 'file' ? (e.size ?? 0) : 0;
  const pax: Buffer[] = [];
  let name = e.name;
  let prefix = '';
  const split = splitUstar(name);
  if (split) [prefix, name] = split;
  else {
    pax.push(paxRecord('path', Buffer.from(e.name)));
    name = Buffer.from(e.name).subarray(0, 100).toString('utf8');
  }
  if (e.linkname && Buffer.byteLength(e.linkname) > 100) pax.push(paxRecord('linkpath', Buffer.from(e.linkname)));
  const field = (key: string, v: number, len: number): string => {
    const o = octal(v, len);
    if (o !== undefined) return o;
    pax.push(paxRecord(key, Buffer.from(String(v))));
    return '0'.repeat(len - 1);
  };
  const fields = { uid: field('uid', e.uid ?? 0, 8), gid: field('gid', e.gid ?? 0, 8), size: field('size', size, 12), mtime: field('mtime', e.mtime ?? 0, 12) };
  for (const [k, v] of Object.entries(e.xattrs ?? {})) pax.push(paxRecord(`SCHILY.xattr.${k}`, v));
  const main = block(e, FLAG[e.type], name, prefix, fields);
  if (!pax.length) return main;
  const records = Buffer.concat(pax);
  const slash = e.name.replace(/\/$/, '').lastIndexOf('/');
  const paxName = slash >= 0 ? `${e.name.slice(0, slash)}/PaxHeaders.0/${e.name.slice(slash + 1)}` : `PaxHeaders.0/${e.name}`;
  const paxHead = block({ name: '', type: 'file', mode: 0, uid: 0, gid: 0 }, 'x', Buffer.from(paxName).subarray(0, 100).toString('utf8'), '', {
    uid: '0'.repeat(7), gid: '0'.repeat(7), size: octal(records.length, 12)!, mtime: '0'.repeat(11),
  });
  // Go writes the pax header's mode without type bits.
  paxHead.write('0000000\0', 100, 8);
  let sum = 0;
  paxHead.fill(0x20, 148, 156);
  for (const c of paxHead) sum += c;
  paxHead.write(`${octal(sum, 7)}\0 `, 148, 8);
  return Buffer.concat([paxHead, records, padding(records.length), main]);
}

export interface TarItem {
  entry: TarEntry;
  /** the data of a file entry: exactly entry.size bytes */
  data?: Buffer | (() => AsyncIterable<Buffer>);
}

/** A tar stream of `items`, ended by the two zero blocks. */
export function tarStream(items: AsyncIterable<TarItem> | Iterable<TarItem>): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    for await (const { entry, data } of items) {
      yield tarHeader(entry);
      if (entry.type !== 'file') continue;
      let n = 0;
      if (Buffer.isBuffer(data)) {
        n = data.length;
        if (n) yield data;
      } else if (data) {
        for await (const c of data()) {
          n += c.length;
          yield c;
        }
      }
      if (n !== (entry.size ?? 0)) throw new Error(`${entry.name} changed while it was archived (${n} bytes, expected ${entry.size ?? 0})`);
      const pad = padding(n);
      if (pad.length) yield pad;
    }
    yield TAR_END;
  }
  return Readable.from(gen(), { objectMode: false });
}

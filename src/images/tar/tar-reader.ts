/**
 * A streaming tar reader: ustar, GNU (long names and links, base-256 numbers) and POSIX pax
 * (path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*) headers, read from any byte stream one
 * entry at a time, never holding more than one read chunk and the current header in memory.
 * Written here rather than borrowed so that every name and size a layer carries passes through
 * code that checks it (layer-extractor.ts decides what may be written where).
 *
 * Limitations: sparse files (GNU 'S', pax GNU.sparse.*) and multi-volume archives are refused;
 * global pax headers ('g') are read and ignored.
 */

export type TarType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarHeader {
  /** as in the archive (pax path or GNU long name when present), not normalised */
  name: string;
  type: TarType;
  /** permission and special bits (07777) */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** seconds since the epoch (fractional with pax) */
  mtime: number;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** SCHILY.xattr.* records */
  xattrs: Record<string, Buffer>;
}

export class TarFormatError extends Error {}

const BLOCK = 512;
/** bounds for the metadata bodies (pax records, GNU long names) a reader holds in memory */
const MAX_META = 1 << 20;

/** Pulls exact byte counts from an async iterable of chunks. */
class Bytes {
  private readonly it: AsyncIterator<Buffer | string>;
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  /** bytes consumed so far */
  offset = 0;

  constructor(src: AsyncIterable<Buffer | string>) {
    this.it = src[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.it.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** n bytes, or fewer at the end of the stream */
  async read(n: number): Promise<Buffer> {
    while (this.buf.length < n) if (!(await this.fill())) break;
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** up to n bytes (at least one unless the stream ended) */
  async some(n: number): Promise<Buffer> {
    if (this.buf.length === 0) await this.fill();
    const out = this.buf.subarray(0, Math.min(n, this.buf.length));
    this.buf = this.buf.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** drains what is left (tar writers pad archives to records; trailing garbage is harmless) */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    while (await this.fill()) this.buf = Buffer.alloc(0);
  }
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return (z >= 0 ? b.subarray(0, z) : b).toString('utf8');
}

/** An octal field, or GNU base-256 when the high bit of its first byte is set. */
function num(b: Buffer, field: string): number {
  if (b[0] & 0x80) {
    if (b[0] & 0x40) throw new TarFormatError(`negative ${field} in a tar header`);
    let v = b[0] & 0x3f;
    for (let i = 1; i < b.length; i++) v = v * 256 + b[i];
    if (!Number.isSafeInteger(v)) throw new TarFormatError(`${field} too large in a tar header`);
    return v;
  }
  const s = cstr(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarFormatError(`invalid ${field} "${s}" in a tar header`);
  return parseInt(s, 8);
}

function checksumOk(h: Buffer): boolean {
  const want = num(h.subarray(148, 156), 'checksum');
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const c = i >= 148 && i < 156 ? 0x20 : h[i];
    unsigned += c;
    signed += c > 127 ? c - 256 : c;
  }
  return want === unsigned || want === signed;
}

/** pax extended header records: "LEN key=value\n" */
function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(0x20, i);
    if (sp < 0) throw new TarFormatError('malformed pax record');
    const len = Number(body.subarray(i, sp).toString());
    if (!Number.isInteger(len) || len <= sp - i || i + len > body.length || body[i + len - 1] !== 0x0a) throw new TarFormatError('malformed pax record');
    const rec = body.subarray(sp + 1, i + len - 1);
    const eq = rec.indexOf(0x3d);
    if (eq < 0) throw new TarFormatError('malformed pax record');
    out.set(rec.subarray(0, eq).toString('utf8'), rec.subarray(eq + 1));
    i += len;
  }
  return out;
}

const TYPES: Record<string, TarType> = { '0': 'file', '\0': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '3': 'char', '4': 'block', '5': 'dir', '6': 'fifo' };

function paxNumber(v: Buffer, key: string): number {
  const s = v.toString();
  if (!/^-?\d+(\.\d+)?$/.test(s)) throw new TarFormatError(`invalid pax ${key} "${s}"`);
  return Number(s);
}

export class TarReader {
  private readonly src: Bytes;
  /** body bytes of the current entry not yet read, and its padding */
  private left = 0;
  private pad = 0;
  private done = false;

  constructor(source: AsyncIterable<Buffer | string>) {
    this.src = new Bytes(source);
  }

  /** bytes of the archive consumed so far */
  get position(): number {
    return this.src.offset;
  }

  private async skipBody(): Promise<void> {
    while (this.left > 0) {
      const b = await this.src.some(Math.min(this.left, 1 << 16));
      if (b.length === 0) throw new TarFormatError('unexpected end of the tar archive inside an entry');
      this.left -= b.length;
    }
    if (this.pad) {
      const p = await this.src.read(this.pad);
      if (p.length < this.pad) throw new TarFormatError('unexpected end of the tar archive');
      this.pad = 0;
    }
  }

  private async readMeta(size: number): Promise<Buffer> {
    if (size > MAX_META) throw new TarFormatError(`tar metadata entry of ${size} bytes (at most ${MAX_META})`);
    const b = await this.src.read(size);
    if (b.length < size) throw new TarFormatError('unexpected end of the tar archive');
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if ((await this.src.read(pad)).length < pad) throw new TarFormatError('unexpected end of the tar archive');
    return b;
  }

  /** The next entry's header; undefined at the end of the archive. Skips an unread body. */
  async next(): Promise<TarHeader | undefined> {
    if (this.done) return undefined;
    await this.skipBody();
    let pax = new Map<string, Buffer>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const h = await this.src.read(BLOCK);
      if (h.length === 0) {
        // An archive cut right after an entry, without its end blocks: GNU tar accepts it too.
        this.done = true;
        return undefined;
      }
      if (h.length < BLOCK) throw new TarFormatError('unexpected end of the tar archive in a header');
      if (h.every((x) => x === 0)) {
        this.done = true;
        await this.src.drain();
        return undefined;
      }
      if (!checksumOk(h)) throw new TarFormatError(`tar header checksum mismatch at byte ${this.src.offset - BLOCK}`);
      const flag = String.fromCharCode(h[156]);
      const size = num(h.subarray(124, 136), 'size');
      if (flag === 'x') {
        pax = new Map([...pax, ...parsePax(await this.readMeta(size))]);
        continue;
      }
      if (flag === 'g') {
        await this.readMeta(size);
        continue;
      }
      if (flag === 'L') {
        longName = cstr(await this.readMeta(size));
        continue;
      }
      if (flag === 'K') {
        longLink = cstr(await this.readMeta(size));
        continue;
      }
      if (flag === 'S' || [...pax.keys()].some((k) => k.startsWith('GNU.sparse.'))) throw new TarFormatError('sparse files in tar archives are not supported');
      if (flag === 'M' || flag === 'V') throw new TarFormatError('multi-volume tar archives are not supported');
      const type = TYPES[flag];
      const ustar = h.subarray(257, 263).toString('latin1') === 'ustar\0';
      const prefix = ustar ? cstr(h.subarray(345, 500)) : '';
      let name = longName ?? (prefix ? `${prefix}/${cstr(h.subarray(0, 100))}` : cstr(h.subarray(0, 100)));
      let linkname = longLink ?? cstr(h.subarray(157, 257));
      const header: TarHeader = {
        name,
        type: type ?? 'file',
        mode: num(h.subarray(100, 108), 'mode') & 0o7777,
        uid: num(h.subarray(108, 116), 'uid'),
        gid: num(h.subarray(116, 124), 'gid'),
        size,
        mtime: num(h.subarray(136, 148), 'mtime'),
        linkname,
        uname: cstr(h.subarray(265, 297)),
        gname: cstr(h.subarray(297, 329)),
        devmajor: type === 'char' || type === 'block' ? num(h.subarray(329, 337), 'devmajor') : 0,
        devminor: type === 'char' || type === 'block' ? num(h.subarray(337, 345), 'devminor') : 0,
        xattrs: {},
      };
      for (const [k, v] of pax) {
        if (k === 'path') name = header.name = v.toString('utf8');
        else if (k === 'linkpath') linkname = header.linkname = v.toString('utf8');
        else if (k === 'size') header.size = paxNumber(v, k);
        else if (k === 'uid') header.uid = paxNumber(v, k);
        else if (k === 'gid') header.gid = paxNumber(v, k);
        else if (k === 'mtime') header.mtime = paxNumber(v, k);
        else if (k === 'uname') header.uname = v.toString('utf8');
        else if (k === 'gname') header.gname = v.toString('utf8');
        else if (k.startsWith('SCHILY.xattr.')) header.xattrs[k.slice('SCHILY.xattr.'.length)] = v;
      }
      if (!Number.isSafeInteger(header.size) || header.size < 0) throw new TarFormatError(`invalid size of ${name}`);
      if (!Number.isSafeInteger(header.uid) || header.uid < 0 || !Number.isSafeInteger(header.gid) || header.gid < 0) throw new TarFormatError(`invalid owner of ${name}`);
      if (type === undefined) throw new TarFormatError(`unsupported tar entry type "${flag.replace(/\0/g, '\\0')}" for ${name}`);
      // Links, directories, devices and fifos carry no data whatever their size field says (as Go's reader).
      const hasData = header.type === 'file';
      this.left = hasData ? header.size : 0;
      this.pad = hasData ? (BLOCK - (header.size % BLOCK)) % BLOCK : 0;
      return header;
    }
  }

  /** The current entry's data, in chunks; read it whole or not at all. */
  async *body(): AsyncGenerator<Buffer> {
    while (this.left > 0) {
      const b = await this.src.some(Math.min(this.left, 1 << 16));
      if (b.length === 0) throw new TarFormatError('unexpected end of the tar archive inside an entry');
      this.left -= b.length;
      yield b;
    }
  }

  /** The current entry's data as one buffer (at most `max` bytes). */
  async bodyBuffer(max: number): Promise<Buffer> {
    if (this.left > max) throw new TarFormatError(`tar entry of ${this.left} bytes is larger than ${max}`);
    const parts: Buffer[] = [];
    for await (const b of this.body()) parts.push(Buffer.from(b));
    return Buffer.concat(parts);
  }
}

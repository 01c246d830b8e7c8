/**
 * Blobs by digest under ROOT/images/blobs/sha256/<hex>: image configs (an image's id is its
 * config's digest), manifests, and layer blobs as they were pulled or loaded. A blob is written to
 * ROOT/images/tmp first, its digest checked while it streams, and renamed into place only when it
 * matches, so a blob file is always whole and right. A download cut short (a daemon kill) leaves
 * its partial file, named after the digest, for the next pull to resume.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { EngineError } from '../base/errors';

export const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function sha256(b: Buffer | string): string {
  return `sha256:${createHash('sha256').update(b).digest('hex')}`;
}

function hex(digest: string): string {
  if (!DIGEST.test(digest)) throw new EngineError('INVALID_PARAMETER', `invalid digest "${digest}"`, { hint: 'digests are sha256:<64 hex digits>' });
  return digest.slice(7);
}

/** A blob being written: pass its bytes through `stream`; then commit (digest checked) or abort. */
export interface BlobWriter {
  /** every byte of the blob goes through it (the resumed prefix too); it passes them on */
  stream: Transform;
  /** bytes already on disk from an earlier attempt (they must be sent through `stream` first) */
  resumedFrom: number;
  /** checks digest and size, moves the blob into place; resolves with its digest */
  commit(): Promise<string>;
  /** forgets the attempt; `keep` leaves the partial file for a later resume */
  abort(keep?: boolean): Promise<void>;
}

export class ContentStore {
  constructor(
    private readonly dir: string,
    private readonly tmp: string,
  ) {}

  path(digest: string): string {
    return `${this.dir}/sha256/${hex(digest)}`;
  }

  async init(): Promise<void> {
    await mkdir(`${this.dir}/sha256`, { recursive: true });
    await mkdir(this.tmp, { recursive: true });
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(() => true, () => false);
  }

  async size(digest: string): Promise<number> {
    return (await stat(this.path(digest))).size;
  }

  /** A small blob whole (configs, manifests); missing or larger than `max`: an error. */
  async read(digest: string, max = 16 << 20): Promise<Buffer> {
    const st = await stat(this.path(digest));
    if (st.size > max) throw new EngineError('IMAGE_LAYER_INVALID', `blob ${digest} is ${st.size} bytes, more than ${max}`);
    return readFile(this.path(digest));
  }

  open(digest: string, start = 0): Readable {
    return createReadStream(this.path(digest), { start, highWaterMark: 1 << 16 });
  }

  /** The first `length` bytes an interrupted download of `digest` left (to replay on resume). */
  openPartial(digest: string, length: number): Readable {
    return createReadStream(`${this.tmp}/ingest-${hex(digest)}`, { start: 0, end: length - 1, highWaterMark: 1 << 16 });
  }

  /** Stores bytes already in memory (a config, a manifest); returns their digest. */
  async put(data: Buffer): Promise<string> {
    const digest = sha256(data);
    if (await this.has(digest)) return digest;
    const t = `${this.tmp}/put-${randomBytes(6).toString('hex')}`;
    await writeFile(t, data);
    await rename(t, this.path(digest));
    return digest;
  }

  async remove(digest: string): Promise<void> {
    await unlink(this.path(digest)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  /**
   * A writer for blob `digest` (of `size` bytes when known; any digest when undefined: it is
   * computed). With `resume`, the bytes an earlier attempt left are kept: the caller replays them
   * through `stream` (they are hashed, not written again) and fetches the rest. Without, the blob
   * goes to a fresh temporary file.
   */
  async writer(digest: string | undefined, size: number | undefined, resume: boolean): Promise<BlobWriter> {
    const h = digest ? hex(digest) : 'new';
    const file = resume && digest ? `${this.tmp}/ingest-${h}` : `${this.tmp}/blob-${h}-${randomBytes(4).toString('hex')}`;
    let resumedFrom = 0;
    if (resume) {
      resumedFrom = await stat(file).then((s) => s.size, () => 0);
      if (size !== undefined && resumedFrom > size) {
        await rm(file, { force: true });
        resumedFrom = 0;
      }
    }
    const fh = await open(file, resumedFrom ? 'a' : 'w');
    const hash = createHash('sha256');
    let seen = 0;
    let closed = false;
    const close = async () => {
      if (!closed) {
        closed = true;
        await fh.close();
      }
    };
    const stream = new Transform({
      transform(chunk: Buffer, _enc, cb: TransformCallback) {
        hash.update(chunk);
        const skip = Math.max(0, Math.min(chunk.length, resumedFrom - seen));
        seen += chunk.length;
        if (size !== undefined && seen > size) return cb(new EngineError('IMAGE_LAYER_INVALID', `blob ${digest ?? ''} is larger than the ${size} bytes its descriptor says`));
        if (skip === chunk.length) return cb(null, chunk);
        fh.write(chunk.subarray(skip)).then(() => cb(null, chunk), cb);
      },
    });
    return {
      stream,
      resumedFrom,
      commit: async () => {
        await close();
        const got = `sha256:${hash.digest('hex')}`;
        if (size !== undefined && seen !== size) {
          await rm(file, { force: true });
          throw new EngineError('IMAGE_LAYER_INVALID', `blob ${digest} is ${seen} bytes, its descriptor says ${size}`, { hint: 'the registry or archive is corrupt; nothing of it was kept' });
        }
        if (digest && got !== digest) {
          await rm(file, { force: true });
          throw new EngineError('IMAGE_LAYER_INVALID', `filesystem layer verification failed for digest ${digest} (got ${got})`, { hint: 'the blob is corrupt; nothing of it was kept' });
        }
        await rename(file, this.path(got));
        return got;
      },
      abort: async (keep = false) => {
        await close();
        if (!keep) await rm(file, { force: true });
      },
    };
  }

  /**
   * At daemon start: temporary files of interrupted work go, except partial downloads younger
   * than a day (a pull started again resumes them).
   */
  async sweep(now = Date.now()): Promise<void> {
    for (const n of await readdir(this.tmp).catch(() => [] as string[])) {
      const p = `${this.tmp}/${n}`;
      if (n.startsWith('ingest-') && now - (await stat(p)).mtimeMs < 86_400_000) continue;
      await rm(p, { recursive: true, force: true });
    }
  }

  /** Digests of every blob present. */
  async list(): Promise<string[]> {
    return (await readdir(`${this.dir}/sha256`).catch(() => [] as string[])).filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}

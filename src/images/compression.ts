/**
 * Layer compression: gzip through Node's zlib, zstd through Debian's `zstd` program (Node 20's
 * zlib has none), told apart by their magic numbers so that a blob whose media type lies (or an
 * archive member of `docker load`) is still read right.
 */
import { spawn } from 'node:child_process';
import { PassThrough, Readable, Transform } from 'node:stream';
import { createGunzip, createGzip } from 'node:zlib';

export type Compression = 'none' | 'gzip' | 'zstd';

export function sniff(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'none';
}

/** The compression a layer media type names (OCI and Docker). */
export function compressionOf(mediaType: string): Compression {
  if (/gzip$/.test(mediaType)) return 'gzip';
  if (/zstd$/.test(mediaType)) return 'zstd';
  return 'none';
}

/** Runs `zstd` on a stream; its failure (exit code, stderr) fails the output stream. */
function zstdStream(args: string[], input: Readable): Readable {
  const child = spawn('zstd', [...args, '-q', '-c'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = new PassThrough();
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  child.on('error', (e) => out.destroy(new Error(`cannot run zstd (apt-get install zstd): ${e.message}`)));
  child.stdout.pipe(out, { end: false });
  child.on('close', (code, signal) => {
    if (code === 0) out.end();
    else out.destroy(new Error(`zstd ${args.join(' ')} failed (${code ?? signal}): ${err.trim() || 'no output'}`));
  });
  // Stopping early (a refused layer) ends the child; its EPIPE is then expected.
  child.stdin.on('error', () => {});
  out.on('close', () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  input.on('error', (e) => out.destroy(e));
  input.pipe(child.stdin);
  return out;
}

/**
 * A tar stream from a (possibly compressed) layer stream: the first bytes decide. Errors of
 * `input` and of the decompressor end the returned stream.
 */
export function decompressed(input: Readable): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const first: Buffer[] = [];
    let size = 0;
    let ended = false;
    while (size < 4) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      first.push(r.value);
      size += r.value.length;
    }
    const head = Buffer.concat(first);
    const kind = sniff(head);
    const rest = Readable.from((async function* () {
      if (head.length) yield head;
      if (ended) return;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })());
    const src = kind === 'gzip' ? rest.pipe(createGunzip()) : kind === 'zstd' ? zstdStream(['-d'], rest) : rest;
    if (kind === 'gzip') rest.on('error', (e) => src.destroy(e));
    for await (const c of src) yield c as Buffer;
  }
  return Readable.from(gen(), { objectMode: false });
}

/**
 * `input` with `see` called on each chunk on its way (byte counts, progress). A 'data' listener
 * would do the same but put the stream in flowing mode, and a reader that iterates it then misses
 * chunks.
 */
export function tap(input: Readable, see: (chunk: Buffer) => void): Readable {
  const t = new Transform({
    transform(chunk: Buffer, _e, cb) {
      see(chunk);
      cb(null, chunk);
    },
  });
  input.on('error', (e) => t.destroy(e));
  return input.pipe(t);
}

/** A gzip stream of `input` (what `push` sends for an uncompressed layer). */
export function gzipped(input: Readable): Readable {
  const z = createGzip();
  input.on('error', (e) => z.destroy(e));
  return input.pipe(z);
}

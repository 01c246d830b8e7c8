/**
 * `docker pull`: the manifest (by tag or digest; an index or manifest list resolved to the
 * platform asked for), the config, then the layers, three at a time, each streamed once through
 * its blob digest check, the decompressor (gzip, zstd) and its diff id check into the layer store,
 * while the blob is kept for push and save. A layer already unpacked is "Already exists"; one
 * that another pull is fetching is waited for, not fetched twice. A broken download keeps its
 * partial file and the next pull resumes it (an HTTP range request); a blob or layer whose digest
 * is wrong is refused and nothing of it stays. Progress is Docker's sequence of messages.
 */
import { Readable } from 'node:stream';
import { EngineError } from '../base/errors';
import { detailsFromJson, ImageDetails } from '../base/image-config';
import { familiarName, familiarTag, ImageRef, parseImageRef } from '../base/image-ref';
import { LayerBlobRecord } from '../base/model';
import { NewLayer, StoreCore } from './_store-core';
import { decompressed, tap } from './compression';
import { sha256 } from './content-store';
import { Image, Progress, RegistryAuth } from './image-store';
import { ACCEPT, choosePlatform, Descriptor, parseManifest, parsePlatform, platformString } from './manifest';
import { RegistrySession } from './registry/registry-client';

const CONCURRENCY = 3;
const MAX_MANIFEST = 4 << 20;
const MAX_CONFIG = 8 << 20;

/** Docker's short id of a blob or layer */
export const short = (digest: string): string => digest.slice(7, 19);

/** Calls `fn` at most every `ms` (and always for the last value, via flush). */
function throttle(ms: number, fn: (current: number) => void): { update(n: number): void; flush(): void } {
  let last = 0;
  let value = 0;
  return {
    update(n) {
      value = n;
      const now = Date.now();
      if (now - last >= ms) {
        last = now;
        fn(value);
      }
    },
    flush() {
      fn(value);
    },
  };
}

async function fetchManifest(s: RegistrySession, ref: ImageRef, reference: string, what: string): Promise<{ body: Buffer; contentType: string; digest: string }> {
  for (;;) {
    const res = await s.request('GET', `/v2/${ref.path}/manifests/${reference}`, { Accept: ACCEPT });
    if (res.statusCode === 200) {
      const body = await s.readSmall(res, MAX_MANIFEST);
      const digest = sha256(body);
      if (reference.startsWith('sha256:') && digest !== reference) {
        throw new EngineError('IMAGE_LAYER_INVALID', `manifest verification failed for digest ${reference} (got ${digest})`, { hint: 'the registry is corrupt or not trustworthy' });
      }
      return { body, contentType: String(res.headers['content-type'] ?? ''), digest };
    }
    // A mirror that does not have it (or fails): Docker goes on to the next endpoint.
    if (s.onMirror && (await s.next().catch(() => false))) {
      res.resume();
      continue;
    }
    return s.fail(res, what);
  }
}

async function fetchBlobSmall(s: RegistrySession, ref: ImageRef, d: Descriptor, max: number): Promise<Buffer> {
  const res = await s.request('GET', `/v2/${ref.path}/blobs/${d.digest}`);
  if (res.statusCode !== 200) return s.fail(res, `blob ${d.digest}`);
  const body = await s.readSmall(res, max);
  if (sha256(body) !== d.digest || body.length !== d.size) {
    throw new EngineError('IMAGE_LAYER_INVALID', `config verification failed for digest ${d.digest}`, { hint: 'the registry is corrupt; nothing was kept' });
  }
  return body;
}

/** The bytes of `first` then of `rest`, as one stream. */
function concat(first: Readable, rest: Readable): Readable {
  return Readable.from((async function* () {
    for await (const c of first) yield c as Buffer;
    for await (const c of rest) yield c as Buffer;
  })());
}

interface LayerJob {
  desc: Descriptor;
  diffId: string;
}

/** Downloads and unpacks one layer; a resumable download keeps its partial file when it breaks. */
async function fetchLayer(core: StoreCore, s: RegistrySession, ref: ImageRef, job: LayerJob, progress: Progress): Promise<NewLayer> {
  const { desc, diffId } = job;
  const id = short(desc.digest);
  const haveBlob = (await core.blobs.has(desc.digest)) && (await core.blobs.size(desc.digest)) === desc.size;
  let w = haveBlob ? undefined : await core.blobs.writer(desc.digest, desc.size, true);
  let source: Readable;
  if (!w) {
    source = core.blobs.open(desc.digest);
  } else {
    const headers: Record<string, string> = w.resumedFrom ? { Range: `bytes=${w.resumedFrom}-` } : {};
    const res = await s.request('GET', `/v2/${ref.path}/blobs/${desc.digest}`, headers);
    if (res.statusCode === 206 && w.resumedFrom) {
      core.log(`pull: resuming ${desc.digest} at byte ${w.resumedFrom}`);
      source = concat(core.blobs.openPartial(desc.digest, w.resumedFrom), res);
    } else if (res.statusCode === 200) {
      if (w.resumedFrom) {
        // No range support: start again from the first byte.
        await w.abort();
        w = await core.blobs.writer(desc.digest, desc.size, true);
      }
      source = res;
    } else {
      await w.abort(true);
      return s.fail(res, `blob ${desc.digest}`);
    }
  }
  let seen = 0;
  const bar = throttle(100, (n) => progress({ id, status: 'Downloading', current: n, total: desc.size }));
  const counted = tap(source, (d) => {
    seen += d.length;
    bar.update(seen);
  });
  const blobStream = w ? counted.pipe(w.stream) : counted;
  if (w) counted.on('error', (e) => w!.stream.destroy(e));
  try {
    // The pull pinned the layer already: the unpack's own pin is not needed past this point.
    const layer = await core.layers.unpack(decompressed(blobStream), diffId);
    layer.release();
    if (w) {
      bar.flush();
      progress({ id, status: 'Verifying Checksum' });
      await w.commit();
    }
    progress({ id, status: 'Download complete' });
    const blob: LayerBlobRecord = { digest: desc.digest, diffId, mediaType: desc.mediaType, size: desc.size };
    return { diffId, size: layer.size, tarSize: layer.tarSize, blob };
  } catch (e) {
    // A broken connection keeps what it got, to resume; anything else (a digest that does not
    // match, a blob that does not decompress, a layer refused) leaves nothing.
    source.destroy();
    await w?.abort(brokenConnection(e));
    if (isDecodeError(e)) throw new EngineError('IMAGE_LAYER_INVALID', `filesystem layer verification failed for digest ${desc.digest}: it does not decompress (${(e as Error).message})`, { cause: e, hint: 'the blob is corrupt; nothing of it was kept' });
    throw e;
  }
}

function brokenConnection(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException;
  return ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNREFUSED', 'ERR_STREAM_PREMATURE_CLOSE', 'ECONNABORTED'].includes(err?.code ?? '') || /aborted|socket hang up|stopped sending/.test(err?.message ?? '');
}

/** zlib's errors (Z_DATA_ERROR, …) and zstd's failure: the blob is not what it claims. */
function isDecodeError(e: unknown): boolean {
  const err = e as NodeJS.ErrnoException;
  return (err?.code ?? '').startsWith('Z_') || /^zstd .*failed/.test(err?.message ?? '');
}

export async function pullImage(core: StoreCore, refText: string, opts: { auth: RegistryAuth; platform?: string; progress: Progress }): Promise<Image> {
  const ref = parseImageRef(refText);
  if (!ref.tag && !ref.digest) ref.tag = 'latest';
  const want = parsePlatform(opts.platform);
  const progress = opts.progress;
  const reference = ref.digest ?? ref.tag!;
  const shown = ref.digest ? `${familiarName(ref)}@${ref.digest}` : familiarTag(ref);
  const s = core.registry.session(ref.domain, ref.path, opts.auth, false);
  await s.connect();
  progress({ id: ref.digest ?? ref.tag, status: `Pulling from ${ref.path}` });

  const top = await fetchManifest(s, ref, reference, `manifest for ${shown}`);
  let parsed = parseManifest(top.body, top.contentType);
  if (parsed.kind === 'index') {
    const entry = choosePlatform(parsed.manifests, want);
    const m = await fetchManifest(s, ref, entry.digest, `manifest ${entry.digest} for ${platformString(want)}`);
    parsed = parseManifest(m.body, m.contentType);
    if (parsed.kind !== 'image') throw new EngineError('IMAGE_UNSUPPORTED', `the ${platformString(want)} entry of ${shown} is an index again`);
  }
  const manifest = parsed;
  const configBytes = await fetchBlobSmall(s, ref, manifest.config, MAX_CONFIG);
  let details: ImageDetails;
  try {
    details = detailsFromJson(JSON.parse(configBytes.toString('utf8')));
  } catch {
    throw new EngineError('IMAGE_UNSUPPORTED', `the config of ${shown} is not JSON`);
  }
  if (details.diffIds.length !== manifest.layers.length) {
    throw new EngineError('IMAGE_UNSUPPORTED', `the manifest of ${shown} has ${manifest.layers.length} layers, its config ${details.diffIds.length}`);
  }
  if (details.os && details.os !== want.os) throw new EngineError('IMAGE_UNSUPPORTED', `image operating system "${details.os}" cannot be used on this platform`);
  const existing = core.find(manifest.config.digest);
  const release = core.pin(details.diffIds);
  const jobs: LayerJob[] = [];
  const done: NewLayer[] = [];
  try {
    for (let i = 0; i < manifest.layers.length; i++) {
      const desc = manifest.layers[i];
      if (desc.urls?.length || /foreign|nondistributable/.test(desc.mediaType)) {
        throw new EngineError('IMAGE_UNSUPPORTED', `layer ${desc.digest} is a foreign layer (downloaded from ${desc.urls?.[0] ?? 'elsewhere'}), which ctrnet does not fetch`);
      }
      if (await core.hasLayer(details.diffIds[i])) progress({ id: short(desc.digest), status: 'Already exists' });
      else {
        jobs.push({ desc, diffId: details.diffIds[i] });
        progress({ id: short(desc.digest), status: 'Pulling fs layer' });
      }
    }
    for (const j of jobs.slice(CONCURRENCY)) progress({ id: short(j.desc.digest), status: 'Waiting' });
    // Three at a time, as Docker; a layer another pull is fetching is shared, not fetched again.
    // A failed layer does not stop the others (a pull sharing them may need them): they finish.
    const queue = [...jobs];
    const worker = async () => {
      for (let j = queue.shift(); j; j = queue.shift()) {
        const job = j;
        done.push(await core.once(`layer:${job.diffId}`, () => fetchLayer(core, s, ref, job, progress)));
        progress({ id: short(job.desc.digest), status: 'Pull complete' });
      }
    };
    const results = await Promise.allSettled(Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, worker));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    // The manifest is kept: a push of the image to another registry sends the same bytes (same digest).
    await core.blobs.put(top.body);
    const digest = { repo: familiarName(ref), digest: top.digest, mediaType: parseManifest(top.body, top.contentType).mediaType };
    const tag = ref.digest ? undefined : familiarTag(ref);
    const before = tag ? core.find(tag)?.id : undefined;
    const image = await core.addImage({ configBytes, layers: done, tags: tag ? [tag] : [], digests: [digest] });
    progress({ status: `Digest: ${top.digest}` });
    const upToDate = existing && (!tag || before === image.id);
    progress({ status: `Status: ${upToDate ? 'Image is up to date' : 'Downloaded newer image'} for ${shown}` });
    return image;
  } catch (e) {
    // Layers this pull unpacked and nothing records or pins (another pull) go with it.
    release();
    await core.discard(jobs.map((j) => ({ diffId: j.diffId, blob: j.desc.digest })));
    throw e;
  } finally {
    release();
  }
}

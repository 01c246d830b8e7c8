/**
 * `docker load` of the two archive formats: Docker's (`manifest.json`, each image's config and
 * layer tars; what `docker save` writes, 20.10 and 25+ alike) and an OCI image layout tarball
 * (`oci-layout`, `index.json`, `blobs/sha256/…`; names from the ref.name annotations, an index
 * resolved to the daemon's platform). The archive is unpacked to a private temporary directory by
 * the layer extractor (nothing outside it can be written), its members are read only through paths
 * that stay inside it, every config and blob is checked against its digest, and every layer
 * against its diff id. Layers already present are not unpacked again.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readFile, readlink, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { EngineError } from '../base/errors';
import { detailsFromJson } from '../base/image-config';
import { familiarTag, parseImageRef } from '../base/image-ref';
import { paths } from '../base/names';
import { NewLayer, StoreCore } from './_store-core';
import { decompressed, tap } from './compression';
import { sha256 } from './content-store';
import { Progress } from './image-store';
import { TAR_MEDIA_TYPE, unpackKeeping } from './image-import';
import { choosePlatform, parseManifest, parsePlatform } from './manifest';
import { extractLayer } from './tar/layer-extractor';

const MAX_JSON = 16 << 20;

function invalid(msg: string, cause?: unknown): EngineError {
  return new EngineError('IMAGE_UNSUPPORTED', `invalid archive: ${msg}`, { cause, hint: 'load an archive made by docker save (or an OCI image layout tarball)' });
}

/** A member's path inside `root`, following symlinks only while they stay inside. */
async function inside(root: string, rel: string, hops = 0): Promise<string> {
  if (hops > 8) throw invalid(`too many symlinks at ${rel}`);
  const parts = rel.split('/').filter((p) => p && p !== '.');
  let cur = root;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '..') {
      if (cur === root) throw invalid(`"${rel}" points outside the archive`);
      cur = path.dirname(cur);
      continue;
    }
    const next = `${cur}/${parts[i]}`;
    const st = await lstat(next).catch(() => undefined);
    if (!st) throw invalid(`"${rel}" is not in the archive`);
    if (st.isSymbolicLink()) {
      const target = await readlink(next);
      if (target.startsWith('/')) throw invalid(`"${rel}" is an absolute symlink`);
      const resolved = path.relative(root, path.resolve(cur, target));
      if (resolved.startsWith('..')) throw invalid(`"${rel}" points outside the archive`);
      return inside(root, [resolved, ...parts.slice(i + 1)].join('/'), hops + 1);
    }
    cur = next;
  }
  return cur;
}

async function readJson(root: string, rel: string): Promise<{ bytes: Buffer; json: unknown }> {
  const p = await inside(root, rel);
  if ((await stat(p)).size > MAX_JSON) throw invalid(`${rel} is larger than ${MAX_JSON} bytes`);
  const bytes = await readFile(p);
  try {
    return { bytes, json: JSON.parse(bytes.toString('utf8')) };
  } catch (e) {
    throw invalid(`${rel} is not JSON`, e);
  }
}

/** Reads a file while reporting "Loading layer" progress. */
function withProgress(file: string, size: number, id: string, progress: Progress): Readable {
  let n = 0;
  let last = 0;
  return tap(createReadStream(file, { highWaterMark: 1 << 16 }), (d) => {
    n += d.length;
    if (Date.now() - last > 100 || n === size) {
      last = Date.now();
      progress({ id, status: 'Loading layer', current: n, total: size });
    }
  });
}

interface Candidate {
  configBytes: Buffer;
  tags: string[];
  /** each layer's file in the archive, its blob digest and media type when the archive says (OCI) */
  layers: { file: string; digest?: string; size?: number; mediaType?: string }[];
}

async function dockerFormat(root: string): Promise<Candidate[]> {
  const { json } = await readJson(root, 'manifest.json');
  if (!Array.isArray(json)) throw invalid('manifest.json is not a list');
  const out: Candidate[] = [];
  for (const e of json as Record<string, unknown>[]) {
    if (typeof e?.Config !== 'string' || !Array.isArray(e.Layers)) throw invalid('a manifest.json entry lacks Config or Layers');
    const { bytes } = await readJson(root, e.Config);
    const tags = Array.isArray(e.RepoTags) ? (e.RepoTags as unknown[]).filter((t): t is string => typeof t === 'string') : [];
    const layers = [];
    for (const l of e.Layers as unknown[]) {
      if (typeof l !== 'string') throw invalid('a layer path is not a string');
      layers.push({ file: await inside(root, l) });
    }
    out.push({ configBytes: bytes, tags, layers });
  }
  return out;
}

async function blobFile(root: string, digest: string): Promise<string> {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw invalid(`digest ${digest} is not sha256`);
  return inside(root, `blobs/sha256/${digest.slice(7)}`);
}

async function verifiedBlob(root: string, digest: string): Promise<Buffer> {
  const f = await blobFile(root, digest);
  if ((await stat(f)).size > MAX_JSON) throw invalid(`blob ${digest} is too large for a manifest or config`);
  const b = await readFile(f);
  if (sha256(b) !== digest) throw new EngineError('IMAGE_LAYER_INVALID', `blob ${digest} of the archive does not match its digest`, { hint: 'the archive is corrupt' });
  return b;
}

async function ociFormat(root: string): Promise<Candidate[]> {
  const { json } = await readJson(root, 'index.json');
  const index = parseManifest(Buffer.from(JSON.stringify(json)), 'application/vnd.oci.image.index.v1+json');
  if (index.kind !== 'index') throw invalid('index.json is not an image index');
  const out: Candidate[] = [];
  for (const d of index.manifests) {
    const name = d.annotations?.['io.containerd.image.name'] ?? d.annotations?.['org.opencontainers.image.ref.name'];
    let m = parseManifest(await verifiedBlob(root, d.digest), d.mediaType);
    if (m.kind === 'index') m = parseManifest(await verifiedBlob(root, choosePlatform(m.manifests, parsePlatform(undefined)).digest));
    if (m.kind !== 'image') throw invalid(`manifest ${d.digest} is an index of indexes`);
    const configBytes = await verifiedBlob(root, m.config.digest);
    const layers = [];
    for (const l of m.layers) layers.push({ file: await blobFile(root, l.digest), digest: l.digest, size: l.size, mediaType: l.mediaType });
    // A bare tag ("latest") names no repository: the image is loaded untagged.
    const tags = name && /[:/]/.test(name) ? [name] : [];
    out.push({ configBytes, tags, layers });
  }
  return out;
}

/** Loads the archive; the names loaded (or ids of untagged images). */
export async function loadArchive(core: StoreCore, body: Readable, progress: Progress): Promise<string[]> {
  const root = `${paths.imageTmp(core.p)}/load-${randomBytes(6).toString('hex')}`;
  await mkdir(root, { mode: 0o700 });
  const loaded: string[] = [];
  try {
    try {
      await extractLayer(decompressed(body), root);
    } catch (e) {
      if (e instanceof EngineError) throw e;
      throw invalid((e as Error).message, e);
    }
    const has = (n: string) => lstat(`${root}/${n}`).then(() => true, () => false);
    let images: Candidate[];
    if (await has('manifest.json')) images = await dockerFormat(root);
    else if ((await has('oci-layout')) && (await has('index.json'))) images = await ociFormat(root);
    else if (await has('repositories')) throw invalid('the archive is in the format of Docker before 1.10 (no manifest.json), which ctrnet does not load');
    else throw invalid('no manifest.json (docker save) nor oci-layout and index.json (OCI image layout)');
    for (const c of images) {
      const details = detailsFromJson(JSON.parse(c.configBytes.toString('utf8')));
      if (details.diffIds.length !== c.layers.length) throw invalid(`an image has ${c.layers.length} layers and its config ${details.diffIds.length}`);
      const tags = c.tags.map((t) => familiarTag(parseImageRef(t)));
      const release = core.pin(details.diffIds);
      const layers: NewLayer[] = [];
      try {
        for (let i = 0; i < c.layers.length; i++) {
          const diffId = details.diffIds[i];
          if (await core.hasLayer(diffId)) continue;
          const l = c.layers[i];
          const size = (await stat(l.file)).size;
          const src = withProgress(l.file, size, diffId.slice(7, 19), progress);
          if (l.digest && l.mediaType && l.mediaType !== TAR_MEDIA_TYPE && !/\.tar$/.test(l.mediaType)) {
            // A compressed OCI blob: kept as it is (a push sends it unchanged), checked on the way.
            const w = await core.blobs.writer(l.digest, l.size, false);
            src.pipe(w.stream);
            try {
              const u = await core.layers.unpack(decompressed(w.stream), diffId);
              u.release();
              await w.commit();
              layers.push({ diffId, size: u.size, tarSize: u.tarSize, blob: { digest: l.digest, diffId, mediaType: l.mediaType, size: l.size! } });
            } catch (e) {
              await w.abort();
              throw e;
            }
          } else {
            const u = await unpackKeeping(core, decompressed(src), diffId);
            u.release();
            layers.push({ diffId, size: u.size, tarSize: u.blobSize, blob: { digest: diffId, diffId, mediaType: TAR_MEDIA_TYPE, size: u.blobSize } });
          }
        }
        const img = await core.addImage({ configBytes: c.configBytes, layers, tags, digests: [] });
        for (const t of tags) progress({ status: '', stream: `Loaded image: ${t}\n` });
        if (!tags.length) progress({ status: '', stream: `Loaded image ID: ${img.id}\n` });
        loaded.push(...(tags.length ? tags : [img.id]));
      } catch (e) {
        release();
        await core.discard(layers.map((l) => ({ diffId: l.diffId, blob: l.blob?.digest })));
        throw e;
      } finally {
        release();
      }
    }
    return loaded;
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

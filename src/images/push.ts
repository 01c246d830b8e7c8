/**
 * `docker push`: each layer's kept blob (as it was pulled; a loaded or imported layer is gzipped
 * once and the result kept), then the config, each checked with HEAD and uploaded only when the
 * registry lacks it (POST an upload, PUT the blob with its digest), then the manifest: the one the
 * image was pulled by when it describes exactly these blobs (so the digest is the same), else a new
 * Docker v2 schema 2 manifest (OCI when a layer is zstd). The manifest's digest becomes one of the
 * image's RepoDigests. Progress is Docker's sequence of messages.
 */
import { Readable } from 'node:stream';
import { EngineError } from '../base/errors';
import { familiarName, familiarTag, ImageRef, parseImageRef } from '../base/image-ref';
import { LayerBlobRecord } from '../base/model';
import { StoreCore } from './_store-core';
import { gzipped, tap } from './compression';
import { Image, Progress, RegistryAuth } from './image-store';
import { MT, parseManifest } from './manifest';
import { RegistrySession } from './registry/registry-client';

const short = (digest: string): string => digest.slice(7, 19);
const isCompressed = (b: LayerBlobRecord) => /gzip$|zstd$/.test(b.mediaType);

/** The blob to push for a layer: a compressed one kept, or the tar gzipped now (and kept). */
async function layerBlob(core: StoreCore, diffId: string): Promise<LayerBlobRecord> {
  const have = core.repo.blobs(diffId);
  const kept = [];
  for (const b of have) if (await core.blobs.has(b.digest)) kept.push(b);
  const compressed = kept.find((b) => b.mediaType === MT.dockerLayer || b.mediaType === MT.ociLayerGzip) ?? kept.find(isCompressed);
  if (compressed) return compressed;
  const tar = kept[0];
  if (!tar) throw new EngineError('IMAGE_UNSUPPORTED', `layer ${diffId} has no blob to push (an image of an older ctrnet)`, { hint: 'save and load it, or pull it again' });
  return core.once(`gzip:${diffId}`, async () => {
    const w = await core.blobs.writer(undefined, undefined, false);
    let size = 0;
    const z = tap(gzipped(core.blobs.open(tar.digest)), (d) => (size += d.length));
    z.on('error', (e) => w.stream.destroy(e));
    try {
      z.pipe(w.stream).resume();
      await new Promise<void>((resolve, reject) => {
        w.stream.on('end', resolve);
        w.stream.on('error', reject);
      });
      const digest = await w.commit();
      const rec: LayerBlobRecord = { digest, diffId, mediaType: MT.dockerLayer, size };
      core.repo.putBlob(rec);
      return rec;
    } catch (e) {
      await w.abort();
      throw e;
    }
  });
}

async function blobExists(s: RegistrySession, ref: ImageRef, digest: string): Promise<boolean> {
  const res = await s.request('HEAD', `/v2/${ref.path}/blobs/${digest}`);
  res.resume();
  if (res.statusCode === 200) return true;
  if (res.statusCode === 404) return false;
  return s.fail(res, `blob ${digest}`);
}

/** POST an upload, then one PUT of the whole blob with its digest (the monolithic upload of the spec). */
async function upload(s: RegistrySession, ref: ImageRef, digest: string, size: number, body: () => Readable, onBytes: (n: number) => void): Promise<void> {
  const start = await s.request('POST', `/v2/${ref.path}/blobs/uploads/`, { 'Content-Length': '0' }, Buffer.alloc(0));
  if (start.statusCode !== 202) return s.fail(start, `upload of ${digest}`);
  start.resume();
  const loc = start.headers.location;
  if (!loc) throw new EngineError('REGISTRY_UNAVAILABLE', `the registry gave no upload location for ${digest}`);
  const url = new URL(loc, `${s.origin}/`);
  url.searchParams.set('digest', digest);
  let n = 0;
  const src = tap(body(), (d) => onBytes((n += d.length)));
  const res = await s.request('PUT', url.toString(), { 'Content-Type': 'application/octet-stream', 'Content-Length': String(size) }, src);
  if (res.statusCode !== 201) return s.fail(res, `upload of ${digest}`);
  res.resume();
}

/** The manifest the image was pulled by, when it lists exactly these blobs. */
async function originalManifest(core: StoreCore, img: Image, blobs: LayerBlobRecord[]): Promise<{ body: Buffer; mediaType: string } | undefined> {
  for (const d of core.repo.digests(img.id)) {
    if (!(await core.blobs.has(d.digest))) continue;
    const body = await core.blobs.read(d.digest, 4 << 20);
    try {
      const m = parseManifest(body, d.mediaType);
      if (m.kind === 'image' && m.config.digest === img.id && m.layers.length === blobs.length && m.layers.every((l, i) => l.digest === blobs[i].digest)) return { body, mediaType: m.mediaType };
    } catch {
      // a manifest we cannot read is not one to reuse
    }
  }
  return undefined;
}

/** A new manifest, pretty-printed like Docker's (three-space indent). */
async function newManifest(core: StoreCore, img: Image, blobs: LayerBlobRecord[]): Promise<{ body: Buffer; mediaType: string }> {
  const oci = blobs.some((b) => /zstd$/.test(b.mediaType));
  const configSize = await core.blobs.size(img.id);
  const layerType = (b: LayerBlobRecord) => (oci ? (/zstd$/.test(b.mediaType) ? MT.ociLayerZstd : MT.ociLayerGzip) : MT.dockerLayer);
  const m = {
    schemaVersion: 2,
    mediaType: oci ? MT.ociManifest : MT.dockerManifest,
    config: { mediaType: oci ? MT.ociConfig : MT.dockerConfig, size: configSize, digest: img.id },
    layers: blobs.map((b) => ({ mediaType: layerType(b), size: b.size, digest: b.digest })),
  };
  return { body: Buffer.from(JSON.stringify(m, null, 3)), mediaType: m.mediaType };
}

async function pushTag(core: StoreCore, s: RegistrySession, ref: ImageRef, img: Image, progress: Progress): Promise<void> {
  const diffIds = img.details.diffIds;
  if (diffIds.length === 0) throw new EngineError('IMAGE_UNSUPPORTED', `${familiarTag(ref)} has no layers to push (an image of an older ctrnet)`, { hint: 'import it again' });
  const release = core.pin(diffIds);
  try {
    for (const d of [...diffIds].reverse()) progress({ id: short(d), status: 'Preparing' });
    const blobs: LayerBlobRecord[] = [];
    for (const d of diffIds) blobs.push(await layerBlob(core, d));
    // Layers in parallel, as Docker (its default is five at a time).
    await Promise.all(
      blobs.map(async (b, i) => {
        const id = short(diffIds[i]);
        if (await blobExists(s, ref, b.digest)) return progress({ id, status: 'Layer already exists' });
        let last = 0;
        await upload(s, ref, b.digest, b.size, () => core.blobs.open(b.digest), (n) => {
          if (Date.now() - last < 100 && n < b.size) return;
          last = Date.now();
          progress({ id, status: 'Pushing', current: n, total: b.size });
        });
        progress({ id, status: 'Pushed' });
      }),
    );
    if (!(await blobExists(s, ref, img.id))) {
      const size = await core.blobs.size(img.id);
      await upload(s, ref, img.id, size, () => core.blobs.open(img.id), () => {});
    }
    const manifest = (await originalManifest(core, img, blobs)) ?? (await newManifest(core, img, blobs));
    const res = await s.request('PUT', `/v2/${ref.path}/manifests/${ref.tag}`, { 'Content-Type': manifest.mediaType }, manifest.body);
    if (res.statusCode !== 201 && res.statusCode !== 200) return s.fail(res, `manifest for ${familiarTag(ref)}`);
    res.resume();
    const digest = await core.blobs.put(manifest.body);
    const said = res.headers['docker-content-digest'];
    if (said && said !== digest) core.log(`push: the registry says the manifest is ${said}, its bytes are ${digest}`);
    core.repo.putDigest({ repo: familiarName(ref), digest, imageId: img.id, mediaType: manifest.mediaType });
    progress({ status: `${ref.tag}: digest: ${digest} size: ${manifest.body.length}` });
    progress({ status: '', aux: { Tag: ref.tag, Digest: digest, Size: manifest.body.length } });
  } finally {
    release();
  }
}

export async function pushImage(core: StoreCore, refText: string, opts: { auth: RegistryAuth; allTags?: boolean; progress: Progress }): Promise<void> {
  const ref = parseImageRef(refText);
  if (ref.digest) throw new EngineError('INVALID_PARAMETER', 'cannot push a digest reference', { hint: 'push NAME[:TAG]' });
  const name = familiarName(ref);
  const tags = ref.tag && !opts.allTags ? [ref.tag] : core.repo.tags().filter((t) => t.tag.startsWith(`${name}:`) && !t.tag.slice(name.length + 1).includes('/')).map((t) => t.tag.slice(name.length + 1));
  if (tags.length === 0) throw new EngineError('IMAGE_NOT_FOUND', `An image does not exist locally with the tag: ${name}`, { hint: `tag one first: ctrnet tag IMAGE ${name}:TAG` });
  const images = tags.map((t) => ({ tag: t, image: core.get(`${name}:${t}`) }));
  opts.progress({ status: `The push refers to repository [${ref.domain === 'docker.io' ? `docker.io/${ref.path}` : name}]` });
  const s = core.registry.session(ref.domain, ref.path, opts.auth, true);
  await s.connect();
  for (const { tag, image } of images) await pushTag(core, s, { ...ref, tag }, image, opts.progress);
}

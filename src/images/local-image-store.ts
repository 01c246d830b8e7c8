/**
 * The image store (implements images/image-store.ts). Layout under ROOT:
 *   images/blobs/sha256/<hex>   configs (an image's id is its config's digest), manifests, layer blobs
 *   images/layers/<hex>         unpacked layers by diff id, overlayfs' lower directories, shared
 *   l/<16 hex>                  short links to them, for overlayfs' lowerdir option
 *   images/tmp/                 downloads and unpacks in progress (partial downloads resume)
 * and the records (images, tags, layers, blobs, repository digests) in the state store. Images
 * made by ctrnet before it had layers (images/<hex>/rootfs, no config) still run as one-layer
 * images without a config.
 *
 * The operations live one per file: registry pulls (pull.ts), pushes (push.ts), archives
 * (archive-load.ts, archive-save.ts), root filesystem imports and the busybox image
 * (image-import.ts), commits (commit.ts). This file finds, tags, removes and collects.
 */
import { readFileSync, statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { EngineError } from '../base/errors';
import { detailsFromJson, emptyConfig, ImageDetails } from '../base/image-config';
import { familiarDigest, familiarName, familiarTag, looksLikeId, parseImageRef } from '../base/image-ref';
import { ImageRecord } from '../base/model';
import { Paths, paths } from '../base/names';
import { ImageRepo } from '../state/repos';
import { NewImage, StoreCore } from './_store-core';
import { saveArchive } from './archive-save';
import { loadArchive } from './archive-load';
import { commitImage } from './commit';
import { ContentStore, sha256 } from './content-store';
import { DeleteItem, HistoryItem, Image, ImageStore, ImportOptions, Progress, RegistryAuth, UsedBy, CommitRequest } from './image-store';
import { ensureBusybox, importRootfs } from './image-import';
import { LayerStore } from './layer-store';
import { pullImage } from './pull';
import { pushImage } from './push';
import { RegistryClient, RegistryConfig } from './registry/registry-client';
import { archiveDir } from './tar/dir-archive';

/** Docker's limit on a layer stack (overlay2's): more cannot be mounted. */
export const MAX_LAYERS = 125;

export class LocalImageStore implements ImageStore, StoreCore {
  readonly blobs: ContentStore;
  readonly layers: LayerStore;
  readonly registry: RegistryClient;
  private readonly pins = new Map<string, number>();
  private readonly running = new Map<string, Promise<unknown>>();
  private readonly detailCache = new Map<string, ImageDetails>();

  constructor(
    readonly p: Paths,
    readonly repo: ImageRepo,
    registry: RegistryConfig = { mirrors: [], insecure: [] },
    readonly log: (m: string) => void = () => {},
    /** Docker's image events (pull, push, tag, untag, delete, import, load, save), after each is done */
    private readonly onEvent: (action: string, id: string, name?: string) => void = () => {},
  ) {
    this.blobs = new ContentStore(paths.imageBlobs(p), paths.imageTmp(p));
    this.layers = new LayerStore(p, (d) => this.pin([d]));
    this.registry = new RegistryClient(registry, log);
  }

  /** Directories, then what a crash left: temporary files, layers and blobs no record knows. */
  async init(): Promise<void> {
    await this.blobs.init();
    await this.layers.init();
    await this.blobs.sweep();
    await this.layers.sweep(new Set(this.repo.layers().map((l) => l.diffId)), this.log);
    // Nothing runs yet: a blob no image, layer or manifest record names was left by a crash.
    const named = new Set([...this.repo.list().map((i) => i.id), ...this.repo.blobs().map((b) => b.digest), ...this.repo.digests().map((d) => d.digest)]);
    for (const d of await this.blobs.list()) {
      if (named.has(d)) continue;
      this.log(`removing blob ${d.slice(7, 19)}: no record names it`);
      await this.blobs.remove(d);
    }
  }

  // ---------------------------------------------------------------- StoreCore

  pin(diffIds: string[]): () => void {
    for (const d of diffIds) this.pins.set(d, (this.pins.get(d) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      for (const d of diffIds) {
        const n = (this.pins.get(d) ?? 1) - 1;
        if (n <= 0) this.pins.delete(d);
        else this.pins.set(d, n);
      }
    };
  }

  once<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const have = this.running.get(key);
    if (have) return have as Promise<T>;
    const p = fn().finally(() => this.running.delete(key));
    this.running.set(key, p);
    return p;
  }

  async hasLayer(diffId: string): Promise<boolean> {
    return !!this.repo.layer(diffId) && (await this.layers.exists(diffId));
  }

  async discard(layers: { diffId: string; blob?: string }[]): Promise<void> {
    const keptBlobs = new Set(this.repo.blobs().map((b) => b.digest));
    const drop = layers.filter((l) => !this.repo.layer(l.diffId) && !this.pins.has(l.diffId));
    await Promise.all(drop.flatMap((l) => [this.layers.remove(l.diffId), ...(l.blob && !keptBlobs.has(l.blob) ? [this.blobs.remove(l.blob)] : [])]));
  }

  async addImage(n: NewImage): Promise<Image> {
    const id = await this.blobs.put(n.configBytes);
    const details = detailsFromJson(JSON.parse(n.configBytes.toString('utf8')));
    if (details.diffIds.length > MAX_LAYERS) throw new EngineError('IMAGE_UNSUPPORTED', `max depth exceeded: the image has ${details.diffIds.length} layers, overlayfs stacks at most ${MAX_LAYERS}`);
    const now = new Date().toISOString();
    const sizes = new Map(n.layers.map((l) => [l.diffId, l.size]));
    const size = details.diffIds.reduce((a, d) => a + (sizes.get(d) ?? this.repo.layer(d)?.size ?? 0), 0);
    const image: ImageRecord = { id, created: details.created || now, size, comment: details.comment, parent: n.parent };
    this.repo.record({
      image,
      layers: n.layers.map((l) => ({ diffId: l.diffId, size: l.size, tarSize: l.tarSize, created: now })),
      blobs: n.layers.flatMap((l) => (l.blob ? [l.blob] : [])),
      tags: n.tags,
      digests: n.digests.map((d) => ({ ...d, imageId: id })),
    });
    return this.toImage(id);
  }

  details(imageId: string): ImageDetails {
    let d = this.detailCache.get(imageId);
    if (d) return d;
    try {
      d = detailsFromJson(JSON.parse(readFileSync(this.blobs.path(imageId), 'utf8')));
    } catch (e) {
      // An image of an older ctrnet (a root filesystem without a config): defaults only.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      d = { architecture: '', os: 'linux', variant: '', created: '', author: '', comment: 'imported', dockerVersion: '', container: '', config: emptyConfig(), history: [], diffIds: [] };
    }
    this.detailCache.set(imageId, d);
    return d;
  }

  private legacyDir(id: string): string | undefined {
    const dir = `${paths.image(this.p, id)}/rootfs`;
    try {
      return statSync(dir).isDirectory() ? dir : undefined;
    } catch {
      return undefined;
    }
  }

  private toImage(id: string): Image {
    const row = this.repo.get(id)!;
    const details = this.details(id);
    const legacy = details.diffIds.length === 0 ? this.legacyDir(id) : undefined;
    return {
      id,
      tags: this.repo.tags(id).map((t) => t.tag),
      repoDigests: this.repo.digests(id).map((d) => `${d.repo}@${d.digest}`),
      created: row.created,
      size: row.size,
      comment: row.comment,
      parent: row.parent ?? '',
      layers: legacy ? [legacy] : [...details.diffIds].reverse().map((d) => this.layers.lowerDir(d)),
      details,
      config: details.config,
    };
  }

  // ---------------------------------------------------------------- finding

  list(): Image[] {
    return this.repo.list().map((r) => this.toImage(r.id));
  }

  find(ref: string): Image | undefined {
    if (/^sha256:[0-9a-f]{64}$/.test(ref) || /^[0-9a-f]{64}$/.test(ref)) {
      const id = ref.startsWith('sha256:') ? ref : `sha256:${ref}`;
      return this.repo.get(id) ? this.toImage(id) : undefined;
    }
    let parsed;
    try {
      parsed = parseImageRef(ref);
    } catch (e) {
      if (!looksLikeId(ref)) throw e;
    }
    if (parsed) {
      const id = parsed.digest
        ? this.repo.digests().find((d) => d.repo === familiarName(parsed) && d.digest === parsed.digest)?.imageId
        : this.repo.byTag(familiarTag(parsed));
      if (id && this.repo.get(id)) return this.toImage(id);
    }
    if (looksLikeId(ref)) {
      const hex = ref.replace(/^sha256:/, '');
      const ids = this.repo.list().filter((i) => i.id.slice(7).startsWith(hex));
      if (ids.length === 1) return this.toImage(ids[0].id);
    }
    return undefined;
  }

  get(ref: string): Image {
    const img = this.find(ref);
    if (!img) {
      let shown = ref;
      if (!looksLikeId(ref)) {
        const r = parseImageRef(ref);
        shown = r.digest ? familiarDigest(r, r.digest) : familiarTag(r);
      }
      throw new EngineError('IMAGE_NOT_FOUND', `No such image: ${shown}`, { hint: 'pull it (ctrnet pull NAME), load it (ctrnet load -i FILE) or import a root filesystem (ctrnet image import FILE NAME)' });
    }
    return img;
  }

  tag(ref: string, tag: string): void {
    const r = parseImageRef(tag);
    if (r.digest) throw new EngineError('INVALID_PARAMETER', 'refusing to create a tag with a digest reference', { hint: 'tag with NAME[:TAG]' });
    const id = this.get(ref).id;
    this.repo.tag(familiarTag(r), id);
    this.onEvent('tag', id, familiarTag(r));
  }

  history(ref: string): HistoryItem[] {
    const img = this.get(ref);
    const chain: Image[] = [img];
    for (let parent = img.parent; parent && this.repo.get(parent) && chain.length < 1000; ) {
      const pi = this.toImage(parent);
      chain.push(pi);
      parent = pi.parent;
    }
    const d = img.details;
    const sizes = d.diffIds.map((id) => this.repo.layer(id)?.size ?? 0);
    let li = 0;
    const items: HistoryItem[] = d.history.map((h) => ({
      id: '<missing>', created: h.created, createdBy: h.createdBy, comment: h.comment, tags: [], size: h.emptyLayer ? 0 : (sizes[li++] ?? 0),
    }));
    if (items.length === 0) items.push({ id: '<missing>', created: img.created, createdBy: '', comment: img.comment, tags: [], size: img.size });
    // The image and the local images it was made from own the top entries of their part.
    for (const c of chain) {
      const n = c.details.history.length || 1;
      if (n <= items.length) Object.assign(items[n - 1], { id: c.id, tags: c.tags });
    }
    return items.reverse();
  }

  // ---------------------------------------------------------------- removing

  /** Docker's rmi. */
  async remove(ref: string, usedBy: UsedBy, force = false): Promise<DeleteItem[]> {
    const id = this.find(ref)?.id ?? '';
    const out = await this.removeRef(ref, usedBy, force);
    for (const x of out) this.onEvent(x.Untagged ? 'untag' : 'delete', x.Deleted ?? id, x.Untagged);
    return out;
  }

  private async removeRef(ref: string, usedBy: UsedBy, force: boolean): Promise<DeleteItem[]> {
    const img = this.get(ref);
    const byId = !img.tags.concat(img.repoDigests).some((t) => this.refMatches(ref, t));
    const out: DeleteItem[] = [];
    if (!byId) {
      const r = parseImageRef(ref);
      const key = r.digest ? familiarDigest(r, r.digest) : familiarTag(r);
      // Docker: a name whose removal would leave a used image dangling needs force.
      const repoOf = (x: string) => (x.includes('@') ? x.slice(0, x.indexOf('@')) : x.slice(0, x.lastIndexOf(':')));
      const single = img.tags.length <= 1 && new Set([...img.tags, ...img.repoDigests].map(repoOf)).size <= 1;
      const users = usedBy(img.id);
      if (single && users.length && !force) {
        throw new EngineError('IMAGE_IN_USE', `conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0].slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`, {
          hint: 'remove the container first, or force with -f (the image stays, untagged, while a container uses it)',
        });
      }
      if (img.tags.length + img.repoDigests.length > 1) {
        this.untag(img, key);
        out.push({ Untagged: key });
        // Docker: digests of the same repository go with its last tag.
        const repo = familiarName(r);
        if (!r.digest && !this.toImage(img.id).tags.some((t) => t.startsWith(`${repo}:`))) {
          for (const d of this.repo.digests(img.id).filter((x) => x.repo === repo)) {
            this.untag(img, `${d.repo}@${d.digest}`);
            out.push({ Untagged: `${d.repo}@${d.digest}` });
          }
        }
        const left = this.toImage(img.id);
        if (left.tags.length + left.repoDigests.length > 0) return out;
        return [...out, ...(await this.deleteIfUnused(img.id, usedBy, true, ref))];
      }
    } else if (!force && new Set(img.tags.map((t) => t.slice(0, t.lastIndexOf(':')))).size > 1) {
      throw new EngineError('IMAGE_IN_USE', `conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`, { hint: 'remove the tags one by one, or force with -f' });
    }
    const users = usedBy(img.id);
    if (users.length && !force) {
      throw new EngineError('IMAGE_IN_USE', `conflict: unable to ${byId ? `delete ${img.id.slice(7, 19)}` : `remove repository reference "${ref}"`} (must force) - container ${users[0].slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`, {
        hint: 'remove the container first, or force with -f (the image stays, untagged, while a container uses it)',
      });
    }
    for (const t of img.tags) out.push({ Untagged: t });
    for (const d of img.repoDigests) out.push({ Untagged: d });
    return [...out, ...(await this.deleteIfUnused(img.id, usedBy, true, ref, true))];
  }

  private refMatches(ref: string, have: string): boolean {
    try {
      const r = parseImageRef(ref);
      return (r.digest ? familiarDigest(r, r.digest) : familiarTag(r)) === have;
    } catch {
      return false;
    }
  }

  private untag(img: Image, key: string): void {
    if (key.includes('@')) {
      const [repo, digest] = key.split('@');
      this.repo.deleteDigest(repo, digest);
      void this.dropManifests([digest]);
    } else this.repo.untag(key);
  }

  /** An image's names (tags and digests) go; the image stays, dangling. */
  private clearRefs(id: string): void {
    const manifests = this.repo.digests(id).map((d) => d.digest);
    this.repo.clearRefs(id);
    void this.dropManifests(manifests);
  }

  /** Manifest blobs no repository digest names any more. */
  private async dropManifests(digests: string[]): Promise<void> {
    const named = new Set(this.repo.digests().map((d) => d.digest));
    for (const d of digests) if (!named.has(d)) await this.blobs.remove(d).catch((e) => this.log(`removing manifest ${d}: ${(e as Error).message}`));
  }

  /** Deletes the image when no container uses it; with containers, with `untagAll`, only its names go. */
  private async deleteIfUnused(id: string, usedBy: UsedBy, force: boolean, ref: string, untagAll = false): Promise<DeleteItem[]> {
    const users = usedBy(id);
    if (users.length) {
      if (!force) {
        throw new EngineError('IMAGE_IN_USE', `conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0].slice(0, 12)} is using its referenced image ${id.slice(7, 19)}`, { hint: 'remove the container first' });
      }
      if (untagAll) this.clearRefs(id);
      return [];
    }
    const children = this.repo.list().filter((i) => i.parent === id);
    if (children.length) {
      // Docker keeps a parent image of a local child; it loses its names only.
      this.clearRefs(id);
      return [];
    }
    await this.deleteImage(id);
    return [{ Deleted: id }];
  }

  /** Removes an image record, then whatever of it nothing else uses. */
  private async deleteImage(id: string): Promise<number> {
    const d = this.details(id);
    const manifests = this.repo.digests(id).map((x) => x.digest);
    this.repo.delete(id);
    this.detailCache.delete(id);
    let freed = await this.collect(d.diffIds);
    if (!this.repo.get(id)) await this.blobs.remove(id);
    const stillUsed = new Set(this.repo.digests().map((x) => x.digest));
    for (const m of manifests) if (!stillUsed.has(m)) await this.blobs.remove(m);
    const legacy = this.legacyDir(id);
    if (legacy) {
      await rm(paths.image(this.p, id), { recursive: true, force: true });
      freed += this.repo.get(id)?.size ?? 0;
    }
    return freed;
  }

  /** Removes the layers among `candidates` that no image uses and no operation has pinned. */
  private async collect(candidates: string[]): Promise<number> {
    const live = new Set(this.repo.list().flatMap((i) => this.details(i.id).diffIds));
    let freed = 0;
    for (const diffId of new Set(candidates)) {
      if (live.has(diffId) || this.pins.has(diffId)) continue;
      const rec = this.repo.layer(diffId);
      const blobs = this.repo.blobs(diffId);
      // Records first and the removals started in the same turn: a pull of this layer from now
      // on does not find it, and its unpack waits for the files to go.
      this.repo.deleteLayer(diffId);
      await Promise.all([this.layers.remove(diffId), ...blobs.map((b) => this.blobs.remove(b.digest))]);
      freed += rec?.size ?? 0;
    }
    return freed;
  }

  async prune(usedBy: UsedBy, opts: { all?: boolean; keep?: (i: Image) => boolean } = {}): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }> {
    const deleted: DeleteItem[] = [];
    let spaceReclaimed = 0;
    // Children first, so that a parent left without them goes in the same prune.
    for (let again = true; again; ) {
      again = false;
      for (const img of this.list()) {
        if (!opts.all && img.tags.length) continue;
        if (usedBy(img.id).length || opts.keep?.(img)) continue;
        if (this.repo.list().some((i) => i.parent === img.id)) continue;
        for (const t of img.tags) deleted.push({ Untagged: t });
        for (const d of img.repoDigests) deleted.push({ Untagged: d });
        spaceReclaimed += await this.deleteImage(img.id);
        deleted.push({ Deleted: img.id });
        again = true;
      }
    }
    for (const x of deleted) this.onEvent(x.Untagged ? 'untag' : 'delete', x.Deleted ?? '', x.Untagged);
    return { deleted, spaceReclaimed };
  }

  // ---------------------------------------------------------------- operations (one file each)

  async import(body: Readable, opts: ImportOptions = {}): Promise<Image> {
    const img = await importRootfs(this, body, opts);
    this.onEvent('import', img.id, img.tags[0]);
    return img;
  }

  ensureBusybox(): Promise<void> {
    return ensureBusybox(this);
  }

  async pull(ref: string, opts: { auth: RegistryAuth; platform?: string; progress: Progress }): Promise<Image> {
    const img = await pullImage(this, ref, opts);
    this.onEvent('pull', img.id, ref);
    return img;
  }

  async push(ref: string, opts: { auth: RegistryAuth; allTags?: boolean; progress: Progress }): Promise<void> {
    await pushImage(this, ref, opts);
    this.onEvent('push', this.find(ref)?.id ?? '', ref);
  }

  async login(auth: RegistryAuth): Promise<{ identityToken?: string }> {
    const server = (auth.serverAddress ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    const domain = !server || /(^|\.)docker\.io$/.test(server) ? 'docker.io' : server;
    const session = this.registry.session(domain, '', auth, false);
    const identityToken = await session.login();
    return identityToken ? { identityToken } : {};
  }

  async load(body: Readable, progress: Progress): Promise<string[]> {
    const loaded = await loadArchive(this, body, progress);
    for (const l of loaded) this.onEvent('load', this.find(l)?.id ?? l, l);
    return loaded;
  }

  /** Docker's choice of tags: name:tag that tag, a bare name every tag of it, an id none. */
  save(refs: string[]): Readable {
    const what: { image: Image; tags: string[] }[] = [];
    for (const ref of refs) {
      const img = this.get(ref);
      if (looksLikeId(ref) && !img.tags.some((t) => this.refMatches(ref, t))) {
        what.push({ image: img, tags: [] });
        continue;
      }
      const r = parseImageRef(ref);
      if (r.digest) what.push({ image: img, tags: [] });
      else if (!/:[^/]+$/.test(ref)) {
        const name = familiarName(r);
        const tags = this.repo.tags().filter((t) => t.tag.startsWith(`${name}:`) && !t.tag.slice(name.length + 1).includes('/'));
        for (const t of tags) what.push({ image: this.toImage(t.imageId), tags: [t.tag] });
        if (!tags.length) what.push({ image: img, tags: [] });
      } else what.push({ image: img, tags: [familiarTag(r)] });
    }
    for (const w of what) this.onEvent('save', w.image.id, w.tags[0]);
    return saveArchive(this, what);
  }

  commit(req: CommitRequest): Promise<Image> {
    return commitImage(this, req);
  }

  archive(dir: string): Readable {
    return archiveDir(dir);
  }

  /** The digest of bytes as this store names blobs (for tests and callers that build configs). */
  static digest(b: Buffer): string {
    return sha256(b);
  }
}

/**
 * Unpacked layers, stored once by diff id (the digest of the uncompressed tar) under
 * ROOT/images/layers/<hex>, each in overlayfs' format (tar/layer-extractor.ts), read-only lower
 * directories shared by every image and container that has the layer. A layer is unpacked into
 * ROOT/images/tmp while its diff id is computed, and renamed into place only when the digest is
 * the one expected: a refused or interrupted layer leaves nothing behind. Each layer also gets a
 * short link ROOT/l/<16 hex> for overlayfs' lowerdir option (limited to one page).
 */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { EngineError } from '../base/errors';
import { Paths, paths } from '../base/names';
import { extractLayer, ExtractResult, LayerRefusedError } from './tar/layer-extractor';
import { TarFormatError } from './tar/tar-reader';

export interface UnpackedLayer {
  diffId: string;
  size: number;
  /** bytes of the tar */
  tarSize: number;
  skipped: string[];
  /** the pin taken on the layer; the caller releases it once the layer is recorded */
  release: () => void;
}

export class LayerStore {
  /** removals in progress: an unpack of the same layer waits for them */
  private readonly removing = new Map<string, Promise<void>>();

  constructor(
    private readonly p: Paths,
    /** keeps a layer from being collected (the store's pins) */
    private readonly pin: (diffId: string) => () => void,
  ) {}

  async init(): Promise<void> {
    await mkdir(path.dirname(paths.layer(this.p, 'x')), { recursive: true });
    await mkdir(path.dirname(paths.layerLink(this.p, 'x')), { recursive: true });
    await mkdir(paths.imageTmp(this.p), { recursive: true });
  }

  /** The directory overlayfs stacks for this layer (its short link). */
  lowerDir(diffId: string): string {
    return paths.layerLink(this.p, diffId);
  }

  async exists(diffId: string): Promise<boolean> {
    return lstat(paths.layer(this.p, diffId)).then((s) => s.isDirectory(), () => false);
  }

  /**
   * Unpacks a layer from its uncompressed tar stream. With `expect`, the tar's digest must be that
   * diff id (IMAGE_LAYER_INVALID otherwise); a layer already present is kept, not unpacked twice.
   * The layer is pinned (before it is looked for, so a collection cannot take it in between).
   */
  async unpack(tar: Readable, expect?: string): Promise<UnpackedLayer> {
    const tmp = `${paths.imageTmp(this.p)}/x-${randomBytes(6).toString('hex')}`;
    await mkdir(tmp, { mode: 0o755 });
    const hash = createHash('sha256');
    let tarSize = 0;
    const hashing = new Transform({
      transform(chunk: Buffer, _e, cb) {
        hash.update(chunk);
        tarSize += chunk.length;
        cb(null, chunk);
      },
    });
    tar.on('error', (e) => hashing.destroy(e));
    let result: ExtractResult;
    try {
      try {
        // The reader drains what follows the end of the archive: it is part of the digest too.
        result = await extractLayer(tar.pipe(hashing), tmp);
      } catch (e) {
        if (e instanceof LayerRefusedError || e instanceof TarFormatError) throw new EngineError('IMAGE_LAYER_INVALID', `layer refused: ${e.message}`, { cause: e, hint: 'the image is malformed or malicious; nothing of it was kept' });
        throw e;
      }
      const diffId = `sha256:${hash.digest('hex')}`;
      if (expect && diffId !== expect) {
        throw new EngineError('IMAGE_LAYER_INVALID', `layer verification failed: its content is ${diffId}, the image says ${expect}`, { hint: 'the image is corrupt; nothing of it was kept' });
      }
      const release = this.pin(diffId);
      try {
        await this.removing.get(diffId);
        const final = paths.layer(this.p, diffId);
        if (await this.exists(diffId)) await rm(tmp, { recursive: true, force: true });
        else await rename(tmp, final);
        await this.ensureLink(diffId);
      } catch (e) {
        release();
        throw e;
      }
      return { diffId, size: result.size, tarSize, skipped: result.skipped, release };
    } catch (e) {
      tar.destroy();
      await rm(tmp, { recursive: true, force: true });
      throw e;
    }
  }

  /** The short link of a layer; a link of that name to another layer refuses it (a 64-bit prefix collision). */
  async ensureLink(diffId: string): Promise<void> {
    const l = paths.layerLink(this.p, diffId);
    const target = path.relative(path.dirname(l), paths.layer(this.p, diffId));
    try {
      await symlink(target, l);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const have = await readlink(l);
      if (have !== target) throw new EngineError('IMAGE_LAYER_INVALID', `layer ${diffId} collides with layer link ${l} (-> ${have})`, { hint: 'remove the other image first' });
    }
  }

  /** Removes a layer's files; an unpack of the same layer meanwhile waits for it. */
  remove(diffId: string): Promise<void> {
    const p = (async () => {
      await rm(paths.layerLink(this.p, diffId), { force: true });
      await rm(paths.layer(this.p, diffId), { recursive: true, force: true });
    })().finally(() => this.removing.delete(diffId));
    this.removing.set(diffId, p);
    return p;
  }

  /** At start: layers no record knows (a crash between unpack and record) and dangling links go. */
  async sweep(known: Set<string>, log: (m: string) => void): Promise<void> {
    const dir = path.dirname(paths.layer(this.p, 'x'));
    for (const n of await readdir(dir).catch(() => [] as string[])) {
      if (!known.has(`sha256:${n}`)) {
        log(`removing layer ${n.slice(0, 12)}: no image records it`);
        await this.remove(`sha256:${n}`);
      }
    }
    const links = path.dirname(paths.layerLink(this.p, 'x'));
    for (const n of await readdir(links).catch(() => [] as string[])) {
      const l = `${links}/${n}`;
      const ok = await readlink(l).then((t) => lstat(path.resolve(links, t)).then(() => true, () => false), () => false);
      if (!ok) await rm(l, { force: true });
    }
    for (const d of known) await this.ensureLink(d).catch((e) => log(`layer link of ${d}: ${(e as Error).message}`));
  }
}

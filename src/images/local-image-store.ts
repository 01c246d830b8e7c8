/**
 * The local image store: an image is an imported root filesystem tarball, unpacked once under
 * ROOT/images/<id>/rootfs and used read-only as the lower layer of its containers. The id is the
 * sha256 of the tarball, as `docker import` makes it. A `busybox` image is built from Debian's
 * busybox-static when absent (there is no registry). A committed image is a container's writable
 * layer (whiteouts and opaque directories kept, so that overlayfs hides what the container
 * deleted) unpacked under its own id, used as the top lower layer over its parent's.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { EngineError } from '../base/errors';
import { Paths, paths } from '../base/names';
import { run } from '../kernel/exec';
import { ImageRepo } from '../state/repos';
import { Image, ImageCommit, ImageStore, normalizeRef } from './image-store';

/** overlayfs' mark of a directory that hides what is below it: kept in committed layers. */
const TAR_XATTRS = ['--xattrs', '--xattrs-include=trusted.overlay.opaque'];

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return `sha256:${hash.digest('hex')}`;
}

export class LocalImageStore implements ImageStore {
  constructor(private readonly p: Paths, private readonly repo: ImageRepo) {}

  list(): Image[] {
    return this.repo.list().map((r) => this.toImage(r.id));
  }

  private toImage(id: string): Image {
    const row = this.repo.get(id)!;
    const own = `${paths.image(this.p, id)}/rootfs`;
    const parent = row.parent && this.repo.get(row.parent) ? this.toImage(row.parent) : undefined;
    return {
      id,
      tags: this.repo.tags(id).map((t) => t.tag),
      created: row.created,
      // Docker's Size counts the layers below too.
      size: row.size + (parent?.size ?? 0),
      layers: [own, ...(parent?.layers ?? [])],
      // An imported tarball's id is its digest: a plain tar's is its layer's.
      diffIds: [...(parent?.diffIds ?? []), row.details?.diffId ?? id],
      comment: row.comment,
      ...(row.parent ? { parent: row.parent } : {}),
      ...(row.details ? { details: row.details } : {}),
    };
  }

  /** Images that are layers on this one. */
  private children(id: string): string[] {
    return this.repo.list().filter((r) => r.parent === id).map((r) => r.id);
  }

  /** Finds an image by name[:tag], full id or unambiguous id prefix. */
  find(ref: string): Image | undefined {
    const norm = normalizeRef(ref);
    const byTag = this.repo.byTag(norm);
    if (byTag) return this.toImage(byTag);
    const hex = norm.replace(/^sha256:/, '');
    if (/^[0-9a-f]{12,64}$/.test(hex)) {
      const ids = this.repo.list().filter((i) => i.id.replace(/^sha256:/, '').startsWith(hex));
      if (ids.length === 1) return this.toImage(ids[0].id);
    }
    return undefined;
  }

  get(ref: string): Image {
    const img = this.find(ref);
    if (!img) {
      throw new EngineError('IMAGE_NOT_FOUND', `No such image: ${normalizeRef(ref)}`, {
        hint: 'there is no registry: import a root filesystem tarball with `ctrnet image import FILE NAME`',
      });
    }
    return img;
  }

  /** Imports a rootfs tarball (plain or gzip) from a stream and tags it. */
  async import(body: Readable, tag?: string): Promise<Image> {
    const dir = paths.images(this.p);
    await mkdir(dir, { recursive: true });
    const tmp = `${dir}/.import-${randomBytes(6).toString('hex')}`;
    await mkdir(tmp);
    try {
      const hash = createHash('sha256');
      let size = 0;
      body.on('data', (d: Buffer) => {
        hash.update(d);
        size += d.length;
      });
      await pipeline(body, createWriteStream(`${tmp}/layer.tar`));
      if (size === 0) throw new EngineError('INVALID_PARAMETER', 'the image tarball is empty', { hint: 'pass a tar archive of a root filesystem' });
      const id = `sha256:${hash.digest('hex')}`;
      if (!this.repo.get(id)) {
        await mkdir(`${tmp}/rootfs`);
        try {
          await run(['tar', '-x', '--numeric-owner', '-f', `${tmp}/layer.tar`, '-C', `${tmp}/rootfs`]);
        } catch (e) {
          throw new EngineError('INVALID_PARAMETER', 'the image is not a valid tar archive', { cause: e, hint: 'make it with `tar -C ROOTFS -c .`' });
        }
        await rm(`${tmp}/layer.tar`);
        const final = paths.image(this.p, id);
        await rm(final, { recursive: true, force: true });
        await rename(tmp, final);
        this.repo.put({ id, created: new Date().toISOString(), size, comment: 'imported' });
      }
      if (tag) this.repo.tag(normalizeRef(tag), id);
      return this.toImage(id);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  tag(ref: string, tag: string): void {
    this.repo.tag(normalizeRef(tag), this.get(ref).id);
  }

  /**
   * Docker's `rmi`: removes the tag when the reference is a tag and others remain; deletes the image
   * when no tag is left. Refused while a container uses the image, unless `force`.
   */
  async remove(ref: string, usedBy: (imageId: string) => string[], force = false): Promise<{ Untagged?: string; Deleted?: string }[]> {
    const img = this.get(ref);
    const norm = normalizeRef(ref);
    const result: { Untagged?: string; Deleted?: string }[] = [];
    const isTag = img.tags.includes(norm);
    if (isTag && img.tags.length > 1) {
      this.repo.untag(norm);
      return [{ Untagged: norm }];
    }
    const users = usedBy(img.id);
    if (users.length && !force) {
      throw new EngineError('IMAGE_IN_USE', `conflict: unable to remove repository reference "${ref}" (must force) - container ${users[0].slice(0, 12)} is using its referenced image ${img.id.slice(7, 19)}`, {
        hint: 'remove the container first',
      });
    }
    if (this.children(img.id).length) {
      if (isTag) {
        // The last tag of an image others are layered on: the tag goes, the image stays.
        this.repo.untag(norm);
        return [{ Untagged: norm }];
      }
      throw new EngineError('IMAGE_IN_USE', `conflict: unable to delete ${img.id.slice(7, 19)} (cannot be forced) - image has dependent child images`, { hint: 'remove the images made from it first' });
    }
    for (const t of img.tags) result.push({ Untagged: t });
    result.push(...(await this.delete(img.id)));
    // Its parents go too when nothing else holds them: no tag, no other child, no container.
    for (let p = img.parent; p && this.repo.get(p); ) {
      const row = this.repo.get(p)!;
      if (this.repo.tags(p).length || this.children(p).length || usedBy(p).length) break;
      result.push(...(await this.delete(p)));
      p = row.parent;
    }
    return result;
  }

  private async delete(id: string): Promise<{ Deleted: string }[]> {
    this.repo.delete(id);
    await rm(paths.image(this.p, id), { recursive: true, force: true });
    return [{ Deleted: id }];
  }

  /**
   * Docker's commit: the writable layer packed (whiteouts and opaque directories kept) and unpacked
   * as a new layer over the parent's; the id is the digest of what describes it (parent, layer
   * digest, time, config).
   */
  async commit(c: ImageCommit): Promise<Image> {
    const parent = this.get(c.parentId);
    const dir = paths.images(this.p);
    await mkdir(dir, { recursive: true });
    const tmp = `${dir}/.commit-${randomBytes(6).toString('hex')}`;
    await mkdir(`${tmp}/rootfs`, { recursive: true });
    try {
      await mkdir(c.layerDir, { recursive: true }); // never started: an empty layer
      const tar = `${tmp}/layer.tar`;
      await run(['tar', '--numeric-owner', ...TAR_XATTRS, '-C', c.layerDir, '-cf', tar, '.']);
      const diffId = await sha256File(tar);
      const size = (await stat(tar)).size;
      await run(['tar', '--numeric-owner', ...TAR_XATTRS, '-C', `${tmp}/rootfs`, '-xf', tar]);
      await rm(tar);
      const created = new Date().toISOString();
      const details = { author: c.author, container: c.container, config: c.config, containerConfig: c.containerConfig, diffId };
      const id = `sha256:${createHash('sha256').update(JSON.stringify({ parent: parent.id, created, comment: c.comment, ...details })).digest('hex')}`;
      const final = paths.image(this.p, id);
      await rename(tmp, final);
      this.repo.put({ id, created, size, comment: c.comment, parent: parent.id, details });
      if (c.tag) this.repo.tag(normalizeRef(c.tag), id);
      return this.toImage(id);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Builds busybox:latest from the host's busybox-static when it is missing. */
  async ensureBusybox(): Promise<void> {
    if (this.find('busybox')) return;
    const bin = '/bin/busybox';
    await stat(bin).catch((e) => {
      throw new EngineError('IMAGE_NOT_FOUND', 'cannot build the busybox image: /bin/busybox is missing', { cause: e, hint: 'apt-get install busybox-static' });
    });
    const dir = `${paths.images(this.p)}/.busybox-${randomBytes(6).toString('hex')}`;
    try {
      for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var/www', 'home']) {
        await mkdir(`${dir}/${d}`, { recursive: true });
      }
      await chmod(`${dir}/tmp`, 0o1777);
      await copyFile(bin, `${dir}/bin/busybox`);
      await chmod(`${dir}/bin/busybox`, 0o755);
      const applets = (await run([bin, '--list-full'])).split('\n').filter(Boolean);
      for (const a of applets) {
        if (a === 'bin/busybox') continue;
        const rel = path.relative(path.dirname(`/${a}`), '/bin/busybox');
        await symlink(rel, `${dir}/${a}`).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'EEXIST') throw e;
        });
      }
      await writeFile(`${dir}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
      await writeFile(`${dir}/etc/group`, 'root:x:0:\nnogroup:x:65534:\n');
      await writeFile(`${dir}/var/www/index.html`, '<html><body><h1>It works! (ctrnet busybox httpd)</h1></body></html>\n');
      const tar = `${dir}.tar`;
      await run(['tar', '--numeric-owner', '--sort=name', '--mtime=@0', '-C', dir, '-cf', tar, '.']);
      const { createReadStream } = await import('node:fs');
      await this.import(createReadStream(tar), 'busybox:latest');
      await rm(tar, { force: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

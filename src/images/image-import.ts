/**
 * Images from root filesystems: `docker import` (a tarball, plain, gzip or zstd, with optional
 * `--change` instructions and message) becomes a one-layer image whose config says "Imported from
 * -", as Docker's does; and busybox:latest, built from the host's busybox-static when missing (the
 * image the tour and the tests run offline), reproducibly: every host makes the same image id.
 */
import { mkdir, chmod, copyFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { EngineError } from '../base/errors';
import { applyChanges } from '../base/image-changes';
import { detailsToJson, emptyConfig } from '../base/image-config';
import { familiarTag, parseImageRef } from '../base/image-ref';
import { paths } from '../base/names';
import { run } from '../kernel/exec';
import { StoreCore } from './_store-core';
import { decompressed, tap } from './compression';
import { Image, ImportOptions } from './image-store';
import { archOf, parsePlatform } from './manifest';
import { archiveDir } from './tar/dir-archive';

export const TAR_MEDIA_TYPE = 'application/vnd.docker.image.rootfs.diff.tar';

/** Unpacks an uncompressed layer stream and keeps its tar as the layer's blob. */
export async function unpackKeeping(core: StoreCore, tar: Readable, expect?: string): Promise<{ diffId: string; size: number; blobSize: number; release: () => void }> {
  const w = await core.blobs.writer(undefined, undefined, false);
  let bytes = 0;
  const counted = tap(tar, (d) => (bytes += d.length));
  counted.on('error', (e) => w.stream.destroy(e));
  counted.pipe(w.stream);
  try {
    const layer = await core.layers.unpack(w.stream, expect);
    try {
      const digest = await w.commit();
      if (digest !== layer.diffId) throw new Error(`layer ${layer.diffId} was stored as ${digest}`);
      return { diffId: layer.diffId, size: layer.size, blobSize: bytes, release: layer.release };
    } catch (e) {
      layer.release();
      throw e;
    }
  } catch (e) {
    await w.abort();
    throw e;
  }
}

export async function importRootfs(core: StoreCore, body: Readable, opts: ImportOptions, created = new Date().toISOString()): Promise<Image> {
  const tag = opts.tag ? familiarTag(parseImageRef(opts.tag)) : undefined;
  const config = applyChanges(emptyConfig(), opts.changes ?? []);
  const platform = parsePlatform(opts.platform);
  let seen = 0;
  const layer = await unpackKeeping(core, decompressed(tap(body, (d) => (seen += d.length)))).catch((e) => {
    if (seen === 0) throw new EngineError('INVALID_PARAMETER', 'the image tarball is empty', { hint: 'pass a tar archive of a root filesystem' });
    throw e;
  });
  try {
    if (seen === 0) throw new EngineError('INVALID_PARAMETER', 'the image tarball is empty', { hint: 'pass a tar archive of a root filesystem' });
    const comment = opts.message || 'Imported from -';
    const json = detailsToJson({
      architecture: platform.architecture || archOf(), os: platform.os, variant: platform.variant ?? '', created, author: '', comment, dockerVersion: '', container: '',
      config, history: [{ created, createdBy: '', comment, author: '', emptyLayer: false }], diffIds: [layer.diffId],
    });
    return await core.addImage({
      configBytes: Buffer.from(JSON.stringify(json)),
      layers: [{ diffId: layer.diffId, size: layer.size, tarSize: layer.blobSize, blob: { digest: layer.diffId, diffId: layer.diffId, mediaType: TAR_MEDIA_TYPE, size: layer.blobSize } }],
      tags: tag ? [tag] : [],
      digests: [],
    });
  } finally {
    layer.release();
  }
}

/** Builds busybox:latest from the host's busybox-static when it is missing. */
export async function ensureBusybox(core: StoreCore): Promise<void> {
  if (core.find('busybox')) return;
  const bin = '/bin/busybox';
  const st = await stat(bin).catch((e) => {
    throw new EngineError('IMAGE_NOT_FOUND', 'cannot build the busybox image: /bin/busybox is missing', { cause: e, hint: 'apt-get install busybox-static' });
  });
  // The binary's time for every file and for the image: the same package makes the same image id.
  const when = Math.floor(st.mtimeMs / 1000);
  const dir = `${paths.imageTmp(core.p)}/busybox-${randomBytes(6).toString('hex')}`;
  try {
    for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'var/www', 'home']) {
      await mkdir(`${dir}/${d}`, { recursive: true, mode: 0o755 });
    }
    await chmod(`${dir}/tmp`, 0o1777);
    await chmod(`${dir}/root`, 0o700);
    await copyFile(bin, `${dir}/bin/busybox`);
    await chmod(`${dir}/bin/busybox`, 0o755);
    const applets = (await run([bin, '--list-full'])).split('\n').filter(Boolean);
    for (const a of applets) {
      if (a === 'bin/busybox') continue;
      await symlink(path.relative(path.dirname(`/${a}`), '/bin/busybox'), `${dir}/${a}`).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
    }
    await writeFile(`${dir}/etc/passwd`, 'root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nnobody:x:65534:65534:nobody:/home:/bin/false\n');
    await writeFile(`${dir}/etc/group`, 'root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\n');
    await writeFile(`${dir}/var/www/index.html`, '<html><body><h1>It works! (ctrnet busybox httpd)</h1></body></html>\n');
    await importRootfs(core, archiveDir(dir, { mtime: when }), { tag: 'busybox:latest', changes: ['CMD ["sh"]'], message: 'busybox-static of this host' }, new Date(when * 1000).toISOString());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Images the tests make themselves, with tools independent of ctrnet: layer tars by GNU tar from
 * directories (whiteouts and opaque markers are files named .wh.NAME and .wh..wh..opq), gzip and
 * zstd by their programs, OCI image layouts assembled by hand (for skopeo to push, or to load),
 * and `docker save` archives written byte for byte as Docker 20.10 writes them (a small Go-style
 * tar writer of its own here, checked against an archive Docker made: test/fixtures/).
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { must } from '../../scripts/lab';

export const sha = (b: Buffer | string): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A busybox root filesystem with the applets the tests use. */
export function busyboxRoot(dir: string, passwd = 'root:x:0:0:root:/root:/bin/sh\n', group = 'root:x:0:\n'): void {
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'root', 'var/www']) mkdirSync(`${dir}/${d}`, { recursive: true });
  chmodSync(`${dir}/tmp`, 0o1777);
  copyFileSync('/bin/busybox', `${dir}/bin/busybox`);
  chmodSync(`${dir}/bin/busybox`, 0o755);
  for (const a of ['sh', 'echo', 'cat', 'ls', 'id', 'pwd', 'grep', 'sleep', 'httpd', 'wc', 'env', 'true', 'touch', 'mkdir', 'rm', 'stat', 'wget', 'readlink']) symlinkSync('busybox', `${dir}/bin/${a}`);
  writeFileSync(`${dir}/etc/passwd`, passwd);
  writeFileSync(`${dir}/etc/group`, group);
  writeFileSync(`${dir}/var/www/index.html`, 'It works! (a pulled image)\n');
}

/** A layer tar of a directory (GNU tar, numeric owners, sorted, as `docker build` layers are). */
export async function layerTar(dir: string, out: string): Promise<Buffer> {
  await must(['tar', '--numeric-owner', '--sort=name', '-C', dir, '-cf', out, '.']);
  return readFileSync(out);
}

export async function gzip(file: string): Promise<Buffer> {
  await must(['gzip', '-kf', '-n', file]);
  return readFileSync(`${file}.gz`);
}

export async function zstd(file: string): Promise<Buffer> {
  await must(['zstd', '-q', '-f', '-k', file, '-o', `${file}.zst`]);
  return readFileSync(`${file}.zst`);
}

export interface BuiltLayer {
  /** uncompressed tar */
  tar: Buffer;
  /** the blob as stored (compressed or not) and its media type */
  blob: Buffer;
  mediaType: string;
}

export const MEDIA = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociTar: 'application/vnd.oci.image.layer.v1.tar',
  ociGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

/** An image config (Docker's JSON) over these layers. */
export function imageConfig(layers: BuiltLayer[], config: Record<string, unknown>, opts: { arch?: string; created?: string; history?: string[] } = {}): Buffer {
  const created = opts.created ?? '2026-01-02T03:04:05.000000006Z';
  return Buffer.from(JSON.stringify({
    architecture: opts.arch ?? 'amd64',
    config,
    created,
    history: (opts.history ?? layers.map((_, i) => `layer ${i}`)).map((h) => ({ created, created_by: h })),
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha(l.tar)) },
  }));
}

export interface OciImage {
  config: Buffer;
  layers: BuiltLayer[];
  platform?: { architecture: string; os: string; variant?: string };
}

/**
 * An OCI image layout directory: `ref` names one image, or an index of several (platforms).
 * Returns the digest of what `ref` names.
 */
export function ociLayout(dir: string, ref: string, images: OciImage[], asIndex = images.length > 1): string {
  mkdirSync(`${dir}/blobs/sha256`, { recursive: true });
  const put = (b: Buffer) => {
    const d = sha(b);
    writeFileSync(`${dir}/blobs/sha256/${d.slice(7)}`, b);
    return { digest: d, size: b.length };
  };
  const manifests = images.map((img) => {
    const m = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, ...put(img.config) },
      layers: img.layers.map((l) => ({ mediaType: l.mediaType, ...put(l.blob) })),
    }));
    return { mediaType: MEDIA.ociManifest, ...put(m), ...(img.platform ? { platform: img.platform } : {}) };
  });
  let top = manifests[0];
  if (asIndex) {
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.ociIndex, manifests }));
    top = { mediaType: MEDIA.ociIndex, ...put(index) };
  }
  writeFileSync(`${dir}/oci-layout`, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(`${dir}/index.json`, JSON.stringify({ schemaVersion: 2, manifests: [{ ...top, annotations: { 'org.opencontainers.image.ref.name': ref } }] }));
  return top.digest;
}

// ------------------------------------------------------------------ docker save, as Docker 20.10 writes it

/** Go's json.Marshal escaping */
const goJson = (v: unknown): string => JSON.stringify(v).replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const EMPTY_CONFIG = { Hostname: '', Domainname: '', User: '', AttachStdin: false, AttachStdout: false, AttachStderr: false, Tty: false, OpenStdin: false, StdinOnce: false, Env: null, Cmd: null, Image: '', Volumes: null, WorkingDir: '', Entrypoint: null, OnBuild: null, Labels: null };

/** One ustar header as Go's archive/tar writes it for Docker's save (uname root, type bits in the mode). */
function goHeader(name: string, kind: 'dir' | 'file' | 'symlink', size: number, mtime: number, link = ''): Buffer {
  const h = Buffer.alloc(512);
  const oct = (v: number, len: number) => v.toString(8).padStart(len - 1, '0') + '\0';
  h.write(name, 0);
  h.write(oct(kind === 'dir' ? 0o40755 : kind === 'symlink' ? 0o120777 : 0o100644, 8), 100);
  h.write(oct(0, 8), 108);
  h.write(oct(0, 8), 116);
  h.write(oct(size, 12), 124);
  h.write(oct(mtime, 12), 136);
  h.fill(' ', 148, 156);
  h.write(kind === 'dir' ? '5' : kind === 'symlink' ? '2' : '0', 156);
  h.write(link, 157);
  h.write('ustar\x0000', 257, 'latin1');
  h.write('root', 265);
  h.write('root', 297);
  h.write(oct(0, 8), 329);
  h.write(oct(0, 8), 337);
  let sum = 0;
  for (const c of h) sum += c;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'latin1');
  return h;
}

export interface SaveImage {
  config: Buffer;
  /** uncompressed layer tars, bottom first */
  layers: Buffer[];
  tags: string[];
}

/** A `docker save` archive of the images, byte for byte as Docker 20.10 writes it. */
export function dockerSaveArchive(images: SaveImage[]): Buffer {
  const files = new Map<string, { kind: 'dir' | 'file' | 'symlink'; data: Buffer; mtime: number; link?: string }>();
  const manifest: unknown[] = [];
  const repos: Record<string, Record<string, string>> = {};
  for (const img of images) {
    const cfg = JSON.parse(img.config.toString()) as Record<string, unknown>;
    const created = Math.floor(Date.parse(String(cfg.created)) / 1000);
    const diffIds = (cfg.rootfs as { diff_ids: string[] }).diff_ids;
    let chain = '';
    let parent = '';
    const ids: string[] = [];
    const seen = new Map<string, string>();
    diffIds.forEach((diff, i) => {
      chain = i ? sha(`${chain} ${diff}`) : diff;
      const top = i === diffIds.length - 1;
      // V1Image: the image's own fields for the top layer, an empty one (created 1970) below.
      const v1: Record<string, unknown> = top
        ? Object.fromEntries(Object.entries({ comment: cfg.comment, created: cfg.created, container: cfg.container, container_config: cfg.container_config ?? EMPTY_CONFIG, docker_version: cfg.docker_version, author: cfg.author, config: cfg.config, architecture: cfg.architecture, variant: cfg.variant, os: cfg.os }).filter(([k, v]) => v !== undefined && v !== '' || k === 'created' || k === 'container_config'))
        : { created: '1970-01-01T00:00:00Z', container_config: EMPTY_CONFIG };
      const forId: Record<string, unknown> = { ...v1, layer_id: chain, ...(parent ? { parent } : {}) };
      const id = sha(goJson(Object.fromEntries(Object.keys(forId).sort().map((k) => [k, forId[k]])))).slice(7);
      const json = top ? { id, ...(parent ? { parent: parent.slice(7) } : {}), ...v1 } : { id, ...(parent ? { parent: parent.slice(7) } : {}), ...v1, os: cfg.os };
      files.set(`${id}/`, { kind: 'dir', data: Buffer.alloc(0), mtime: created });
      files.set(`${id}/VERSION`, { kind: 'file', data: Buffer.from('1.0'), mtime: created });
      files.set(`${id}/json`, { kind: 'file', data: Buffer.from(goJson(json)), mtime: created });
      const first = seen.get(diff);
      if (first) files.set(`${id}/layer.tar`, { kind: 'symlink', data: Buffer.alloc(0), mtime: created, link: `../${first}/layer.tar` });
      else files.set(`${id}/layer.tar`, { kind: 'file', data: img.layers[i], mtime: created });
      seen.set(diff, id);
      ids.push(id);
      parent = `sha256:${id}`;
    });
    files.set(`${sha(img.config).slice(7)}.json`, { kind: 'file', data: img.config, mtime: created });
    manifest.push({ Config: `${sha(img.config).slice(7)}.json`, RepoTags: img.tags.length ? img.tags : null, Layers: ids.map((id) => `${id}/layer.tar`) });
    for (const t of img.tags) (repos[t.slice(0, t.lastIndexOf(':'))] ??= {})[t.slice(t.lastIndexOf(':') + 1)] = ids[ids.length - 1];
  }
  files.set('manifest.json', { kind: 'file', data: Buffer.from(goJson(manifest) + '\n'), mtime: 0 });
  if (Object.keys(repos).length) files.set('repositories', { kind: 'file', data: Buffer.from(goJson(repos) + '\n'), mtime: 0 });
  const parts: Buffer[] = [];
  for (const name of [...files.keys()].sort()) {
    const f = files.get(name)!;
    parts.push(goHeader(name, f.kind, f.kind === 'file' ? f.data.length : 0, f.mtime, f.link));
    if (f.kind === 'file') parts.push(f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** The path of a fixture (in the source tree: compiled tests run from dist/). */
export const fixture = (name: string): string => path.resolve(__dirname, '../../../test/fixtures', name);

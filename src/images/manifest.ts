/**
 * Manifests and indexes: Docker's v2 schema 2 manifest and manifest list, OCI's image manifest
 * and image index, parsed and checked (descriptors with valid digests and sizes, layer media
 * types we can unpack), and the platform choice Docker makes in an index (os/architecture, the
 * variant when asked for; arm64 means v8).
 */
import os from 'node:os';
import { EngineError } from '../base/errors';

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeign: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
} as const;

/** What a pull asks for, in Docker's order of preference. */
export const ACCEPT = [MT.dockerManifest, MT.dockerList, MT.ociManifest, MT.ociIndex].join(', ');

const LAYER_TYPES = new Set<string>([MT.dockerLayer, MT.ociLayer, MT.ociLayerGzip, MT.ociLayerZstd, 'application/vnd.docker.image.rootfs.diff.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', 'application/vnd.oci.image.layer.nondistributable.v1.tar', 'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd', MT.dockerForeign]);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: Platform;
  annotations?: Record<string, string>;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export type Parsed =
  | { kind: 'index'; mediaType: string; manifests: Descriptor[] }
  | { kind: 'image'; mediaType: string; config: Descriptor; layers: Descriptor[] };

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function descriptor(v: unknown, what: string): Descriptor {
  const d = (v ?? {}) as Record<string, unknown>;
  if (typeof d.digest !== 'string' || !DIGEST.test(d.digest)) throw new EngineError('IMAGE_UNSUPPORTED', `${what}: digest "${String(d.digest)}" is not sha256:<64 hex>`, { hint: 'only sha256 digests are supported' });
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0) throw new EngineError('IMAGE_UNSUPPORTED', `${what}: invalid size`);
  const p = d.platform as Record<string, unknown> | undefined;
  return {
    mediaType: typeof d.mediaType === 'string' ? d.mediaType : '',
    digest: d.digest,
    size: d.size,
    urls: Array.isArray(d.urls) ? (d.urls as string[]) : undefined,
    platform: p ? { os: String(p.os ?? ''), architecture: String(p.architecture ?? ''), variant: typeof p.variant === 'string' ? p.variant : undefined } : undefined,
    annotations: d.annotations && typeof d.annotations === 'object' ? (d.annotations as Record<string, string>) : undefined,
  };
}

/** Parses a manifest or index; `contentType` (the registry's header) decides when the body has no mediaType. */
export function parseManifest(body: Buffer, contentType = ''): Parsed {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new EngineError('IMAGE_UNSUPPORTED', 'the manifest is not JSON');
  }
  const mediaType = (typeof j.mediaType === 'string' && j.mediaType) || contentType.split(';')[0].trim();
  if (j.schemaVersion === 1 || mediaType.startsWith('application/vnd.docker.distribution.manifest.v1')) {
    throw new EngineError('IMAGE_UNSUPPORTED', 'the image has a schema 1 manifest, which ctrnet does not support (Docker deprecated it)', { hint: 'push the image again with a current client (schema 2 or OCI)' });
  }
  if (Array.isArray(j.manifests) || mediaType === MT.dockerList || mediaType === MT.ociIndex) {
    return { kind: 'index', mediaType: mediaType || MT.ociIndex, manifests: ((j.manifests as unknown[]) ?? []).map((m, i) => descriptor(m, `manifest ${i} of the index`)) };
  }
  if (!j.config || !Array.isArray(j.layers)) throw new EngineError('IMAGE_UNSUPPORTED', `unsupported manifest media type "${mediaType}"`);
  const config = descriptor(j.config, 'the image config');
  const layers = (j.layers as unknown[]).map((l, i) => descriptor(l, `layer ${i}`));
  for (const l of layers) {
    if (!LAYER_TYPES.has(l.mediaType)) throw new EngineError('IMAGE_UNSUPPORTED', `layer ${l.digest} has media type "${l.mediaType}", which is not an image layer ctrnet can unpack`);
  }
  return { kind: 'image', mediaType: mediaType || MT.ociManifest, config, layers };
}

export function archOf(nodeArch = os.arch()): string {
  return ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

/** "linux/arm64/v8" → platform; empty: this daemon's (linux/amd64 here). */
export function parsePlatform(s: string | undefined | null): Platform {
  if (!s) return { os: 'linux', architecture: archOf() };
  const [o, a, v] = s.toLowerCase().split('/');
  if (!o || (a === undefined && o !== 'linux')) throw new EngineError('INVALID_PARAMETER', `invalid platform "${s}"`, { hint: 'write it as OS/ARCH[/VARIANT], e.g. linux/arm64' });
  const arch = ({ x86_64: 'amd64', aarch64: 'arm64', armhf: 'arm', armel: 'arm' } as Record<string, string>)[a ?? ''] ?? a ?? archOf();
  return { os: o, architecture: arch, variant: v || undefined };
}

export const platformString = (p: Platform): string => `${p.os}/${p.architecture}${p.variant ? `/${p.variant}` : ''}`;

/** The index entry for `want`, as Docker picks it; IMAGE_NOT_FOUND with Docker's words when there is none. */
export function choosePlatform(manifests: Descriptor[], want: Platform): Descriptor {
  const norm = (p: Platform) => ({ ...p, variant: p.architecture === 'arm64' && !p.variant ? 'v8' : p.variant });
  const w = norm(want);
  const candidates = manifests.filter((m) => m.platform && m.platform.os === w.os && m.platform.architecture === w.architecture);
  const exact = candidates.find((m) => !w.variant || norm(m.platform!).variant === w.variant || (!m.platform!.variant && w.architecture !== 'arm'));
  if (exact) return exact;
  throw new EngineError('IMAGE_NOT_FOUND', `no matching manifest for ${platformString(want)} in the manifest list entries`, {
    hint: `the image has ${manifests.map((m) => (m.platform ? platformString(m.platform) : 'unknown')).join(', ') || 'no entries'}; choose one with --platform`,
  });
}

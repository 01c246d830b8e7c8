/**
 * The image store's port: what core/ asks of images (find one for a container, import, tag,
 * remove). An image's root filesystem is a stack of read-only layer directories that a
 * container's overlay mount uses as its lower layers.
 */
import { Readable } from 'node:stream';
import { CommitConfig, ImageDetails } from '../base/model';

export type { CommitConfig, ImageDetails };

export interface Image {
  id: string;
  tags: string[];
  created: string;
  size: number;
  /** read-only layer directories, top-most first (overlayfs lowerdir order) */
  layers: string[];
  /** the digests of the layers, bottom first (Docker's RootFS.Layers) */
  diffIds: string[];
  comment: string;
  /** the image it is a layer on (a commit's); absent: a base image */
  parent?: string;
  /** what a committed image says of itself */
  details?: ImageDetails;
}

/** A new image from a container's writable layer (docker commit). */
export interface ImageCommit {
  /** the container's writable layer: its files, overlayfs whiteouts and opaque directories included */
  layerDir: string;
  /** the container's image: the new one is a layer on it */
  parentId: string;
  container: string;
  comment: string;
  author: string;
  config: CommitConfig;
  containerConfig: CommitConfig;
  /** repo[:tag] to tag it with */
  tag?: string;
}

export interface ImageStore {
  list(): Image[];
  /** by name[:tag], full id or unambiguous id prefix */
  find(ref: string): Image | undefined;
  /** as find, IMAGE_NOT_FOUND when missing */
  get(ref: string): Image;
  /** a root filesystem tarball (plain or gzip), tagged when `tag` is given */
  import(body: Readable, tag?: string): Promise<Image>;
  tag(ref: string, tag: string): void;
  /** Docker's rmi: untags, and deletes when no tag is left; refused while `usedBy` names containers, unless forced */
  remove(ref: string, usedBy: (imageId: string) => string[], force?: boolean): Promise<{ Untagged?: string; Deleted?: string }[]>;
  /** builds busybox:latest from the host's busybox-static when missing */
  ensureBusybox(): Promise<void>;
  /** A new image from a container's writable layer, on top of its image (docker commit). */
  commit(c: ImageCommit): Promise<Image>;
}

/** "busybox" → "busybox:latest"; "sha256:…" and ids stay as they are. */
export function normalizeRef(ref: string): string {
  if (/^(sha256:)?[0-9a-f]{12,64}$/.test(ref)) return ref;
  // The docker CLI spells references in full: docker.io/library/busybox is our busybox.
  ref = ref.replace(/^docker\.io\/(library\/)?/, '');
  const lastColon = ref.lastIndexOf(':');
  return lastColon > ref.lastIndexOf('/') ? ref : `${ref}:latest`;
}

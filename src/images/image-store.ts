/**
 * The image store's port: what core/ and the API ask of images. An image is its configuration
 * (typed: base/image-config.ts; the defaults a container takes) and a stack of read-only layer
 * directories, stored once by digest and shared, that a container's overlay mount uses as its
 * lower layers. Images come from registries (pull, push, login), archives (`docker save`
 * tarballs and OCI image layouts: load, save), root filesystem tarballs (import), containers
 * (commit), and the host's busybox-static.
 */
import { Readable } from 'node:stream';
import { ImageConfig, ImageDetails } from '../base/image-config';
import type { RegistryAuth } from './registry/auth';

export type { RegistryAuth };

export interface Image {
  id: string;
  /** familiar name:tag (busybox:latest, localhost:5000/app:1) */
  tags: string[];
  /** familiar name@digest of the manifests it was pulled or pushed by */
  repoDigests: string[];
  created: string;
  /** bytes of its layers' files */
  size: number;
  comment: string;
  /** the image it was committed from, or "" */
  parent: string;
  /** read-only layer directories, top-most first (overlayfs lowerdir order) */
  layers: string[];
  /** everything its JSON says, typed */
  details: ImageDetails;
  /** its container defaults (details.config) */
  config: ImageConfig;
}

/** One line of progress, as Docker's JSON message stream carries it. */
export interface ProgressEvent {
  /** the layer (12 hex digits) or tag the line is about */
  id?: string;
  status: string;
  current?: number;
  total?: number;
  aux?: Record<string, unknown>;
  /** text for the client to print as it is (load's "Loaded image: …") */
  stream?: string;
}

export type Progress = (e: ProgressEvent) => void;

export interface DeleteItem {
  Untagged?: string;
  Deleted?: string;
}

export interface HistoryItem {
  /** the image id for the top entry, "<missing>" below (as Docker) */
  id: string;
  created: string;
  createdBy: string;
  tags: string[];
  size: number;
  comment: string;
}

export interface ImportOptions {
  /** name[:tag] to tag the image with */
  tag?: string;
  /** Dockerfile instructions: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL */
  changes?: string[];
  message?: string;
  platform?: string;
}

export interface CommitRequest {
  /** the container's image */
  parentId: string;
  /** the container's writable layer (an overlayfs upper directory) */
  upperDir: string;
  /** the new image's config (the container's, with changes applied) */
  config: ImageConfig;
  containerId: string;
  /** the container's config as Docker's container_config shows it */
  containerConfig?: ImageConfig;
  containerHostname?: string;
  comment?: string;
  author?: string;
  tag?: string;
}

/** Which containers use an image (their ids). */
export type UsedBy = (imageId: string) => string[];

export interface ImageStore {
  list(): Image[];
  /** by name[:tag], name@digest, full id or unambiguous id prefix */
  find(ref: string): Image | undefined;
  /** as find, IMAGE_NOT_FOUND when missing */
  get(ref: string): Image;
  /** a root filesystem tarball (plain, gzip or zstd) as a one-layer image */
  import(body: Readable, opts?: ImportOptions): Promise<Image>;
  tag(ref: string, tag: string): void;
  /** Docker's rmi: untags; deletes when no tag is left and no container uses it (force: untags even then, the image stays until unused) */
  remove(ref: string, usedBy: UsedBy, force?: boolean): Promise<DeleteItem[]>;
  /** removes unused images: dangling ones, or all unused with `all`; layers still used stay */
  prune(usedBy: UsedBy, opts?: { all?: boolean; keep?: (i: Image) => boolean }): Promise<{ deleted: DeleteItem[]; spaceReclaimed: number }>;
  history(ref: string): HistoryItem[];
  /** builds busybox:latest from the host's busybox-static when missing */
  ensureBusybox(): Promise<void>;
  /** pulls name[:tag|@digest] for `platform` (default: the daemon's) */
  pull(ref: string, opts: { auth: RegistryAuth; platform?: string; progress: Progress }): Promise<Image>;
  /** pushes name[:tag] (every tag of the name when none is given) */
  push(ref: string, opts: { auth: RegistryAuth; allTags?: boolean; progress: Progress }): Promise<void>;
  /** checks credentials with a registry; its identity token, when it gives one */
  login(auth: RegistryAuth): Promise<{ identityToken?: string }>;
  /** `docker load`: a docker save archive or an OCI image layout tarball; the names (or ids) loaded */
  load(body: Readable, progress: Progress): Promise<string[]>;
  /** `docker save` of names or ids, as a tarball Docker loads */
  save(refs: string[]): Readable;
  /** a new image from a container's writable layer over its image */
  commit(req: CommitRequest): Promise<Image>;
  /** a tar stream of a directory tree (`docker export` of a container's root) */
  archive(dir: string): Readable;
}

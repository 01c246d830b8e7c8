/**
 * What the image store's operations (pull, push, load, save, import, commit) share of the store:
 * its blobs, layers and records, and the two rules every operation follows: layers it relies on
 * are pinned while it runs (rmi and prune leave them), and work on one layer or blob is done once
 * at a time (concurrent pulls of a layer download it once).
 */
import { ImageDetails } from '../base/image-config';
import { LayerBlobRecord, RepoDigestRecord } from '../base/model';
import { Paths } from '../base/names';
import { ImageRepo } from '../state/repos';
import { ContentStore } from './content-store';
import { Image } from './image-store';
import { LayerStore } from './layer-store';
import { RegistryClient } from './registry/registry-client';

export interface NewLayer {
  diffId: string;
  size: number;
  /** bytes of its uncompressed tar */
  tarSize: number;
  /** the blob kept for it, when new */
  blob?: LayerBlobRecord;
}

export interface NewImage {
  /** the image JSON exactly as it is stored: its digest is the image id */
  configBytes: Buffer;
  layers: NewLayer[];
  /** familiar name:tag */
  tags: string[];
  digests: Omit<RepoDigestRecord, 'imageId'>[];
  parent?: string;
}

export interface StoreCore {
  readonly p: Paths;
  readonly repo: ImageRepo;
  readonly blobs: ContentStore;
  readonly layers: LayerStore;
  readonly registry: RegistryClient;
  readonly log: (m: string) => void;
  /** Keeps these layers (diff ids) from being collected until the returned function is called. */
  pin(diffIds: string[]): () => void;
  /** Runs fn once for `key` at a time; concurrent callers with the same key share its result. */
  once<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /** Is the layer unpacked and recorded (or unpacked by a running operation)? */
  hasLayer(diffId: string): Promise<boolean>;
  /** After a failed operation: removes the layers it unpacked (and their blobs) that nothing records or pins. */
  discard(layers: { diffId: string; blob?: string }[]): Promise<void>;
  /** Stores the config, records the image with its layers, tags and digests; returns it. */
  addImage(n: NewImage): Promise<Image>;
  find(ref: string): Image | undefined;
  get(ref: string): Image;
  details(imageId: string): ImageDetails;
}

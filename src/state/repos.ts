/**
 * The repositories: the state store's port. Typed domain records in and out (base/model.ts); how
 * they are kept (SQLite tables with JSON columns) is the adapter's business (state/sqlite-store.ts).
 * Every method is atomic; the two that decide something from what is recorded (an address lease,
 * a set of published ports) take the decision inside their own transaction.
 */
import { Attachment } from '../base/attachment';
import { Container, Endpoint, ImageRecord, LayerBlobRecord, LayerRecord, Network, PublishedPort, RepoDigestRecord, Volume } from '../base/model';
import type { SwarmState } from '../base/swarm';
import type { OverlayNetwork } from './cluster-store';

export interface NetworkRepo {
  list(): Network[];
  /** by id, name or unambiguous id prefix */
  get(idOrName: string): Network | undefined;
  insert(n: Network): void;
  /** inserts, or replaces the record of that id (a cluster's network mirrored locally) */
  put(n: Network): void;
  delete(id: string): void;
}

export type ContainerFields = Partial<Omit<Container, 'id'>>;

export interface ContainerRepo {
  /** newest first */
  list(): Container[];
  /** by id, name (with or without "/") or unambiguous id prefix */
  get(idOrName: string): Container | undefined;
  /** NAME_IN_USE when the name is taken */
  insert(c: Container): void;
  update(id: string, fields: ContainerFields): void;
  /** the container with its endpoints and published ports */
  delete(id: string): void;
}

/** An endpoint before its addresses are chosen. */
export type EndpointDraft = Omit<Endpoint, 'ip' | 'ip6'>;

/** The addresses of a lease: IPv4 ("" on a network without it) and IPv6. */
export interface Addresses {
  ip: string;
  ip6?: string;
}

/**
 * What a lease's `pick` returns: the addresses to take, or an IPv4 address alone (the form
 * callers had before IPv6).
 */
export type Picked = string | Addresses;

/** A pick as Addresses. */
export const addressesOf = (p: Picked): Addresses => (typeof p === 'string' ? { ip: p } : p.ip6 ? { ip: p.ip, ip6: p.ip6 } : { ip: p.ip });

export interface EndpointRepo {
  list(filter?: { containerId?: string; networkId?: string }): Endpoint[];
  /**
   * Records an endpoint and its addresses in one transaction: `pick` sees every address in use on
   * the network (IPv4 and IPv6) and returns the ones to take (or throws).
   */
  lease(draft: EndpointDraft, pick: (used: Set<string>) => Picked): Endpoint;
  update(id: string, fields: Partial<Pick<Endpoint, 'mac' | 'hostIf'>>): void;
  delete(id: string): void;
}

export interface PortRepo {
  /** every published port, or a container's */
  list(containerId?: string): PublishedPort[];
  /** the published ports on one host port (any host address) */
  at(proto: string, hostPort: number): PublishedPort[];
  /** Records ports in one transaction; `choose` looks up the ports in use and returns what to record. */
  reserve(choose: (usedAt: (proto: string, hostPort: number) => PublishedPort[]) => PublishedPort[]): PublishedPort[];
  release(containerId: string): void;
}

export interface ImageRepo {
  list(): ImageRecord[];
  get(id: string): ImageRecord | undefined;
  put(i: ImageRecord): void;
  /** the image and its tags */
  delete(id: string): void;
  tags(imageId?: string): { tag: string; imageId: string }[];
  tag(tag: string, imageId: string): void;
  untag(tag: string): void;
  byTag(tag: string): string | undefined;
  /** unpacked layers, by diff id */
  layers(): LayerRecord[];
  layer(diffId: string): LayerRecord | undefined;
  /** the blobs kept for a layer (or all) */
  blobs(diffId?: string): LayerBlobRecord[];
  /** the manifests images were pulled or pushed by (or one image's) */
  digests(imageId?: string): RepoDigestRecord[];
  /** Records an image with its new layers, blobs, tag and digest in one transaction. */
  record(r: { image: ImageRecord; layers: LayerRecord[]; blobs: LayerBlobRecord[]; tags: string[]; digests: RepoDigestRecord[] }): void;
  putBlob(b: LayerBlobRecord): void;
  putDigest(d: RepoDigestRecord): void;
  deleteDigest(repo: string, digest: string): void;
  /** an image's tags and digests (the image record stays: dangling) */
  clearRefs(imageId: string): void;
  /** a layer and its blobs */
  deleteLayer(diffId: string): void;
}

/** Sandboxes ctrnet did not make, attached through the CNI plugin or the Docker plugin (base/attachment.ts). */
export interface AttachmentRepo {
  list(filter?: { kind?: string; scope?: string; networkId?: string }): Attachment[];
  /** by id, or by name when it is unambiguous */
  get(idOrName: string): Attachment | undefined;
  /** by the runtime's key */
  find(kind: string, ref: string, scope: string, ifName: string): Attachment | undefined;
  insert(a: Attachment): void;
  update(id: string, fields: Partial<Omit<Attachment, 'id' | 'kind'>>): void;
  /** the attachment with its endpoints and published ports */
  delete(id: string): void;
}

/** A Docker network made through ctrnet's Docker plugin, and the ctrnet network it is joined to. */
export interface PluginNetwork {
  /** Docker's network id (per Docker host) */
  dockerId: string;
  /** the ctrnet network's name (-o ctrnet.network) */
  network: string;
  /** the ctrnet driver (-o ctrnet.type) */
  type: string;
  subnet: string;
  gateway: string;
  /** ctrnet made the network for it (and removes it with the last Docker network when nothing uses it) */
  made: boolean;
  created: string;
}

export interface PluginNetworkRepo {
  list(): PluginNetwork[];
  get(dockerId: string): PluginNetwork | undefined;
  put(n: PluginNetwork): void;
  delete(dockerId: string): void;
}

export interface VolumeRepo {
  /** oldest first */
  list(): Volume[];
  get(name: string): Volume | undefined;
  /** Records the volume unless one of that name exists; returns the one recorded (Docker's create is idempotent). */
  ensure(v: Volume): Volume;
  delete(name: string): void;
}

/** This engine's swarm (one row at most): none when the engine is not in a swarm. */
export interface SwarmRepo {
  get(): SwarmState | undefined;
  put(s: SwarmState): void;
  delete(): void;
}

/** The overlay networks of the one-member cluster store (state/local-cluster-store.ts). */
export interface LocalClusterRepo {
  list(): OverlayNetwork[];
  /** fails on an id already recorded */
  insert(n: OverlayNetwork): void;
  delete(id: string): void;
}

export interface Repos {
  networks: NetworkRepo;
  containers: ContainerRepo;
  endpoints: EndpointRepo;
  ports: PortRepo;
  images: ImageRepo;
  attachments: AttachmentRepo;
  pluginNetworks: PluginNetworkRepo;
  volumes: VolumeRepo;
  swarm: SwarmRepo;
  localCluster: LocalClusterRepo;
  close(): void;
}

/**
 * The host side of containers' mounts, as core/ asks for it: the data directories of volumes
 * (the `local` driver: ROOT/volumes/NAME/_data, kept across daemon restarts), the host-side
 * mount of a volume created with options (a tmpfs, a bind of a host directory), the copy of an
 * image's files into a new volume, and the host paths of bind mounts. The adapter is
 * runtime/local-storage.ts; runc makes the mounts inside the container from the bundle.
 */

/** A volume as the driver needs it. */
export interface VolumeRef {
  name: string;
  /** the `local` driver's options: type, o, device */
  options?: Record<string, string>;
}

export interface Storage {
  /** ROOT/volumes/NAME/_data (inspect's Mountpoint) */
  volumePath(name: string): string;
  /** Makes the volume's data directory (idempotent). */
  createVolume(name: string): Promise<void>;
  /** Removes a volume's data, unmounting it first when mounted; resolves with the bytes it held. */
  removeVolume(name: string): Promise<number>;
  /** Bytes of a volume's files (Docker's UsageData.Size, `system df`). */
  volumeSize(name: string): Promise<number>;
  /** A volume with options: mounts it at its data directory unless it is (idempotent). Plain volumes: nothing. */
  mountVolume(v: VolumeRef): Promise<void>;
  /** Undoes mountVolume (idempotent). */
  unmountVolume(v: VolumeRef): Promise<void>;
  /**
   * Copies the files at `target` inside a container's mounted root into a volume whose data
   * directory is empty, owners and modes kept, as Docker fills a new volume from its image.
   * Resolves false when the volume was not empty or there was nothing to copy.
   */
  copyUp(rootfs: string, target: string, name: string): Promise<boolean>;
  /** A bind mount's host path: true when it exists; `create` makes a missing one (a directory, as `-v` does). */
  hostPath(path: string, create: boolean): Promise<boolean>;
}

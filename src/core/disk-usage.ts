/**
 * `docker system df`: the space images and containers take, as Docker counts it. An image's size
 * is all its layers; the part of it that other images share (their common parents) is its shared
 * size; the layers' total counts each layer once. A container's own size is its writable layer;
 * its root filesystem's size adds its image's.
 *
 * Limitations: volumes are counted by their own service (issue 15) and build cache ctrnet has none.
 */
import { Container } from '../base/model';
import { Image, ImageStore } from '../images/image-store';

export interface ImageUsage {
  image: Image;
  /** bytes of its layers that other images use too */
  sharedSize: number;
  /** containers made from it */
  containers: number;
}

export interface ContainerUsage {
  container: Container;
  sizeRw: number;
  sizeRootFs: number;
}

export interface DiskUsage {
  layersSize: number;
  images: ImageUsage[];
  containers: ContainerUsage[];
}

export interface DiskUsageDeps {
  images: Pick<ImageStore, 'list'>;
  containers: () => Container[];
  layerSize: (id: string) => Promise<number>;
}

export async function diskUsage(d: DiskUsageDeps): Promise<DiskUsage> {
  const images = d.images.list();
  const byId = new Map(images.map((i) => [i.id, i]));
  /** an image's own layer size (its size less its parent's) */
  const own = (i: Image): number => i.size - (i.parent && byId.get(i.parent) ? byId.get(i.parent)!.size : 0);
  const chain = (i: Image): Image[] => [i, ...(i.parent && byId.get(i.parent) ? chain(byId.get(i.parent)!) : [])];
  const users = new Map<string, number>();
  for (const i of images) for (const l of chain(i)) users.set(l.id, (users.get(l.id) ?? 0) + 1);
  const all = d.containers();
  const containers: ContainerUsage[] = [];
  for (const c of all) {
    const sizeRw = await d.layerSize(c.id).catch(() => 0);
    containers.push({ container: c, sizeRw, sizeRootFs: sizeRw + (byId.get(c.imageId)?.size ?? 0) });
  }
  return {
    layersSize: images.reduce((a, i) => a + own(i), 0),
    images: images.map((i) => ({
      image: i,
      sharedSize: chain(i).filter((l) => (users.get(l.id) ?? 0) > 1).reduce((a, l) => a + own(l), 0),
      containers: all.filter((c) => c.imageId === i.id).length,
    })),
    containers,
  };
}

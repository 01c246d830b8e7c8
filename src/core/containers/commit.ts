/**
 * `docker commit`: a new image from a container's writable layer, layered on the container's
 * image (ImageStore.commit). The image's config is the container's (command, entrypoint,
 * environment, working directory, user, labels, exposed ports, volumes, stop signal, health
 * check), then the request's config, then the `--change` instructions. A running container is
 * paused while its layer is copied (unless the request says pause=false), as Docker does, so
 * the copy is consistent.
 */
import { applyChanges } from '../../base/image-changes';
import { emptyConfig, ImageConfig } from '../../base/image-config';
import { ContainerSpec } from '../../base/container-spec';
import { Container } from '../../base/model';
import { Image, ImageStore } from '../../images/image-store';
import { ContainerRuntime } from '../../runtime/runtime';

export interface CommitRequest {
  /** repo[:tag], or nothing: an untagged image */
  tag?: string;
  comment: string;
  author: string;
  /** pause a running container while its layer is copied (Docker's default: yes) */
  pause: boolean;
  /** Dockerfile instructions (--change) */
  changes: string[];
  /** the request body's config fields that were given */
  config: Partial<ImageConfig>;
}

/** What a container's spec gives its image's config. */
export function configOfSpec(spec: ContainerSpec): ImageConfig {
  return {
    ...emptyConfig(),
    user: spec.user ?? '',
    exposedPorts: [...new Set([...spec.exposedPorts, ...spec.portBindings.map((b) => `${b.containerPort}/${b.proto}`)])],
    env: spec.env,
    entrypoint: spec.entrypoint.length ? spec.entrypoint : null,
    cmd: spec.cmd.length ? spec.cmd : null,
    workingDir: spec.workingDir,
    volumes: spec.volumes ?? [],
    labels: spec.labels,
    stopSignal: spec.stopSignal ?? '',
    ...(spec.stopTimeout !== undefined ? { stopTimeout: spec.stopTimeout } : {}),
    ...(spec.healthcheck ? { healthcheck: spec.healthcheck } : {}),
  };
}

export interface CommitDeps {
  images: Pick<ImageStore, 'get' | 'commit'>;
  runtime: Pick<ContainerRuntime, 'rootfsDirs'>;
  pause: (id: string) => Promise<void>;
  unpause: (id: string) => Promise<void>;
  /** the container as it is now */
  get: (id: string) => Container;
  note: (action: string, c: Container, extra: Record<string, string>) => void;
}

export async function commit(d: CommitDeps, c: Container, req: CommitRequest): Promise<Image> {
  const image = d.images.get(c.imageId);
  const containerConfig = configOfSpec(c.spec);
  const given = Object.fromEntries(Object.entries(req.config).filter(([, v]) => v !== undefined)) as Partial<ImageConfig>;
  const config = applyChanges({ ...containerConfig, ...given }, req.changes);
  const freeze = req.pause && c.status === 'running' && !c.paused;
  if (freeze) await d.pause(c.id);
  try {
    const img = await d.images.commit({
      parentId: image.id,
      upperDir: d.runtime.rootfsDirs(c.id, image.layers).upper,
      config,
      containerId: c.id,
      containerConfig,
      containerHostname: c.spec.hostname,
      comment: req.comment,
      author: req.author,
      tag: req.tag,
    });
    d.note('commit', d.get(c.id), { comment: req.comment, imageID: img.id, imageRef: req.tag ?? '' });
    return img;
  } finally {
    if (freeze) await d.unpause(c.id);
  }
}

/**
 * Docker's JSON for images: the list entry and inspect, field by field as Docker 20.10 answers
 * them (the zero values for what ctrnet's images do not say), in the shapes of the request's API
 * version. Config and ContainerConfig come from small functions that issue 17's image configs
 * extend; a committed image carries both (ImageDetails).
 */
import os from 'node:os';
import { CommitConfig } from '../../base/model';
import { Image } from '../../images/image-store';
import { atLeast } from '../version';
import { Json } from './common';

export const archName = (): string => (os.arch() === 'x64' ? 'amd64' : os.arch());

/** An image's labels (those of its config). */
export const imageLabels = (i: Image): Record<string, string> | null => (i.details && Object.keys(i.details.config.labels).length ? i.details.config.labels : null);

export function imageSummary(i: Image, containers: number, version: string, sharedSize = -1): Json {
  const modern = atLeast(version, '1.43');
  const out: Json = {
    // Before 1.51 Docker did not count an image's containers here (-1).
    Containers: atLeast(version, '1.51') ? containers : -1,
    Created: Math.floor(Date.parse(i.created) / 1000), Id: i.id, Labels: imageLabels(i), ParentId: i.parent ?? '',
    // Before 1.43 an untagged image lists <none> names.
    RepoDigests: modern ? [] : i.tags.length ? null : ['<none>@<none>'],
    RepoTags: i.tags.length ? i.tags : modern ? [] : ['<none>:<none>'],
    SharedSize: sharedSize, Size: i.size,
  };
  if (!atLeast(version, '1.44')) out.VirtualSize = i.size;
  return out;
}

/** Docker's container.Config JSON of an image config (Config and ContainerConfig of image inspect). */
export function configJson(c: CommitConfig | undefined, extra: { hostname?: string; image?: string; attach?: boolean } = {}): Json {
  const out: Json = {
    Hostname: extra.hostname ?? '', Domainname: '', User: c?.user ?? '', AttachStdin: false, AttachStdout: !!extra.attach, AttachStderr: !!extra.attach,
  };
  if (c?.exposedPorts.length) out.ExposedPorts = Object.fromEntries(c.exposedPorts.map((p) => [p, {}]));
  Object.assign(out, {
    Tty: false, OpenStdin: false, StdinOnce: false, Env: c?.env.length ? c.env : null, Cmd: c?.cmd ?? null, Image: extra.image ?? '',
    Volumes: c?.volumes.length ? Object.fromEntries(c.volumes.map((v) => [v, {}])) : null, WorkingDir: c?.workingDir ?? '', Entrypoint: c?.entrypoint ?? null,
    OnBuild: null, Labels: c ? c.labels : null,
  });
  if (c?.stopSignal) out.StopSignal = c.stopSignal;
  return out;
}

/** Fields of container.Config that are no part of an image's config: left out from API 1.50 on. */
const NOT_IMAGE_CONFIG = ['Hostname', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Image'];

/** The image config: what containers take from it. */
export function imageConfigJson(i: Image, version = '1.41'): Json {
  const out = configJson(i.details?.config, { hostname: i.details ? i.details.container.slice(0, 12) : '', image: i.details ? i.parent ?? '' : '', attach: !!i.details });
  if (atLeast(version, '1.50')) for (const k of NOT_IMAGE_CONFIG) delete out[k];
  return out;
}

/** The config of the container an image was committed from (Docker's ContainerConfig). */
export function containerConfigJson(i: Image): Json {
  return configJson(i.details?.containerConfig, { hostname: i.details ? i.details.container.slice(0, 12) : '', image: i.details ? i.parent ?? '' : '', attach: !!i.details });
}

/** overlay2's view of an image: its own layer on top, those below it as lower directories. */
function graphDriverJson(i: Image): Json {
  const [own, ...below] = i.layers;
  const data: Json = {};
  if (below.length) data.LowerDir = below.join(':');
  Object.assign(data, { MergedDir: own.replace(/\/rootfs$/, '/merged'), UpperDir: own, WorkDir: own.replace(/\/rootfs$/, '/work') });
  return { Data: data, Name: 'overlay2' };
}

export function imageInspect(i: Image, version: string): Json {
  const out: Json = {
    Id: i.id, RepoTags: i.tags, RepoDigests: [], Parent: i.parent ?? '', Comment: i.comment, Created: i.created,
  };
  // 1.45 dropped Container and ContainerConfig.
  if (!atLeast(version, '1.45')) Object.assign(out, { Container: i.details?.container ?? '', ContainerConfig: containerConfigJson(i) });
  Object.assign(out, { DockerVersion: '', Author: i.details?.author ?? '', Config: imageConfigJson(i, version), Architecture: archName(), Os: 'linux', Size: i.size });
  if (!atLeast(version, '1.44')) out.VirtualSize = i.size;
  Object.assign(out, { GraphDriver: graphDriverJson(i), RootFS: { Type: 'layers', Layers: i.diffIds }, Metadata: { LastTagTime: ZERO_TAG_TIME } });
  return out;
}

/** ctrnet does not record when a tag was set: Docker's zero time. */
const ZERO_TAG_TIME = '0001-01-01T00:00:00Z';

/**
 * Docker's JSON for images: the list entry, inspect, history, delete and prune answers, field by
 * field as Docker 20.10 answers them, in the shapes of the request's API version (the untagged
 * `<none>` names before 1.43, VirtualSize before 1.44, Container before 1.45, an image config
 * without container fields from 1.50, container counts from 1.51). ContainerConfig stays in every
 * version, where Docker dropped it in 1.45: docker-compose 1.x (docker-py) reads it on every
 * recreate and negotiates the newest version, so against Docker 25+ it fails with
 * KeyError: 'ContainerConfig'; the extra field costs newer clients nothing.
 */
import os from 'node:os';
import { configToJson, emptyConfig } from '../../base/image-config';
import { HistoryItem, Image } from '../../images/image-store';
import { atLeast } from '../version';
import { Json, ZERO_TIME } from './common';

export const archName = (): string => (os.arch() === 'x64' ? 'amd64' : os.arch());

const unix = (t: string): number => Math.floor((Date.parse(t) || 0) / 1000);
const labels = (i: Image): Json | null => (Object.keys(i.config.labels).length ? i.config.labels : null);

/** `containers`: how many containers use it (shown from 1.51; -1 before, as Docker). */
export function imageSummary(i: Image, version = '1.41', containers = -1, sharedSize = -1): Json {
  const untagged = i.tags.length === 0;
  const modern = atLeast(version, '1.43');
  const out: Json = {
    Containers: atLeast(version, '1.51') ? containers : -1,
    Created: unix(i.created),
    Id: i.id,
    Labels: labels(i),
    ParentId: i.parent,
    // Before 1.43 an untagged image lists <none> names.
    RepoDigests: i.repoDigests.length ? i.repoDigests : modern ? [] : untagged ? ['<none>@<none>'] : null,
    RepoTags: untagged ? (modern ? [] : ['<none>:<none>']) : i.tags,
    SharedSize: sharedSize,
    Size: i.size,
  };
  if (!atLeast(version, '1.44')) out.VirtualSize = i.size;
  return out;
}

/** Fields of container.Config that are no part of an image's config: left out from API 1.50 on. */
const NOT_IMAGE_CONFIG = ['Hostname', 'Domainname', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'Image'];

export function imageInspect(i: Image, p: { layerDirs?: string[]; version?: string } = {}): Json {
  const d = i.details;
  const version = p.version ?? '1.41';
  const config = configToJson(i.config);
  if (atLeast(version, '1.50')) for (const k of NOT_IMAGE_CONFIG) delete config[k];
  return {
    Id: i.id,
    RepoTags: i.tags,
    RepoDigests: i.repoDigests,
    Parent: i.parent,
    Comment: d.comment,
    Created: d.created || i.created,
    // 1.45 dropped Container (and ContainerConfig, kept: see the header).
    ...(atLeast(version, '1.45') ? {} : { Container: d.container }),
    ContainerConfig: configToJson(d.containerConfig ?? emptyConfig()),
    DockerVersion: d.dockerVersion,
    Author: d.author,
    Config: config,
    Architecture: d.architecture || archName(),
    ...(d.variant ? { Variant: d.variant } : {}),
    Os: d.os || 'linux',
    Size: i.size,
    ...(atLeast(version, '1.44') ? {} : { VirtualSize: i.size }),
    GraphDriver: { Data: { LowerDir: (p.layerDirs ?? i.layers).join(':') }, Name: 'overlay2' },
    RootFS: { Type: 'layers', Layers: d.diffIds },
    Metadata: { LastTagTime: ZERO_TIME },
  };
}

export function historyJson(items: HistoryItem[]): Json[] {
  return items.map((h) => ({ Comment: h.comment, Created: unix(h.created), CreatedBy: h.createdBy, Id: h.id, Size: h.size, Tags: h.tags.length ? h.tags : null }));
}

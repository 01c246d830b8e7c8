/** Docker's JSON for images (Engine API v1.41): the list entry, inspect, history, delete and prune answers. */
import os from 'node:os';
import { configToJson, emptyConfig } from '../../base/image-config';
import { HistoryItem, Image } from '../../images/image-store';
import { Json, ZERO_TIME } from './common';

export const archName = (): string => (os.arch() === 'x64' ? 'amd64' : os.arch());

const unix = (t: string): number => Math.floor((Date.parse(t) || 0) / 1000);
const labels = (i: Image): Json | null => (Object.keys(i.config.labels).length ? i.config.labels : null);

export function imageSummary(i: Image): Json {
  const untagged = i.tags.length === 0;
  return {
    Containers: -1,
    Created: unix(i.created),
    Id: i.id,
    Labels: labels(i),
    ParentId: i.parent,
    RepoDigests: i.repoDigests.length ? i.repoDigests : untagged ? ['<none>@<none>'] : null,
    RepoTags: untagged ? ['<none>:<none>'] : i.tags,
    SharedSize: -1,
    Size: i.size,
    VirtualSize: i.size,
  };
}

export function imageInspect(i: Image, p: { layerDirs?: string[] } = {}): Json {
  const d = i.details;
  return {
    Id: i.id,
    RepoTags: i.tags,
    RepoDigests: i.repoDigests,
    Parent: i.parent,
    Comment: d.comment,
    Created: d.created || i.created,
    Container: d.container,
    ContainerConfig: configToJson(d.containerConfig ?? emptyConfig()),
    DockerVersion: d.dockerVersion,
    Author: d.author,
    Config: configToJson(i.config),
    Architecture: d.architecture || archName(),
    ...(d.variant ? { Variant: d.variant } : {}),
    Os: d.os || 'linux',
    Size: i.size,
    VirtualSize: i.size,
    GraphDriver: { Data: { LowerDir: (p.layerDirs ?? i.layers).join(':') }, Name: 'overlay' },
    RootFS: { Type: 'layers', Layers: d.diffIds },
    Metadata: { LastTagTime: ZERO_TIME },
  };
}

export function historyJson(items: HistoryItem[]): Json[] {
  return items.map((h) => ({ Comment: h.comment, Created: unix(h.created), CreatedBy: h.createdBy, Id: h.id, Size: h.size, Tags: h.tags.length ? h.tags : null }));
}

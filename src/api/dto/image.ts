/** Docker's JSON for images (Engine API v1.41): the list entry and inspect. */
import os from 'node:os';
import { Image } from '../../images/image-store';
import { Json } from './common';

export const archName = (): string => (os.arch() === 'x64' ? 'amd64' : os.arch());

export function imageSummary(i: Image, containers: number): Json {
  return {
    Id: i.id, ParentId: '', RepoTags: i.tags.length ? i.tags : ['<none>:<none>'], RepoDigests: [], Created: Math.floor(Date.parse(i.created) / 1000),
    Size: i.size, SharedSize: -1, VirtualSize: i.size, Labels: {}, Containers: containers,
  };
}

const exposed = (i: Image): Json | null => (i.exposedPorts?.length ? Object.fromEntries(i.exposedPorts.map((p) => [p, {}])) : null);

export function imageInspect(i: Image): Json {
  return { Id: i.id, RepoTags: i.tags, RepoDigests: [], Parent: '', Comment: 'imported', Created: i.created, Os: 'linux', Architecture: archName(), Size: i.size, VirtualSize: i.size, Config: { Cmd: null, Env: null, ExposedPorts: exposed(i) },
    // docker-compose 1.29 reads ContainerConfig when it recreates a container (issue 17 owns the image config)
    ContainerConfig: { Cmd: null, Env: null, ExposedPorts: exposed(i) }, RootFS: { Type: 'layers', Layers: [] } };
}

/**
 * `docker commit`: a container's writable layer (its overlayfs upper directory, whiteouts and
 * opaque directories turned into the layer format) becomes a new layer on top of its image's, with
 * the config given, the container and its config recorded as Docker records them, one more
 * history entry, and the image as its parent.
 */
import { EngineError } from '../base/errors';
import { detailsToJson } from '../base/image-config';
import { familiarTag, parseImageRef } from '../base/image-ref';
import { StoreCore } from './_store-core';
import { CommitRequest, Image } from './image-store';
import { TAR_MEDIA_TYPE, unpackKeeping } from './image-import';
import { archiveDir } from './tar/dir-archive';

export async function commitImage(core: StoreCore, req: CommitRequest): Promise<Image> {
  const parent = core.get(req.parentId);
  if (parent.details.diffIds.length === 0) throw new EngineError('IMAGE_UNSUPPORTED', `image ${parent.id.slice(7, 19)} was made by an older ctrnet and has no layers to build on`, { hint: 'import it again' });
  const tag = req.tag ? familiarTag(parseImageRef(req.tag)) : undefined;
  const release = core.pin(parent.details.diffIds);
  try {
    const layer = await unpackKeeping(core, archiveDir(req.upperDir, { overlayUpper: true }));
    try {
      const created = new Date().toISOString();
      const d = parent.details;
      const cmd = req.containerConfig ? [...(req.containerConfig.entrypoint ?? []), ...(req.containerConfig.cmd ?? [])].join(' ') : '';
      const json = detailsToJson(
        {
          ...d,
          created,
          author: req.author ?? '',
          comment: req.comment ?? '',
          container: req.containerId,
          containerConfig: req.containerConfig,
          config: req.config,
          dockerVersion: '',
          history: [...d.history, { created, createdBy: cmd, comment: req.comment ?? '', author: req.author ?? '', emptyLayer: false }],
          diffIds: [...d.diffIds, layer.diffId],
        },
        { parent: parent.id, containerHostname: req.containerHostname },
      );
      return await core.addImage({
        configBytes: Buffer.from(JSON.stringify(json)),
        layers: [{ diffId: layer.diffId, size: layer.size, tarSize: layer.blobSize, blob: { digest: layer.diffId, diffId: layer.diffId, mediaType: TAR_MEDIA_TYPE, size: layer.blobSize } }],
        tags: tag ? [tag] : [],
        digests: [],
        parent: parent.id,
      });
    } finally {
      layer.release();
    }
  } finally {
    release();
  }
}

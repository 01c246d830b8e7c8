/**
 * The image repository on SQLite (part of state/sqlite-store.ts, kept apart for its size): image
 * records and tags, the unpacked layers they share, the blobs kept for those layers, and the
 * manifests images were pulled or pushed by. The bytes (configs, manifests, layers) are files of
 * the image store; these rows say which exist and who uses them.
 */
import Database from 'better-sqlite3';
import { ImageRecord, LayerBlobRecord, LayerRecord, RepoDigestRecord } from '../base/model';
import { ImageRepo } from './repos';

interface ImageRow {
  id: string;
  created: string;
  size: number;
  comment: string;
  parent: string;
}

interface BlobRow {
  digest: string;
  diff_id: string;
  media_type: string;
  size: number;
}

interface DigestRow {
  repo: string;
  digest: string;
  image_id: string;
  media_type: string;
}

const toImage = (r: ImageRow): ImageRecord => ({ id: r.id, created: r.created, size: r.size, comment: r.comment, parent: r.parent || undefined });
interface LayerRow {
  diff_id: string;
  size: number;
  tar_size: number;
  created: string;
}

const toLayer = (r: LayerRow): LayerRecord => ({ diffId: r.diff_id, size: r.size, tarSize: r.tar_size, created: r.created });
const toBlob = (r: BlobRow): LayerBlobRecord => ({ digest: r.digest, diffId: r.diff_id, mediaType: r.media_type, size: r.size });
const toDigest = (r: DigestRow): RepoDigestRecord => ({ repo: r.repo, digest: r.digest, imageId: r.image_id, mediaType: r.media_type });

export function sqliteImageRepo(sql: (text: string) => Database.Statement, tx: <T>(fn: () => T) => T): ImageRepo {
  const putImage = (i: ImageRecord) =>
    void sql('INSERT OR REPLACE INTO images (id, created, size, comment, parent) VALUES (?, ?, ?, ?, ?)').run(i.id, i.created, i.size, i.comment, i.parent ?? '');
  const putBlob = (b: LayerBlobRecord) => void sql('INSERT OR REPLACE INTO layer_blobs (digest, diff_id, media_type, size) VALUES (?, ?, ?, ?)').run(b.digest, b.diffId, b.mediaType, b.size);
  const putDigest = (d: RepoDigestRecord) =>
    void sql('INSERT OR REPLACE INTO image_digests (repo, digest, image_id, media_type) VALUES (?, ?, ?, ?)').run(d.repo, d.digest, d.imageId, d.mediaType);
  return {
    list: () => (sql('SELECT * FROM images ORDER BY created DESC').all() as ImageRow[]).map(toImage),
    get: (id) => {
      const r = sql('SELECT * FROM images WHERE id = ?').get(id) as ImageRow | undefined;
      return r && toImage(r);
    },
    put: putImage,
    delete: (id) =>
      tx(() => {
        sql('DELETE FROM tags WHERE image_id = ?').run(id);
        sql('DELETE FROM image_digests WHERE image_id = ?').run(id);
        sql('DELETE FROM images WHERE id = ?').run(id);
      }),
    tags: (imageId) =>
      (imageId ? sql('SELECT * FROM tags WHERE image_id = ? ORDER BY tag').all(imageId) : sql('SELECT * FROM tags ORDER BY tag').all()).map((r) => {
        const t = r as { tag: string; image_id: string };
        return { tag: t.tag, imageId: t.image_id };
      }),
    tag: (tag, imageId) => void sql('INSERT OR REPLACE INTO tags VALUES (?, ?)').run(tag, imageId),
    untag: (tag) => void sql('DELETE FROM tags WHERE tag = ?').run(tag),
    byTag: (tag) => (sql('SELECT image_id FROM tags WHERE tag = ?').get(tag) as { image_id: string } | undefined)?.image_id,
    layers: () => (sql('SELECT * FROM layers').all() as LayerRow[]).map(toLayer),
    layer: (diffId) => {
      const r = sql('SELECT * FROM layers WHERE diff_id = ?').get(diffId) as LayerRow | undefined;
      return r && toLayer(r);
    },
    blobs: (diffId) => ((diffId ? sql('SELECT * FROM layer_blobs WHERE diff_id = ?').all(diffId) : sql('SELECT * FROM layer_blobs').all()) as BlobRow[]).map(toBlob),
    digests: (imageId) => ((imageId ? sql('SELECT * FROM image_digests WHERE image_id = ? ORDER BY repo').all(imageId) : sql('SELECT * FROM image_digests').all()) as DigestRow[]).map(toDigest),
    record: (r) =>
      tx(() => {
        for (const l of r.layers) sql('INSERT OR IGNORE INTO layers (diff_id, size, tar_size, created) VALUES (?, ?, ?, ?)').run(l.diffId, l.size, l.tarSize, l.created);
        for (const b of r.blobs) putBlob(b);
        putImage(r.image);
        for (const t of r.tags) sql('INSERT OR REPLACE INTO tags VALUES (?, ?)').run(t, r.image.id);
        for (const d of r.digests) putDigest(d);
      }),
    putBlob,
    putDigest,
    deleteDigest: (repo, digest) => void sql('DELETE FROM image_digests WHERE repo = ? AND digest = ?').run(repo, digest),
    clearRefs: (imageId) =>
      tx(() => {
        sql('DELETE FROM tags WHERE image_id = ?').run(imageId);
        sql('DELETE FROM image_digests WHERE image_id = ?').run(imageId);
      }),
    deleteLayer: (diffId) =>
      tx(() => {
        sql('DELETE FROM layer_blobs WHERE diff_id = ?').run(diffId);
        sql('DELETE FROM layers WHERE diff_id = ?').run(diffId);
      }),
  };
}

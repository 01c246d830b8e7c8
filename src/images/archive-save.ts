/**
 * `docker save` as Docker 20.10 writes it, so that any Docker loads it (and what it writes is what
 * it would write): for each layer a directory named by its v1 id (`VERSION` "1.0", `json` the v1
 * layer config, `layer.tar` the uncompressed layer, a symlink when a layer repeats), the image's
 * config as `<id hex>.json`, `manifest.json` and `repositories`, in a Go archive/tar stream with
 * entries in name order. The v1 ids are computed as Docker computes them (v1.CreateID: the v1
 * config without its id, plus layer_id = the chain id and parent, keys sorted), with Go's JSON.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { StoreCore } from './_store-core';
import { decompressed } from './compression';
import { Image } from './image-store';
import { TarItem, tarStream } from './tar/tar-writer';

type J = Record<string, unknown>;

/** Go's encoding/json escapes <, > and & (and U+2028/9) in strings; JSON.stringify does not. */
export function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const sha = (s: string): string => `sha256:${createHash('sha256').update(s).digest('hex')}`;

/** container.Config's fields in struct order; true: omitempty */
const CONFIG_FIELDS: [string, unknown, boolean][] = [
  ['Hostname', '', false], ['Domainname', '', false], ['User', '', false], ['AttachStdin', false, false], ['AttachStdout', false, false], ['AttachStderr', false, false],
  ['ExposedPorts', null, true], ['Tty', false, false], ['OpenStdin', false, false], ['StdinOnce', false, false], ['Env', null, false], ['Cmd', null, false],
  ['Healthcheck', null, true], ['ArgsEscaped', false, true], ['Image', '', false], ['Volumes', null, false], ['WorkingDir', '', false], ['Entrypoint', null, false],
  ['NetworkDisabled', false, true], ['MacAddress', '', true], ['OnBuild', null, false], ['Labels', null, false], ['StopSignal', '', true], ['StopTimeout', null, true], ['Shell', null, true],
];
const HEALTH_FIELDS = ['Test', 'Interval', 'Timeout', 'StartPeriod', 'Retries'];

function empty(v: unknown): boolean {
  return v === undefined || v === null || v === false || v === '' || v === 0 || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && !Array.isArray(v) && Object.keys(v as J).length === 0);
}

/** A container.Config object as Go re-marshals it (struct order, omitempty, Go's zero values). */
export function goConfig(raw: unknown): J {
  const c = (raw && typeof raw === 'object' ? raw : {}) as J;
  const out: J = {};
  for (const [k, zero, omit] of CONFIG_FIELDS) {
    let v = c[k] ?? zero;
    if (omit && empty(v)) continue;
    if (k === 'Healthcheck' && v && typeof v === 'object') {
      const h = v as J;
      v = Object.fromEntries(HEALTH_FIELDS.filter((f) => f === 'Test' || !empty(h[f])).map((f) => [f, h[f] ?? null]));
    }
    out[k] = v;
  }
  return out;
}

/** The V1Image fields of an image's JSON, in V1Image's struct order. */
function v1Image(img: J, id: string, parent: string): J {
  const out: J = {};
  if (id) out.id = id;
  if (parent) out.parent = parent;
  if (img.comment) out.comment = img.comment;
  out.created = img.created ?? '0001-01-01T00:00:00Z';
  if (img.container) out.container = img.container;
  out.container_config = goConfig(img.container_config);
  if (img.docker_version) out.docker_version = img.docker_version;
  if (img.author) out.author = img.author;
  if (img.config) out.config = goConfig(img.config);
  if (img.architecture) out.architecture = img.architecture;
  if (img.variant) out.variant = img.variant;
  if (img.os) out.os = img.os;
  return out;
}

/** Docker's v1.CreateID: the v1 config (no id) with layer_id and parent, keys sorted. */
export function v1Id(v1: J, chainId: string, parent: string): string {
  const m: J = { ...v1 };
  delete m.id;
  delete m.parent;
  m.layer_id = chainId;
  if (parent) m.parent = parent;
  const sorted = Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k]]));
  return sha(goJson(sorted));
}

/** chain ids of a list of diff ids (OCI: chainID(n) = sha256(chainID(n-1) + " " + diffID(n))) */
export function chainIds(diffIds: string[]): string[] {
  const out: string[] = [];
  for (const d of diffIds) out.push(out.length ? sha(`${out[out.length - 1]} ${d}`) : d);
  return out;
}

interface SavedImage {
  image: Image;
  raw: J;
  configBytes: Buffer;
  tags: string[];
  v1ids: string[];
  created: number;
}

/** `what`: each image with the tags to save it under (Docker's: the tags named; none when saved by id). */
export function saveArchive(core: StoreCore, what: { image: Image; tags: string[] }[]): Readable {
  async function* items(): AsyncGenerator<TarItem> {
    const byId = new Map<string, { image: Image; tags: string[] }>();
    for (const { image, tags } of what) {
      const e = byId.get(image.id) ?? byId.set(image.id, { image, tags: [] }).get(image.id)!;
      for (const t of tags) if (!e.tags.includes(t)) e.tags.push(t);
    }
    const images: SavedImage[] = [];
    for (const { image, tags } of byId.values()) {
      const configBytes = await core.blobs.read(image.id);
      const raw = JSON.parse(configBytes.toString('utf8')) as J;
      const diffIds = image.details.diffIds;
      const chains = chainIds(diffIds);
      const v1ids: string[] = [];
      let parent = '';
      for (let i = 0; i < diffIds.length; i++) {
        const top = i === diffIds.length - 1;
        const v1 = top ? v1Image(raw, '', '') : { created: '1970-01-01T00:00:00Z', container_config: goConfig({}) };
        const id = v1Id(v1, chains[i], parent);
        v1ids.push(id.slice(7));
        parent = id;
      }
      const created = Date.parse(String(raw.created ?? '')) || 0;
      images.push({ image, raw, configBytes, tags, v1ids, created: Math.floor(created / 1000) });
    }
    // Everything the archive holds, by name: Go's filepath.Walk visits names in order.
    type Member = { name: string; item: () => Promise<TarItem> };
    const members: Member[] = [];
    const seenLayer = new Set<string>();
    const diffPath = new Map<string, string>();
    const file = (name: string, data: Buffer, mtime: number): Member => ({ name, item: async () => ({ entry: { name, type: 'file', mode: 0o644, size: data.length, mtime, uname: 'root', gname: 'root' }, data }) });
    for (const s of images) {
      const diffIds = s.image.details.diffIds;
      for (let i = 0; i < diffIds.length; i++) {
        const v1 = s.v1ids[i];
        if (seenLayer.has(v1)) continue;
        seenLayer.add(v1);
        const top = i === diffIds.length - 1;
        const json: J = top ? v1Image(s.raw, v1, i ? s.v1ids[i - 1] : '') : { id: v1, ...(i ? { parent: s.v1ids[i - 1] } : {}), created: '1970-01-01T00:00:00Z', container_config: goConfig({}) };
        if (s.raw.os) json.os = s.raw.os;
        const mtime = s.created;
        members.push({ name: `${v1}/`, item: async () => ({ entry: { name: `${v1}/`, type: 'dir', mode: 0o755, mtime, uname: 'root', gname: 'root' } }) });
        members.push(file(`${v1}/VERSION`, Buffer.from('1.0'), mtime));
        members.push(file(`${v1}/json`, Buffer.from(goJson(json)), mtime));
        const diffId = diffIds[i];
        const first = diffPath.get(diffId);
        if (first) {
          members.push({ name: `${v1}/layer.tar`, item: async () => ({ entry: { name: `${v1}/layer.tar`, type: 'symlink', mode: 0o777, linkname: `../${first}/layer.tar`, mtime, uname: 'root', gname: 'root' } }) });
          continue;
        }
        diffPath.set(diffId, v1);
        members.push({
          name: `${v1}/layer.tar`,
          item: async () => {
            const blob = core.repo.blobs(diffId)[0];
            const rec = core.repo.layer(diffId);
            if (!blob || !rec) throw new Error(`layer ${diffId} has no blob to save (an image of an older ctrnet)`);
            let size = rec.tarSize;
            if (!size) for await (const c of decompressed(core.blobs.open(blob.digest))) size += (c as Buffer).length;
            return { entry: { name: `${v1}/layer.tar`, type: 'file', mode: 0o644, size, mtime, uname: 'root', gname: 'root' }, data: () => decompressed(core.blobs.open(blob.digest)) };
          },
        });
      }
      members.push(file(`${s.image.id.slice(7)}.json`, s.configBytes, s.created));
    }
    const manifest = images.map((s) => {
      const m: J = { Config: `${s.image.id.slice(7)}.json`, RepoTags: s.tags.length ? s.tags : null, Layers: s.v1ids.map((v) => `${v}/layer.tar`) };
      if (s.image.parent && images.some((o) => o.image.id === s.image.parent)) m.Parent = s.image.parent;
      return m;
    });
    members.push(file('manifest.json', Buffer.from(`${goJson(manifest)}\n`), 0));
    const repos: Record<string, Record<string, string>> = {};
    for (const s of images) {
      for (const t of s.tags) {
        const at = t.lastIndexOf(':');
        (repos[t.slice(0, at)] ??= {})[t.slice(at + 1)] = s.v1ids[s.v1ids.length - 1];
      }
    }
    if (Object.keys(repos).length) {
      const sorted = Object.fromEntries(Object.keys(repos).sort().map((k) => [k, Object.fromEntries(Object.keys(repos[k]).sort().map((t) => [t, repos[k][t]]))]));
      members.push(file('repositories', Buffer.from(`${goJson(sorted)}\n`), 0));
    }
    members.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const release = core.pin(images.flatMap((s) => s.image.details.diffIds));
    try {
      for (const m of members) yield await m.item();
    } finally {
      release();
    }
  }
  return tarStream(items());
}

/**
 * `GET /images/json`: which images a list shows, as Docker 20.10 filters them: every key must hold.
 *   reference     a name[:tag] pattern (`*` within a path component, `?`, as Docker's
 *                 reference.FamiliarMatch): matches "name:tag", or "name" alone when it has no tag
 *   dangling      true: images without a tag; false: tagged ones
 *   label         every `key` / `key=value` given (of the image config's labels)
 *   before, since created before / after the image a reference names
 * With a reference filter an image lists only its matching tags (as Docker's RepoTags do).
 * The legacy `filter=PATTERN` query is a reference filter.
 */
import { EngineError } from '../../base/errors';
import { Image } from '../../images/image-store';
import { Filters } from './filters';

export const IMAGE_FILTERS = ['before', 'dangling', 'label', 'reference', 'since'] as const;


/** Docker's path.Match pattern as a regular expression: `*` and `?` never cross "/". */
function glob(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}

function referenceMatch(pattern: string, tag: string): boolean {
  const re = glob(pattern);
  const name = tag.slice(0, tag.lastIndexOf(':'));
  return re.test(tag) || re.test(name);
}

export function listImages<T extends Image>(images: T[], f: Filters, find: (ref: string) => Image | undefined): T[] {
  const dangling = f.bool('dangling');
  const at = (key: 'before' | 'since'): number | undefined => {
    const ref = f.values(key)[0];
    if (ref === undefined) return undefined;
    const img = find(ref);
    if (!img) throw new EngineError('IMAGE_NOT_FOUND', `No such image: ${ref}`);
    return Date.parse(img.created);
  };
  const before = at('before');
  const since = at('since');
  const refs = f.values('reference');
  const matching = (i: T): T => (refs.length ? { ...i, tags: i.tags.filter((t) => refs.some((p) => referenceMatch(p, t))) } : i);
  return images.filter((i) => {
    if (dangling !== undefined && dangling !== (i.tags.length === 0)) return false;
    if (refs.length && !refs.some((p) => i.tags.some((t) => referenceMatch(p, t)))) return false;
    if (!f.labels('label', i.config.labels)) return false;
    const created = Date.parse(i.created);
    if (before !== undefined && !(created < before)) return false;
    if (since !== undefined && !(created > since)) return false;
    return true;
  }).map(matching);
}

/**
 * Image references as Docker spells them: `[DOMAIN/]PATH[:TAG][@DIGEST]`, parsed with Docker's
 * grammar (distribution/reference) and normalised the way the docker CLI and daemon do: no domain
 * is Docker Hub (`docker.io`, reached at `registry-1.docker.io`), and a one-component Hub name is an
 * official image (`library/NAME`). Local tags are kept in the familiar form the CLI prints
 * (`busybox:latest`, `localhost:5000/app:1`).
 */
import { EngineError } from './errors';

export const HUB_DOMAIN = 'docker.io';
/** Where the Hub's registry API answers. */
export const HUB_REGISTRY = 'registry-1.docker.io';

export interface ImageRef {
  /** registry host[:port]: docker.io for the Hub */
  domain: string;
  /** repository path in that registry: library/busybox, team/app */
  path: string;
  tag?: string;
  /** sha256:… */
  digest?: string;
}

const ALNUM = '[a-z0-9]+';
const SEPARATOR = '(?:[._]|__|[-]*)';
const PATH_COMPONENT = `${ALNUM}(?:${SEPARATOR}${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?$`);
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const FULL_ID = /^(sha256:)?[0-9a-f]{64}$/;
const MAX_NAME = 255;

function invalid(ref: string, why = ''): EngineError {
  return new EngineError('INVALID_PARAMETER', `invalid reference format${why ? `: ${why}` : ''}`, {
    hint: `"${ref}" is not NAME[:TAG] or NAME@sha256:DIGEST (lower case, e.g. busybox:1.36 or localhost:5000/team/app)`,
  });
}

/** Is the first path component a registry host (has a dot or a port, or is localhost)? As Docker 20.10 decides. */
function isDomain(first: string): boolean {
  return first.includes('.') || first.includes(':') || first === 'localhost';
}

/** Parses and normalises a reference; INVALID_PARAMETER with Docker's words when it is malformed. */
export function parseImageRef(ref: string): ImageRef {
  let rest = ref;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(ref, 'the digest is not sha256:<64 hex>');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(ref);
  }
  if (!rest) throw invalid(ref);
  const slash = rest.indexOf('/');
  let domain = HUB_DOMAIN;
  let path = rest;
  if (slash > 0 && isDomain(rest.slice(0, slash))) {
    domain = rest.slice(0, slash);
    path = rest.slice(slash + 1);
    if (!DOMAIN.test(domain)) throw invalid(ref);
  }
  if (path.toLowerCase() !== path) throw invalid(ref, 'repository name must be lowercase');
  if (!PATH.test(path)) throw invalid(ref);
  if (FULL_ID.test(path)) throw new EngineError('INVALID_PARAMETER', `invalid repository name (${path}), cannot specify 64-byte hexadecimal strings`);
  if (domain === 'index.docker.io') domain = HUB_DOMAIN;
  if (domain === HUB_DOMAIN && !path.includes('/')) path = `library/${path}`;
  if (`${domain}/${path}`.length > MAX_NAME) throw invalid(ref, `repository name must not be more than ${MAX_NAME} characters`);
  return { domain, path, tag, digest };
}

/** The repository as the CLI prints it: `busybox`, `team/app`, `localhost:5000/app`. */
export function familiarName(r: Pick<ImageRef, 'domain' | 'path'>): string {
  if (r.domain !== HUB_DOMAIN) return `${r.domain}/${r.path}`;
  return r.path.startsWith('library/') && r.path.split('/').length === 2 ? r.path.slice('library/'.length) : r.path;
}

/** `name:tag` (latest when none) in the familiar form: the key of a local tag. */
export function familiarTag(r: ImageRef): string {
  return `${familiarName(r)}:${r.tag ?? 'latest'}`;
}

/** `name@digest` in the familiar form (RepoDigests). */
export function familiarDigest(r: Pick<ImageRef, 'domain' | 'path'>, digest: string): string {
  return `${familiarName(r)}@${digest}`;
}

/** The full name: docker.io/library/busybox (events, errors that name the remote). */
export function fullName(r: Pick<ImageRef, 'domain' | 'path'>): string {
  return `${r.domain}/${r.path}`;
}

/** An image id or id prefix rather than a name: 12 to 64 hex digits, or sha256:… */
export function looksLikeId(ref: string): boolean {
  return /^sha256:[0-9a-f]{1,64}$/.test(ref) || /^[0-9a-f]{12,64}$/.test(ref);
}

/** Splits `[DOMAIN/]PATH[:TAG]` into repository and tag as the API's `repo`+`tag` parameters carry them. */
export function joinRepoTag(repo: string, tag: string | null | undefined): string {
  if (!tag) return repo;
  return tag.startsWith('sha256:') ? `${repo}@${tag}` : `${repo}:${tag}`;
}

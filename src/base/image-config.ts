/**
 * An image's configuration, typed: the defaults a container takes from its image (Entrypoint,
 * Cmd, Env, WorkingDir, User, ExposedPorts, Volumes, StopSignal, Healthcheck, Labels), and the
 * image's own description (platform, history, layers). Read from and written to Docker's image
 * JSON (`application/vnd.docker.container.image.v1+json`, the same keys as OCI's image config)
 * here, so every floor reads the same fields: core/ (create), the API (inspect, history), and the
 * image store (pull, load, import, commit).
 */
import { HealthConfig } from './health';

export type { HealthConfig };

/** The part of an image's JSON a container inherits (Docker's `config`, a container.Config). */
export interface ImageConfig {
  /** name or uid, optionally :group or :gid; empty: root */
  user: string;
  /** "80/tcp", "53/udp" */
  exposedPorts: string[];
  env: string[];
  /** null: not set (a container may inherit one); [] set to nothing */
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir: string;
  /** mount points the image declares */
  volumes: string[];
  labels: Record<string, string>;
  /** empty: SIGTERM */
  stopSignal: string;
  stopTimeout?: number;
  healthcheck?: HealthConfig;
  onBuild: string[];
  shell: string[];
  argsEscaped: boolean;
}

export interface ImageHistoryEntry {
  created: string;
  createdBy: string;
  comment: string;
  author: string;
  /** a step that made no layer (ENV, CMD…) */
  emptyLayer: boolean;
}

/** Everything an image's JSON says, typed. */
export interface ImageDetails {
  architecture: string;
  os: string;
  variant: string;
  /** ISO time; empty when the image does not say */
  created: string;
  author: string;
  comment: string;
  dockerVersion: string;
  /** the container an image was committed from */
  container: string;
  config: ImageConfig;
  /** the config of that container (Docker's container_config), when the image has one */
  containerConfig?: ImageConfig;
  history: ImageHistoryEntry[];
  /** the layers' uncompressed digests, bottom first (rootfs.diff_ids) */
  diffIds: string[];
}

export function emptyConfig(): ImageConfig {
  return { user: '', exposedPorts: [], env: [], entrypoint: null, cmd: null, workingDir: '', volumes: [], labels: {}, stopSignal: '', onBuild: [], shell: [], argsEscaped: false };
}

type J = Record<string, unknown>;

const asObj = (v: unknown): J => (v && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {});
const asStr = (v: unknown): string => (typeof v === 'string' ? v : '');
const asNum = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const asStrings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : typeof v === 'string' ? [v] : []);
const asStringsOrNull = (v: unknown): string[] | null => (v === null || v === undefined ? null : asStrings(v));
const keys = (v: unknown): string[] => Object.keys(asObj(v));

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(asObj(v))) if (typeof x === 'string') out[k] = x;
  return out;
}

/** Docker's container.Config JSON (an image's `config`) → ImageConfig. Unknown or mistyped fields are dropped. */
export function configFromJson(v: unknown): ImageConfig {
  const c = asObj(v);
  const hc = c.Healthcheck === null || c.Healthcheck === undefined ? undefined : asObj(c.Healthcheck);
  return {
    user: asStr(c.User),
    exposedPorts: keys(c.ExposedPorts).map((p) => (p.includes('/') ? p : `${p}/tcp`)),
    env: asStrings(c.Env),
    entrypoint: asStringsOrNull(c.Entrypoint),
    cmd: asStringsOrNull(c.Cmd),
    workingDir: asStr(c.WorkingDir),
    volumes: keys(c.Volumes),
    labels: stringMap(c.Labels),
    stopSignal: asStr(c.StopSignal),
    stopTimeout: typeof c.StopTimeout === 'number' ? c.StopTimeout : undefined,
    healthcheck: hc && { test: asStrings(hc.Test), intervalNs: asNum(hc.Interval), timeoutNs: asNum(hc.Timeout), startPeriodNs: asNum(hc.StartPeriod), retries: asNum(hc.Retries) },
    onBuild: asStrings(c.OnBuild),
    shell: asStrings(c.Shell),
    argsEscaped: c.ArgsEscaped === true,
  };
}

/**
 * ImageConfig → Docker's container.Config JSON, with Docker's keys in Docker's order and its
 * omissions (what `docker inspect` shows, and what images made here carry).
 */
export function configToJson(c: ImageConfig, extra: { hostname?: string; image?: string } = {}): J {
  const out: J = { Hostname: extra.hostname ?? '', Domainname: '', User: c.user, AttachStdin: false, AttachStdout: false, AttachStderr: false };
  if (c.exposedPorts.length) out.ExposedPorts = Object.fromEntries(c.exposedPorts.map((p) => [p, {}]));
  Object.assign(out, { Tty: false, OpenStdin: false, StdinOnce: false, Env: c.env.length ? c.env : null, Cmd: c.cmd });
  if (c.healthcheck) {
    const h: J = { Test: c.healthcheck.test };
    if (c.healthcheck.intervalNs) h.Interval = c.healthcheck.intervalNs;
    if (c.healthcheck.timeoutNs) h.Timeout = c.healthcheck.timeoutNs;
    if (c.healthcheck.startPeriodNs) h.StartPeriod = c.healthcheck.startPeriodNs;
    if (c.healthcheck.retries) h.Retries = c.healthcheck.retries;
    out.Healthcheck = h;
  }
  if (c.argsEscaped) out.ArgsEscaped = true;
  Object.assign(out, {
    Image: extra.image ?? '',
    Volumes: c.volumes.length ? Object.fromEntries(c.volumes.map((v) => [v, {}])) : null,
    WorkingDir: c.workingDir,
    Entrypoint: c.entrypoint,
    OnBuild: c.onBuild.length ? c.onBuild : null,
    Labels: Object.keys(c.labels).length ? c.labels : null,
  });
  if (c.stopSignal) out.StopSignal = c.stopSignal;
  if (c.stopTimeout !== undefined) out.StopTimeout = c.stopTimeout;
  if (c.shell.length) out.Shell = c.shell;
  return out;
}

/** An image's whole JSON (Docker's or OCI's) → ImageDetails. */
export function detailsFromJson(v: unknown): ImageDetails {
  const j = asObj(v);
  const rootfs = asObj(j.rootfs);
  return {
    architecture: asStr(j.architecture),
    os: asStr(j.os),
    variant: asStr(j.variant),
    created: asStr(j.created),
    author: asStr(j.author),
    comment: asStr(j.comment),
    dockerVersion: asStr(j.docker_version),
    container: asStr(j.container),
    config: configFromJson(j.config),
    containerConfig: j.container_config ? configFromJson(j.container_config) : undefined,
    history: (Array.isArray(j.history) ? j.history : []).map((h) => {
      const e = asObj(h);
      return { created: asStr(e.created), createdBy: asStr(e.created_by), comment: asStr(e.comment), author: asStr(e.author), emptyLayer: e.empty_layer === true };
    }),
    diffIds: asStrings(rootfs.diff_ids),
  };
}

/**
 * ImageDetails → an image's JSON as Docker 20.10 writes it: top-level keys sorted (its image
 * JSON goes through a map), the nested objects in struct order. The image id is the sha256 of
 * these bytes, so the order is part of the id.
 */
export function detailsToJson(d: ImageDetails, extra: { parent?: string; containerHostname?: string } = {}): J {
  const out: J = { architecture: d.architecture, config: configToJson(d.config), created: d.created, os: d.os, rootfs: { type: 'layers', diff_ids: d.diffIds } };
  if (d.author) out.author = d.author;
  if (d.comment) out.comment = d.comment;
  if (d.container) out.container = d.container;
  if (d.containerConfig) out.container_config = configToJson(d.containerConfig, { hostname: extra.containerHostname });
  if (d.dockerVersion) out.docker_version = d.dockerVersion;
  if (d.variant) out.variant = d.variant;
  if (extra.parent) out.parent = extra.parent;
  out.history = d.history.map((h) => {
    const e: J = { created: h.created };
    if (h.author) e.author = h.author;
    if (h.createdBy) e.created_by = h.createdBy;
    if (h.comment) e.comment = h.comment;
    if (h.emptyLayer) e.empty_layer = true;
    return e;
  });
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k]]));
}

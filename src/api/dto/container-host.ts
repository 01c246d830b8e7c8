/**
 * Docker's JSON for what a container has beside its network: mounts (HostConfig.Binds, Mounts,
 * Tmpfs, VolumesFrom, ReadonlyRootfs; Config.Volumes), the restart policy, the health check
 * (Config.Healthcheck; State.Health) and limits (Memory, NanoCpus, PidsLimit, Ulimits, ShmSize…):
 * read from a create (or update) request into the typed spec, and written back as inspect and
 * the list show them.
 */
import { ContainerSpec, mountsOf, resourcesOf, restartOf } from '../../base/container-spec';
import { EngineError } from '../../base/errors';
import { checkHealthConfig, HealthConfig, HealthState } from '../../base/health';
import { Container } from '../../base/model';
import { MountPoint, mountFromRequest, parseBind, tmpfsMount } from '../../base/mount-spec';
import { DEFAULT_SHM_SIZE, NO_RESOURCES, ResourceUpdate, Resources, Ulimit } from '../../base/resources';
import { RestartPolicy, restartPolicy } from '../../base/restart-policy';
import { ContainerView } from '../../core/queries';
import { Json, obj, str, stringMap, strings } from './common';

type Extras = Pick<ContainerSpec, 'mounts' | 'binds' | 'tmpfs' | 'volumesFrom' | 'volumes' | 'readonlyRootfs' | 'restartPolicy' | 'healthcheck' | 'resources'>;

function num(v: unknown, field: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new EngineError('INVALID_PARAMETER', `${field} must be a number`);
  return v;
}

const bool = (v: unknown, field: string): boolean => {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new EngineError('INVALID_PARAMETER', `${field} must be true or false`);
  return v;
};

/** HostConfig.Mounts[i] → a mount point (Docker's checks in base/mount-spec.ts). */
function mountEntry(v: unknown, i: number): MountPoint {
  const m = obj(v, `HostConfig.Mounts[${i}]`);
  const bo = m.BindOptions === undefined || m.BindOptions === null ? undefined : obj(m.BindOptions, 'BindOptions');
  const vo = m.VolumeOptions === undefined || m.VolumeOptions === null ? undefined : obj(m.VolumeOptions, 'VolumeOptions');
  const to = m.TmpfsOptions === undefined || m.TmpfsOptions === null ? undefined : obj(m.TmpfsOptions, 'TmpfsOptions');
  const dc = vo ? obj(vo.DriverConfig, 'DriverConfig') : {};
  return mountFromRequest({
    type: str(m.Type, 'Type'),
    source: str(m.Source, 'Source'),
    target: str(m.Target, 'Target'),
    readOnly: bool(m.ReadOnly, 'ReadOnly'),
    propagation: bo ? str(bo.Propagation, 'Propagation') || undefined : undefined,
    noCopy: vo ? bool(vo.NoCopy, 'NoCopy') : undefined,
    labels: vo ? stringMap(vo.Labels, 'Labels') : undefined,
    driver: str(dc.Name, 'DriverConfig.Name') || undefined,
    driverOptions: stringMap(dc.Options, 'DriverConfig.Options'),
    tmpfsSize: to && to.SizeBytes !== undefined ? num(to.SizeBytes, 'SizeBytes') : undefined,
    tmpfsMode: to && to.Mode !== undefined ? num(to.Mode, 'Mode') : undefined,
    has: { bindOptions: !!bo, volumeOptions: !!vo, tmpfsOptions: !!to },
  });
}

function ulimits(v: unknown): Ulimit[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new EngineError('INVALID_PARAMETER', 'HostConfig.Ulimits must be a list');
  return v.map((u, i) => {
    const o = obj(u, `Ulimits[${i}]`);
    return { name: str(o.Name, 'Ulimits.Name'), soft: num(o.Soft, 'Ulimits.Soft'), hard: num(o.Hard, 'Ulimits.Hard') };
  });
}

/** The limits of a HostConfig (or an update request, which has the same keys at its top). */
function resourcesFrom(hc: Json): Resources {
  return {
    memory: num(hc.Memory, 'Memory'),
    memorySwap: num(hc.MemorySwap, 'MemorySwap'),
    memoryReservation: num(hc.MemoryReservation, 'MemoryReservation'),
    nanoCpus: num(hc.NanoCpus, 'NanoCpus'),
    cpuShares: num(hc.CpuShares, 'CpuShares'),
    cpuPeriod: num(hc.CpuPeriod, 'CpuPeriod'),
    cpuQuota: num(hc.CpuQuota, 'CpuQuota'),
    cpusetCpus: str(hc.CpusetCpus, 'CpusetCpus'),
    cpusetMems: str(hc.CpusetMems, 'CpusetMems'),
    // Docker: 0 and negative mean unlimited
    pidsLimit: Math.max(0, num(hc.PidsLimit, 'PidsLimit')),
    ulimits: ulimits(hc.Ulimits),
    shmSize: num(hc.ShmSize, 'ShmSize'),
  };
}

function policyFrom(v: unknown, autoRemove: boolean): RestartPolicy | undefined {
  if (v === undefined || v === null) return undefined;
  const p = obj(v, 'RestartPolicy');
  return restartPolicy(str(p.Name, 'RestartPolicy.Name'), num(p.MaximumRetryCount, 'RestartPolicy.MaximumRetryCount'), autoRemove);
}

function healthFrom(v: unknown): HealthConfig | undefined {
  if (v === undefined || v === null) return undefined;
  const h = obj(v, 'Healthcheck');
  const cfg = { test: strings(h.Test, 'Healthcheck.Test'), intervalNs: num(h.Interval, 'Interval'), timeoutNs: num(h.Timeout, 'Timeout'), startPeriodNs: num(h.StartPeriod, 'StartPeriod'), retries: num(h.Retries, 'Retries') };
  checkHealthConfig(cfg);
  return cfg;
}

/** The create request's mounts, restart policy, health check and limits (body: the request; hc: its HostConfig). */
export function hostExtras(body: Json, hc: Json): Extras {
  const binds = strings(hc.Binds, 'HostConfig.Binds');
  const tmpfs = stringMap(hc.Tmpfs, 'HostConfig.Tmpfs');
  const volumes = Object.keys(obj(body.Volumes, 'Volumes'));
  const mounts: MountPoint[] = [
    ...binds.map(parseBind),
    ...((hc.Mounts ?? []) as unknown[]).map(mountEntry),
    ...Object.entries(tmpfs).map(([t, o]) => tmpfsMount(t, o)),
    ...volumes.map((t): MountPoint => {
      if (!t.startsWith('/')) throw new EngineError('INVALID_PARAMETER', `invalid volume specification: '${t}'`, { hint: 'an anonymous volume needs an absolute path' });
      return { type: 'volume', source: '', target: t, readOnly: false, origin: 'volumes', mode: '', propagation: '', anonymous: true, noCopy: false };
    }),
  ];
  if (hc.Mounts !== undefined && hc.Mounts !== null && !Array.isArray(hc.Mounts)) throw new EngineError('INVALID_PARAMETER', 'HostConfig.Mounts must be a list');
  const r = resourcesFrom(hc);
  const out: Extras = {};
  if (mounts.length) out.mounts = mounts;
  if (binds.length) out.binds = binds;
  if (Object.keys(tmpfs).length) out.tmpfs = tmpfs;
  const vf = strings(hc.VolumesFrom, 'HostConfig.VolumesFrom');
  if (vf.length) out.volumesFrom = vf;
  if (volumes.length) out.volumes = volumes;
  if (bool(hc.ReadonlyRootfs, 'ReadonlyRootfs')) out.readonlyRootfs = true;
  const policy = policyFrom(hc.RestartPolicy, hc.AutoRemove === true);
  if (policy && policy.name !== 'no') out.restartPolicy = policy;
  const health = healthFrom(body.Healthcheck);
  if (health) out.healthcheck = health;
  if (JSON.stringify(r) !== JSON.stringify(NO_RESOURCES)) out.resources = r;
  return out;
}

/** POST /containers/{id}/update → the limits given (absent: unchanged) and the restart policy. */
export function updateRequest(body: Json): { resources: ResourceUpdate; policy?: RestartPolicy } {
  const r = resourcesFrom(body);
  const u: ResourceUpdate = {};
  for (const k of ['memory', 'memorySwap', 'memoryReservation', 'nanoCpus', 'cpuShares', 'cpuPeriod', 'cpuQuota', 'cpusetCpus', 'cpusetMems'] as const) {
    if (r[k]) (u as Record<string, unknown>)[k] = r[k];
  }
  if (body.PidsLimit !== undefined && body.PidsLimit !== null) u.pidsLimit = r.pidsLimit;
  const p = body.RestartPolicy === undefined || body.RestartPolicy === null ? undefined : obj(body.RestartPolicy, 'RestartPolicy');
  // The docker CLI always sends a policy; an empty name means "leave it as it is".
  const policy = p && str(p.Name, 'RestartPolicy.Name') !== '' ? policyFrom(p, false) : undefined;
  return { resources: u, policy };
}

// ------------------------------------------------------------------ responses

const ns = (v: number) => v || undefined;

export function healthcheckJson(h: HealthConfig | undefined): Json | null {
  if (!h) return null;
  // Docker leaves zero durations out.
  return JSON.parse(JSON.stringify({ Test: h.test, Interval: ns(h.intervalNs), Timeout: ns(h.timeoutNs), StartPeriod: ns(h.startPeriodNs), Retries: ns(h.retries) })) as Json;
}

export function healthStateJson(h: HealthState): Json {
  return { Status: h.status, FailingStreak: h.failingStreak, Log: h.log.map((r) => ({ Start: r.start, End: r.end, ExitCode: r.exitCode, Output: r.output })) };
}

/** HostConfig.Mounts as it was given (the `--mount` entries). */
function mountsRequestJson(ms: readonly MountPoint[]): Json[] {
  return ms.filter((m) => m.origin === 'mounts').map((m) => {
    const out: Json = { Type: m.type };
    if (m.type !== 'tmpfs' && !(m.type === 'volume' && m.anonymous)) out.Source = m.source;
    out.Target = m.target;
    if (m.readOnly) out.ReadOnly = true;
    if (m.type === 'bind' && m.propagation !== 'rprivate') out.BindOptions = { Propagation: m.propagation };
    if (m.type === 'volume' && (m.noCopy || m.volumeLabels || m.volumeDriver || m.volumeOptions)) {
      out.VolumeOptions = JSON.parse(JSON.stringify({ NoCopy: m.noCopy || undefined, Labels: m.volumeLabels, DriverConfig: m.volumeDriver || m.volumeOptions ? { Name: m.volumeDriver, Options: m.volumeOptions } : undefined }));
    }
    if (m.type === 'tmpfs' && (m.tmpfsSize || m.tmpfsMode)) out.TmpfsOptions = JSON.parse(JSON.stringify({ SizeBytes: m.tmpfsSize || undefined, Mode: m.tmpfsMode || undefined }));
    return out;
  });
}

/** The HostConfig fields of mounts, restart policy and limits, as inspect shows them. */
export function hostConfigExtras(spec: ContainerSpec): Json {
  const r = resourcesOf(spec);
  const p = restartOf(spec);
  const asked = mountsRequestJson(mountsOf(spec));
  return {
    Binds: spec.binds?.length ? spec.binds : null,
    RestartPolicy: { Name: p.name, MaximumRetryCount: p.maxRetries },
    VolumeDriver: '',
    VolumesFrom: spec.volumesFrom?.length ? spec.volumesFrom : null,
    ReadonlyRootfs: spec.readonlyRootfs === true,
    ...(spec.tmpfs && Object.keys(spec.tmpfs).length ? { Tmpfs: spec.tmpfs } : {}),
    ShmSize: r.shmSize || DEFAULT_SHM_SIZE,
    CpuShares: r.cpuShares,
    Memory: r.memory,
    NanoCpus: r.nanoCpus,
    CpuPeriod: r.cpuPeriod,
    CpuQuota: r.cpuQuota,
    CpusetCpus: r.cpusetCpus,
    CpusetMems: r.cpusetMems,
    MemoryReservation: r.memoryReservation,
    MemorySwap: r.memorySwap,
    PidsLimit: r.pidsLimit > 0 ? r.pidsLimit : null,
    Ulimits: r.ulimits.map((u) => ({ Name: u.name, Hard: u.hard, Soft: u.soft })),
    ...(asked.length ? { Mounts: asked } : {}),
  };
}

/** inspect's (and the list's) Mounts: what is mounted, with host paths. */
export function mountsJson(v: ContainerView): Json[] {
  // HostConfig.Tmpfs mounts are not among Docker's Mounts (a --mount tmpfs is).
  return v.mounts.filter((m) => m.origin !== 'tmpfs').map((m) => {
    if (m.type === 'volume') return { Type: 'volume', Name: m.name, Source: m.source, Destination: m.destination, Driver: 'local', Mode: m.mode, RW: !m.readOnly, Propagation: '' };
    if (m.type === 'bind') return { Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.mode, RW: !m.readOnly, Propagation: m.propagation };
    return { Type: 'tmpfs', Source: '', Destination: m.destination, Mode: '', RW: !m.readOnly, Propagation: '' };
  });
}

/** State fields beyond running/exited: Restarting, OOMKilled, Health. */
export function stateExtras(c: Container, restarting: boolean): Json {
  return {
    ...(restarting ? { Status: 'restarting', Running: true, Restarting: true, Pid: 0 } : {}),
    OOMKilled: c.oomKilled === true,
    ...(c.health && c.spec.healthcheck && c.spec.healthcheck.test[0] !== 'NONE' ? { Health: healthStateJson(c.health) } : {}),
  };
}

/** The list's Status suffix: " (healthy)", " (health: starting)", " (unhealthy)". */
export function healthSuffix(c: Container): string {
  if (c.status !== 'running' || !c.health || !c.spec.healthcheck || c.spec.healthcheck.test[0] === 'NONE') return '';
  return c.health.status === 'starting' ? ' (health: starting)' : ` (${c.health.status})`;
}

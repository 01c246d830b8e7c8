/**
 * The run/create flags of mounts, restart policy, health check and limits, and the parts of
 * Docker's create body they make (as the docker CLI makes them): `-v` into Binds (or Config.Volumes
 * for a bare path), `--mount` into HostConfig.Mounts, sizes and durations into numbers.
 */
import { bool, FlagDef, list, Parsed, str, UsageError } from '../args';
import { parseDuration } from '../../base/health';
import { parseMountFlag } from '../../base/mount-spec';
import { parseBytes, parseCpus, parseUlimit } from '../../base/resources';
import { parseRestartFlag } from '../../base/restart-policy';
import type { HostConfigExtras } from '../wire';

export const HOST_FLAGS: Readonly<Record<string, FlagDef>> = {
  volume: { kind: 'list', short: 'v' },
  mount: { kind: 'list' },
  tmpfs: { kind: 'list' },
  'volumes-from': { kind: 'list' },
  'read-only': { kind: 'bool' },
  restart: { kind: 'string' },
  'health-cmd': { kind: 'string' },
  'health-interval': { kind: 'string' },
  'health-timeout': { kind: 'string' },
  'health-retries': { kind: 'string' },
  'health-start-period': { kind: 'string' },
  'no-healthcheck': { kind: 'bool' },
  memory: { kind: 'string', short: 'm' },
  'memory-swap': { kind: 'string' },
  'memory-reservation': { kind: 'string' },
  cpus: { kind: 'string' },
  'cpu-shares': { kind: 'string', short: 'c' },
  'cpu-period': { kind: 'string' },
  'cpu-quota': { kind: 'string' },
  'cpuset-cpus': { kind: 'string' },
  'cpuset-mems': { kind: 'string' },
  'pids-limit': { kind: 'string' },
  ulimit: { kind: 'list' },
  'shm-size': { kind: 'string' },
};

const int = (s: string | undefined, flag: string): number => {
  if (s === undefined) return 0;
  if (!/^-?\d+$/.test(s)) throw new Error(`invalid argument "${s}" for "--${flag}" flag: strconv.ParseInt: parsing "${s}": invalid syntax`);
  return Number(s);
};

/** `--memory-swap -1` is unlimited; otherwise a size. */
const swap = (s: string | undefined): number => (s === undefined ? 0 : s === '-1' ? -1 : parseBytes(s, 'memory-swap'));

/** The limits, as in an update request too. */
export function resourceBody(p: Parsed): HostConfigExtras {
  const size = (flag: string) => (str(p, flag) === undefined ? 0 : parseBytes(str(p, flag)!, flag));
  const out: HostConfigExtras = {
    Memory: size('memory'), MemorySwap: swap(str(p, 'memory-swap')), MemoryReservation: size('memory-reservation'),
    NanoCpus: str(p, 'cpus') === undefined ? 0 : parseCpus(str(p, 'cpus')!), CpuShares: int(str(p, 'cpu-shares'), 'cpu-shares'),
    CpuPeriod: int(str(p, 'cpu-period'), 'cpu-period'), CpuQuota: int(str(p, 'cpu-quota'), 'cpu-quota'),
    CpusetCpus: str(p, 'cpuset-cpus') ?? '', CpusetMems: str(p, 'cpuset-mems') ?? '',
  };
  if (str(p, 'pids-limit') !== undefined) out.PidsLimit = int(str(p, 'pids-limit'), 'pids-limit');
  return out;
}

/** The create body's parts: Config.Volumes and Config.Healthcheck, and the HostConfig fields. */
export function hostBody(p: Parsed): { volumes: Record<string, Record<string, never>>; healthcheck?: object; hostConfig: HostConfigExtras } {
  const binds: string[] = [];
  const volumes: Record<string, Record<string, never>> = {};
  // As the docker CLI: a bare path is an anonymous volume (Config.Volumes), the rest are Binds.
  for (const v of list(p, 'volume')) if (v.includes(':')) binds.push(v); else volumes[v] = {};
  const mounts = list(p, 'mount').map((m) => {
    const r = parseMountFlag(m);
    const o: Record<string, unknown> = { Type: r.type, Target: r.target };
    if (r.source) o.Source = r.source;
    if (r.readOnly) o.ReadOnly = true;
    if (r.propagation) o.BindOptions = { Propagation: r.propagation };
    if (r.has.volumeOptions) o.VolumeOptions = { NoCopy: r.noCopy, Labels: r.labels, DriverConfig: r.driver || r.driverOptions ? { Name: r.driver, Options: r.driverOptions } : undefined };
    if (r.has.tmpfsOptions) o.TmpfsOptions = { SizeBytes: r.tmpfsSize, Mode: r.tmpfsMode };
    return o;
  });
  const tmpfs = Object.fromEntries(list(p, 'tmpfs').map((t) => [t.split(':')[0], t.split(':').slice(1).join(':')]));
  const policy = str(p, 'restart') === undefined ? { name: 'no', maxRetries: 0 } : parseRestartFlag(str(p, 'restart')!);
  const ulimits = list(p, 'ulimit').map(parseUlimit).map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard }));
  const hostConfig: HostConfigExtras = {
    Binds: binds.length ? binds : null, Mounts: mounts.length ? mounts : undefined, Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    VolumesFrom: list(p, 'volumes-from').length ? list(p, 'volumes-from') : null, ReadonlyRootfs: bool(p, 'read-only'),
    RestartPolicy: { Name: policy.name, MaximumRetryCount: policy.maxRetries },
    ...resourceBody(p),
    Ulimits: ulimits.length ? ulimits : null,
    ShmSize: str(p, 'shm-size') === undefined ? 0 : parseBytes(str(p, 'shm-size')!, 'shm-size'),
  };
  let healthcheck: object | undefined;
  const healthFlags = ['health-cmd', 'health-interval', 'health-timeout', 'health-retries', 'health-start-period'].some((f) => str(p, f) !== undefined);
  if (bool(p, 'no-healthcheck') && healthFlags) throw new UsageError('--no-healthcheck conflicts with --health-* options');
  if (bool(p, 'no-healthcheck')) healthcheck = { Test: ['NONE'] };
  else if (healthFlags) {
    const d = (f: string) => (str(p, f) === undefined ? 0 : parseDuration(str(p, f)!, `--${f}`));
    healthcheck = {
      Test: str(p, 'health-cmd') !== undefined ? ['CMD-SHELL', str(p, 'health-cmd')] : [],
      Interval: d('health-interval'), Timeout: d('health-timeout'), StartPeriod: d('health-start-period'), Retries: int(str(p, 'health-retries'), 'health-retries'),
    };
  }
  return { volumes, healthcheck, hostConfig };
}

/**
 * A container's resource limits (`--memory`, `--memory-swap`, `--cpus`, `--cpu-shares`,
 * `--cpuset-cpus`, `--pids-limit`, `--ulimit`, `--shm-size`, …), typed, with Docker's checks in
 * Docker's words and the parsers of Docker's strings (sizes such as "64m", "nofile=100:200").
 * Zero means "not set" everywhere, as in Docker's HostConfig.
 */
import { EngineError } from './errors';

export interface Ulimit {
  /** as Docker names them: nofile, nproc, core, … */
  name: string;
  soft: number;
  hard: number;
}

export interface Resources {
  /** bytes; 0: unlimited */
  memory: number;
  /** memory + swap, bytes; -1: unlimited swap; 0: twice the memory (set at create, as Docker does) */
  memorySwap: number;
  memoryReservation: number;
  /** CPUs × 1e9 (`--cpus 0.5` = 5e8) */
  nanoCpus: number;
  cpuShares: number;
  cpuPeriod: number;
  cpuQuota: number;
  cpusetCpus: string;
  cpusetMems: string;
  /** 0: unlimited */
  pidsLimit: number;
  ulimits: Ulimit[];
  /** /dev/shm size in bytes; 0: 64 MiB */
  shmSize: number;
}

export const NO_RESOURCES: Resources = {
  memory: 0, memorySwap: 0, memoryReservation: 0, nanoCpus: 0, cpuShares: 0, cpuPeriod: 0, cpuQuota: 0,
  cpusetCpus: '', cpusetMems: '', pidsLimit: 0, ulimits: [], shmSize: 0,
};

export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const MIN_MEMORY = 6 * 1024 * 1024;
/** the CFS period Docker uses to turn --cpus into a quota */
export const CPU_PERIOD = 100_000;

/** The rlimits Linux has, by Docker's names. */
export const ULIMIT_NAMES = ['as', 'core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack'];

/**
 * Docker's RAMInBytes: "64m", "1.5g", "512k", "100" (bytes); binary units, case-insensitive.
 * @example parseBytes('64m') // 67108864
 */
export function parseBytes(s: string, flag = 'size'): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(s.trim());
  if (!m) throw new EngineError('INVALID_PARAMETER', `invalid ${flag}: '${s}'`, { hint: 'give a size such as 64m, 1g or 512k' });
  return Math.floor(Number(m[1]) * 1024 ** ' kmgtp'.indexOf((m[2] ?? ' ').toLowerCase()));
}

/** `--ulimit nofile=100:200` (or `nofile=100`: soft and hard alike). */
export function parseUlimit(s: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
  if (!m) throw new EngineError('INVALID_PARAMETER', `invalid ulimit argument: ${s}`, { hint: 'write NAME=SOFT[:HARD], e.g. nofile=1024:2048' });
  const u = { name: m[1], soft: Number(m[2]), hard: Number(m[3] ?? m[2]) };
  checkUlimit(u);
  return u;
}

function checkUlimit(u: Ulimit): void {
  if (!ULIMIT_NAMES.includes(u.name)) throw new EngineError('INVALID_PARAMETER', `invalid ulimit type: ${u.name}`, { hint: `known: ${ULIMIT_NAMES.join(', ')}` });
  if (u.hard !== -1 && u.soft > u.hard) throw new EngineError('INVALID_PARAMETER', `ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
}

/** `--cpus 1.5` → 1_500_000_000. */
export function parseCpus(s: string): number {
  if (!/^\d+(\.\d+)?$/.test(s.trim())) throw new EngineError('INVALID_PARAMETER', `failed to parse ${s} as a rational number`, { hint: 'e.g. --cpus 0.5' });
  return Math.round(Number(s) * 1e9);
}

/** A cpuset list ("0-2,4") → the CPU numbers, or undefined when it is not one. */
export function cpusetList(s: string): number[] | undefined {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const [a, b] = [Number(m[1]), Number(m[2] ?? m[1])];
    if (b < a) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

/** "0-1" for [0, 1]. */
const cpuRange = (n: number): string => (n === 1 ? '0' : `0-${n - 1}`);

/**
 * Docker's checks of limits at create and update, in Docker's words. `ncpu`: the CPUs of the host.
 * Negative CPU shares and unknown or inverted ulimits are refused here, where Docker accepts them
 * and fails at start ("shares: invalid argument"): the user hears of the mistake at once.
 */
export function checkResources(r: Resources, ncpu: number): void {
  const bad = (msg: string, hint?: string) => new EngineError('INVALID_PARAMETER', msg, { hint });
  if (r.memory > 0 && r.memory < MIN_MEMORY) throw bad('Minimum memory limit allowed is 6MB');
  if (r.memory < 0) throw bad('invalid memory limit: it cannot be negative');
  if (r.memorySwap > 0 && r.memory === 0) throw bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (r.memorySwap > 0 && r.memorySwap < r.memory) throw bad('Minimum memoryswap limit should be larger than memory limit, see usage', 'give --memory-swap as memory + swap, at least --memory');
  if (r.memoryReservation > 0 && r.memoryReservation < MIN_MEMORY) throw bad('Minimum memory reservation allowed is 6MB');
  if (r.memory > 0 && r.memoryReservation > 0 && r.memory < r.memoryReservation) throw bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (r.nanoCpus !== 0 && r.cpuPeriod !== 0) throw bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.nanoCpus !== 0 && r.cpuQuota !== 0) throw bad('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (r.nanoCpus < 0 || r.nanoCpus > ncpu * 1e9 || (r.nanoCpus > 0 && r.nanoCpus < 1e7)) {
    throw bad(`Range of CPUs is from 0.01 to ${ncpu.toFixed(2)}, as there are only ${ncpu} CPUs available`);
  }
  if (r.cpuPeriod !== 0 && (r.cpuPeriod < 1000 || r.cpuPeriod > 1_000_000)) throw bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (r.cpuQuota > 0 && r.cpuQuota < 1000) throw bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (r.cpuShares < 0) throw bad(`invalid CPU shares ${r.cpuShares}: they cannot be negative`, 'give a relative weight such as 512 (1024 is the default)');
  for (const [value, what] of [[r.cpusetCpus, 'cpus'], [r.cpusetMems, 'mems']] as const) {
    if (!value) continue;
    const list = cpusetList(value);
    if (!list) throw bad(`Invalid value ${value} for cpuset ${what}`, 'write CPU numbers and ranges, e.g. 0-1,3');
    if (what === 'cpus' && list.some((c) => c >= ncpu)) throw bad(`Requested CPUs are not available - requested ${value}, available: ${cpuRange(ncpu)}`);
    if (what === 'mems' && list.some((c) => c > 0)) throw bad(`Requested memory nodes are not available - requested ${value}, available: 0`);
  }
  if (r.shmSize < 0) throw bad('SHM size can not be less than 0');
  for (const u of r.ulimits) checkUlimit(u);
}

/** Settles what Docker settles at create: swap defaults to the memory's size again (memory + swap = 2 × memory). */
export function settleResources(r: Resources): Resources {
  return r.memory > 0 && r.memorySwap === 0 ? { ...r, memorySwap: r.memory * 2 } : r;
}

/** The resources a `docker update` may change live, as Docker's update request names them. */
export type ResourceUpdate = Partial<Pick<Resources, 'memory' | 'memorySwap' | 'memoryReservation' | 'nanoCpus' | 'cpuShares' | 'cpuPeriod' | 'cpuQuota' | 'cpusetCpus' | 'cpusetMems' | 'pidsLimit'>>;

/**
 * Docker's UpdateContainer rules: fields given replace the current ones; a memory limit above the
 * current memory+swap needs a new memory+swap; --cpus and a CFS quota exclude each other.
 * Returns the resources after the update (checked again with checkResources by the caller).
 */
export function applyUpdate(cur: Resources, u: ResourceUpdate, containerId: string): Resources {
  const conflict = (msg: string) => new EngineError('UPDATE_CONFLICT', `Cannot update container ${containerId}: ${msg}`);
  const next: Resources = { ...cur };
  if (u.memory !== undefined && u.memory > 0 && u.memory < MIN_MEMORY) throw new EngineError('INVALID_PARAMETER', 'Minimum memory limit allowed is 6MB');
  if (u.memory !== undefined && u.memory !== 0) {
    if (u.memory > cur.memorySwap && (u.memorySwap === undefined || u.memorySwap === 0)) {
      throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
    }
    next.memory = u.memory;
  }
  if (u.memorySwap !== undefined && u.memorySwap !== 0) next.memorySwap = u.memorySwap;
  if (u.memoryReservation) next.memoryReservation = u.memoryReservation;
  if (u.nanoCpus) {
    if (cur.cpuQuota > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    next.nanoCpus = u.nanoCpus;
  }
  if (u.cpuQuota) {
    if (cur.nanoCpus > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
    next.cpuQuota = u.cpuQuota;
  }
  if (u.cpuPeriod) {
    if (cur.nanoCpus > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
    next.cpuPeriod = u.cpuPeriod;
  }
  if (u.cpuShares) next.cpuShares = u.cpuShares;
  if (u.cpusetCpus) next.cpusetCpus = u.cpusetCpus;
  if (u.cpusetMems) next.cpusetMems = u.cpusetMems;
  if (u.pidsLimit !== undefined) next.pidsLimit = u.pidsLimit > 0 ? u.pidsLimit : 0;
  return next;
}

/**
 * Limits as runc takes them (OCI linux.resources and process.rlimits) from base/resources.ts, and
 * what the kernel says afterwards about a container's cgroup (OOM kills). runc writes the cgroup
 * files, on cgroup v1 (this machine) and v2 alike; the OOM count is read from whichever is here.
 */
import { readFile } from 'node:fs/promises';
import { CPU_PERIOD, Resources, Ulimit } from '../base/resources';

/** The cgroup path runc is given for a container (bundle.ts: linux.cgroupsPath). */
export const cgroupPath = (id: string): string => `/ctrnet/${id}`;

/** OCI LinuxResources (memory, cpu, pids): only what is set, so runc leaves the rest alone. */
export function ociResources(r: Resources): { memory?: object; cpu?: object; pids?: object } {
  const memory: Record<string, number> = {};
  if (r.memory > 0) memory.limit = r.memory;
  if (r.memorySwap !== 0 && (r.memory > 0 || r.memorySwap === -1)) memory.swap = r.memorySwap;
  if (r.memoryReservation > 0) memory.reservation = r.memoryReservation;
  const cpu: Record<string, number | string> = {};
  if (r.cpuShares > 0) cpu.shares = r.cpuShares;
  if (r.nanoCpus > 0) {
    cpu.period = CPU_PERIOD;
    cpu.quota = Math.round((r.nanoCpus * CPU_PERIOD) / 1e9);
  } else {
    if (r.cpuPeriod > 0) cpu.period = r.cpuPeriod;
    if (r.cpuQuota !== 0) cpu.quota = r.cpuQuota;
  }
  if (r.cpusetCpus) cpu.cpus = r.cpusetCpus;
  if (r.cpusetMems) cpu.mems = r.cpusetMems;
  return {
    ...(Object.keys(memory).length ? { memory } : {}),
    ...(Object.keys(cpu).length ? { cpu } : {}),
    ...(r.pidsLimit > 0 ? { pids: { limit: r.pidsLimit } } : {}),
  };
}

/** The resources of a live update: every field Docker updates live, unset ones as "no limit" where that undoes one. */
export function ociUpdate(r: Resources): object {
  const res = ociResources(r) as { pids?: object };
  // pids.max back to unlimited when the update took the limit away
  if (!res.pids) res.pids = { limit: -1 };
  return res;
}

/** OCI rlimits: RLIMIT_NOFILE, … (-1: unlimited). */
export function ociRlimits(us: readonly Ulimit[]): object[] {
  const max = 2 ** 64 - 1;
  return us.map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: u.soft < 0 ? max : u.soft, hard: u.hard < 0 ? max : u.hard }));
}

/**
 * How many processes of the container the OOM killer ended (0 when its cgroup is gone): the
 * `oom_kill` line of memory.oom_control (v1, kernel ≥ 4.13) or of memory.events (v2). Read before
 * `runc delete`, which removes the cgroup.
 */
export async function oomKills(id: string, root = '/sys/fs/cgroup'): Promise<number> {
  for (const file of [`${root}/memory${cgroupPath(id)}/memory.oom_control`, `${root}${cgroupPath(id)}/memory.events`]) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const m = text && /^oom_kill (\d+)$/m.exec(text);
    if (m) return Number(m[1]);
  }
  return 0;
}

/**
 * A container's resource counters, read from its cgroup by `runc events --stats` (one format for
 * cgroup v1 and v2), and the host's CPU time (/proc/stat) that Docker's CPU percentages divide by.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';

export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/** The counters of one sample, typed; nanoseconds and bytes as the kernel counts them. */
export interface CgroupStats {
  cpu: { totalNs: number; perCpuNs: number[]; kernelNs: number; userNs: number; periods: number; throttledPeriods: number; throttledNs: number };
  memory: { usage: number; maxUsage: number; limit: number; failcnt: number; stats: Record<string, number> };
  pids: { current: number; limit: number };
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
  /** the host's CPU time (all CPUs, nanoseconds), taken with the sample */
  systemNs: number;
  onlineCpus: number;
}

type J = Record<string, unknown>;
const o = (v: unknown): J => (v && typeof v === 'object' && !Array.isArray(v) ? (v as J) : {});
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const entries = (v: unknown): BlkioEntry[] => (Array.isArray(v) ? v.map((e) => ({ major: n(o(e).major), minor: n(o(e).minor), op: String(o(e).op ?? ''), value: n(o(e).value) })) : []);

/** The host's CPU time in nanoseconds, as Docker computes system_cpu_usage (user..steal of the "cpu" line). */
export async function systemCpuNs(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
  const ticks = (line ?? '').trim().split(/\s+/).slice(1, 8).reduce((a, x) => a + Number(x), 0);
  // USER_HZ is 100 on Linux.
  return ticks * 1e7;
}

/** One line of `runc events --stats` → CgroupStats. */
export function parseRuncStats(json: string, systemNs: number): CgroupStats {
  const d = o(o(JSON.parse(json)).data);
  const cpu = o(d.cpu);
  const usage = o(cpu.usage);
  const thr = o(cpu.throttling);
  const mem = o(d.memory);
  const mu = o(mem.usage);
  const raw = o(mem.raw);
  const blk = o(d.blkio);
  const limit = n(mu.limit);
  return {
    cpu: {
      totalNs: n(usage.total),
      perCpuNs: Array.isArray(usage.percpu) ? usage.percpu.map(n) : [],
      kernelNs: n(usage.kernel),
      userNs: n(usage.user),
      periods: n(thr.periods),
      throttledPeriods: n(thr.throttledPeriods ?? thr.throttled_periods),
      throttledNs: n(thr.throttledTime ?? thr.throttled_time),
    },
    memory: {
      usage: n(mu.usage),
      maxUsage: n(mu.max),
      // No limit: the cgroup says "unlimited" (a huge number); Docker shows the host's memory then.
      limit: limit === 0 || limit > os.totalmem() ? os.totalmem() : limit,
      failcnt: n(mu.failcnt),
      stats: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, n(v)])),
    },
    pids: { current: n(o(d.pids).current), limit: n(o(d.pids).limit) },
    blkio: { serviceBytes: entries(blk.ioServiceBytesRecursive), serviced: entries(blk.ioServicedRecursive) },
    systemNs,
    onlineCpus: os.cpus().length,
  };
}

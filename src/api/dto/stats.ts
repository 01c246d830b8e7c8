/**
 * Docker's stats JSON (`GET /containers/{id}/stats`): a sample with the one before it (precpu,
 * preread: what clients compute CPU percentages from), and the zero answer Docker gives for a
 * container that is not running.
 */
import { Container } from '../../base/model';
import { rfc3339Nano } from '../../base/time';
import { StatsSample } from '../../core/containers/introspection';
import { BlkioEntry } from '../../runtime/stats';
import { Json, ZERO_TIME } from './common';

const blkio = (list: BlkioEntry[] | null): Json => ({
  io_service_bytes_recursive: list, io_serviced_recursive: list === null ? null : [], io_queue_recursive: list === null ? null : [],
  io_service_time_recursive: list === null ? null : [], io_wait_time_recursive: list === null ? null : [], io_merged_recursive: list === null ? null : [],
  io_time_recursive: list === null ? null : [], sectors_recursive: list === null ? null : [],
});

function cpuJson(s: StatsSample | undefined): Json {
  if (!s) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  const c = s.cgroup.cpu;
  return {
    cpu_usage: { total_usage: c.totalNs, percpu_usage: c.perCpuNs, usage_in_kernelmode: c.kernelNs, usage_in_usermode: c.userNs },
    system_cpu_usage: s.cgroup.systemNs,
    online_cpus: s.cgroup.onlineCpus,
    throttling_data: { periods: c.periods, throttled_periods: c.throttledPeriods, throttled_time: c.throttledNs },
  };
}

/** A sample (and the one before, if any) as Docker's stats object; `sample` absent: not running. */
export function statsJson(c: Container, sample: StatsSample | undefined, previous: StatsSample | undefined): Json {
  if (!sample) {
    return {
      read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: blkio(null), num_procs: 0, storage_stats: {},
      cpu_stats: cpuJson(undefined), precpu_stats: cpuJson(undefined), memory_stats: {}, name: `/${c.name}`, id: c.id,
    };
  }
  const m = sample.cgroup.memory;
  const out: Json = {
    read: rfc3339Nano(sample.readNs),
    preread: previous ? rfc3339Nano(previous.readNs) : ZERO_TIME,
    pids_stats: sample.cgroup.pids.limit ? { current: sample.cgroup.pids.current, limit: sample.cgroup.pids.limit } : { current: sample.cgroup.pids.current },
    blkio_stats: { ...blkio([]), io_service_bytes_recursive: sample.cgroup.blkio.serviceBytes, io_serviced_recursive: sample.cgroup.blkio.serviced },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuJson(sample),
    precpu_stats: cpuJson(previous),
    memory_stats: { usage: m.usage, max_usage: m.maxUsage, stats: m.stats, ...(m.failcnt ? { failcnt: m.failcnt } : {}), limit: m.limit },
    name: `/${c.name}`,
    id: c.id,
  };
  if (sample.networks?.length) {
    out.networks = Object.fromEntries(
      sample.networks.map((l) => [l.name, { rx_bytes: l.rxBytes, rx_packets: l.rxPackets, rx_errors: l.rxErrors, rx_dropped: l.rxDropped, tx_bytes: l.txBytes, tx_packets: l.txPackets, tx_errors: l.txErrors, tx_dropped: l.txDropped }]),
    );
  }
  return out;
}

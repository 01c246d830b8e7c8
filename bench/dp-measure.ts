/**
 * The measurements of the data-plane section (4): one iperf3 TCP test (1 or more streams) with the
 * CPU time its two ends spent per GB moved, and ping round trips. Both run from the host's file
 * system inside the namespaces given (nsenter --net=PATH), so ctrnet's containers, Docker's and the
 * bare baselines are measured by the very same binaries the same way.
 *
 * CPU time: iperf3 reports each end's user+system time (getrusage) as a share of the wall time.
 * This kernel accounts by tick (no IRQ time accounting), so the softirq work done in a process's
 * context (for a veth: the receiving side's whole stack runs inside the sender's transmit) is
 * charged to that process; work deferred to ksoftirqd is not in either figure.
 */
import { percentile } from './common';
import { sh } from '../scripts/lab';
import { Bg, waitListening } from './net-lab';

export const SECS = Number(process.env.BENCH_IPERF_SECS ?? 5);
export const PINGS = Number(process.env.BENCH_PINGS ?? 200);
const PORT = 5201;

export interface Tput {
  gbps: number;
  retransmits: number;
  /** CPU seconds per GB received, the sending end (iperf3 client) */
  senderCpuPerGb: number;
  /** the receiving end (iperf3 server) */
  receiverCpuPerGb: number;
}

export interface IperfOpts {
  /** parallel TCP streams (-P) */
  streams?: number;
  /** the port the client connects to (a published port), default 5201 */
  port?: number;
  /** the port the server listens on, default `port` */
  listenPort?: number;
}

/**
 * One iperf3 TCP test, SECS seconds after 1 s omitted: server in `serverNs`, client (the sender)
 * in `clientNs` connecting to addr. Client on CPU 0, server on CPU 1, the same for every case.
 */
export async function iperf(serverNs: string, clientNs: string, addr: string, opts: IperfOpts = {}): Promise<Tput> {
  const port = opts.port ?? PORT;
  const listenPort = opts.listenPort ?? port;
  const srv = new Bg(['nsenter', `--net=${serverNs}`, 'iperf3', '-s', '-1', '-p', String(listenPort), '-A', '1']);
  try {
    await waitListening(serverNs, listenPort);
    const argv = ['nsenter', `--net=${clientNs}`, 'iperf3', '-c', addr, '-p', String(port), '-t', String(SECS), '-O', '1', '-J', '-A', '0', '-P', String(opts.streams ?? 1)];
    const r = await sh(argv, { timeoutMs: (SECS + 30) * 1000 });
    type J = {
      error?: string;
      end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number }; cpu_utilization_percent?: { host_total: number; remote_total: number } };
    };
    const j = JSON.parse(r.stdout || '{}') as J;
    if (j.error || !j.end?.sum_received) throw new Error(`iperf3 to ${addr}:${port}: ${j.error ?? r.stderr}`);
    const bps = j.end.sum_received.bits_per_second;
    // (CPU seconds per second) / (GB per second)
    const perGb = (pct: number) => pct / 100 / (bps / 8e9);
    const cpu = j.end.cpu_utilization_percent ?? { host_total: NaN, remote_total: NaN };
    return { gbps: bps / 1e9, retransmits: j.end.sum_sent?.retransmits ?? 0, senderCpuPerGb: perGb(cpu.host_total), receiverCpuPerGb: perGb(cpu.remote_total) };
  } finally {
    await srv.stop();
  }
}

export interface Rtt {
  avgUs: number;
  p50Us: number;
  p99Us: number;
}

/** PINGS echo requests 10 ms apart (after one to fill the ARP caches); per-reply times in µs. */
export async function rtt(srcNs: string, addr: string): Promise<Rtt> {
  await sh(['nsenter', `--net=${srcNs}`, 'ping', '-n', '-c', '1', '-W', '2', addr]);
  const r = await sh(['nsenter', `--net=${srcNs}`, 'ping', '-n', '-c', String(PINGS), '-i', '0.01', '-W', '2', addr], { timeoutMs: 60_000 + PINGS * 50 });
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  if (times.length < PINGS * 0.9) throw new Error(`ping ${addr}: ${times.length}/${PINGS} replies: ${r.stdout.slice(-300)} ${r.stderr}`);
  return { avgUs: times.reduce((a, b) => a + b, 0) / times.length, p50Us: percentile(times, 50), p99Us: percentile(times, 99) };
}

/** The best of several runs: the highest throughput (noise on a shared machine only slows a run down). */
export const bestTput = (xs: readonly Tput[]): Tput => xs.reduce((m, x) => (x.gbps > m.gbps ? x : m));
/** The run with the lowest p50. */
export const bestRtt = (xs: readonly Rtt[]): Rtt => xs.reduce((m, x) => (x.p50Us < m.p50Us ? x : m));

/**
 * Section 3: scale. 1000 containers on one network with 5 published ports each (5000 ports), run
 * through the daemon as a user would; the setup time of the last containers against the first,
 * `ps` and `network inspect` at that size, and the daemon's memory. The driver-level endpoint
 * setup is measured separately (bench/endpoint.ts with keep) to show what the network part costs.
 */
import { readFileSync } from 'node:fs';
import { LabHost } from '../scripts/lab';
import { now } from './common';

export interface ScaleFigures {
  containers: number;
  ports: number;
  /** wall time of each `run -d` (CLI included), in order */
  run: number[];
  ps: number[];
  inspect: number[];
  rssIdleMb: number;
  rssLoadedMb: number;
}

const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;
/** The daemon and its ctrnet-kernel helper (its child), in MB. */
function rssMb(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  const helpers = children.filter((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'ctrnet-kernel');
  return rssOf(pid) + helpers.reduce((n, c) => n + rssOf(c), 0);
}

export async function daemonScale(containers: number, portsPer: number): Promise<ScaleFigures> {
  const h = await LabHost.create('bench-scale');
  try {
    await h.startDaemon();
    const pid = h.daemonPid!;
    const rssIdleMb = rssMb(pid);
    await h.ctl(['network', 'create', '--subnet', '10.88.0.0/16', 'scale']);
    const run: number[] = [];
    for (let i = 0; i < containers; i++) {
      const ports = Array.from({ length: portsPer }, (_, k) => ['-p', `${20000 + i * portsPer + k}:${80 + k}`]).flat();
      const t = now();
      await h.ctl(['run', '-d', '--network', 'scale', '--name', `s${i}`, ...ports, 'busybox', 'sleep', '1000000'], { timeoutMs: 60_000 });
      run.push(now() - t);
      if (i % 100 === 99) process.stderr.write(`bench: ${i + 1} containers\n`);
    }
    const times = async (args: string[]) => {
      const out: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t = now();
        await h.ctl(args, { timeoutMs: 60_000 });
        out.push(now() - t);
      }
      return out;
    };
    const ps = await times(['ps']);
    const inspect = await times(['network', 'inspect', 'scale']);
    const lines = (await h.ctl(['ps', '-q'])).trim().split('\n').length;
    if (lines !== containers) throw new Error(`ps shows ${lines} containers, expected ${containers}`);
    return { containers, ports: containers * portsPer, run, ps, inspect, rssIdleMb, rssLoadedMb: rssMb(pid) };
  } finally {
    // destroy() removes all containers in one `rm -f`; give it the time 1000 removals take.
    const ids = (await h.cli(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    for (let i = 0; i < ids.length; i += 100) await h.cli(['rm', '-f', ...ids.slice(i, i + 100)], { timeoutMs: 300_000 });
    await h.destroy();
  }
}

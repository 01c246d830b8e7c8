/**
 * `npm run soak [-- SECONDS]`: 8 clients doing run/rm cycles against one daemon in a lab host for
 * SECONDS (600 by default), then a report: cycles, errors, the daemon's RSS and open files at the
 * start and the end, and anything left behind. Exit 1 on an error, a leak or growth.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { LabHost, leftovers, sh } from './lab';

async function daemonPid(h: LabHost): Promise<number> {
  const out = (await sh(['pgrep', '-f', `ctrnetd --root ${h.root} `])).stdout.trim().split('\n')[0];
  return Number(out);
}

function sample(pid: number): { rssKiB: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return { rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)![1]), fds: readdirSync(`/proc/${pid}/fd`).length };
}

export async function soak(seconds: number, log: (m: string) => void = console.log): Promise<{ ok: boolean; report: string }> {
  const h = await LabHost.create('soak');
  try {
    await h.startDaemon();
    const pid = await daemonPid(h);
    // Warm up once, so start figures are those of a daemon that has served.
    await h.ctl(['run', '--rm', '-p', '80', 'busybox', 'true']);
    const start = sample(pid);
    const end = Date.now() + seconds * 1000;
    let cycles = 0;
    const errors: string[] = [];
    const client = async (i: number) => {
      for (let n = 0; Date.now() < end; n++) {
        const name = `s${i}-${n}`;
        const steps = [
          ['run', '-d', '--name', name, '-p', '80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www'],
          ['rm', '-f', name],
          ['run', '--rm', ...(n % 2 ? ['--network', 'none'] : []), 'busybox', 'true'],
        ];
        for (const s of steps) {
          const r = await h.cli(s, { timeoutMs: 60_000 });
          if (r.code !== 0) errors.push(`ctrnet ${s.join(' ')}: ${r.stderr.trim()}`);
        }
        cycles++;
      }
    };
    // RSS over time: V8 grows its heap to a working size first; a leak keeps growing after that.
    const samples: number[] = [];
    const timer = setInterval(() => samples.push(sample(pid).rssKiB), (seconds * 1000) / 10);
    await Promise.all(Array.from({ length: 8 }, (_, i) => client(i)));
    clearInterval(timer);
    const stop = sample(pid);
    const mid = samples[Math.floor(samples.length / 2)] ?? start.rssKiB;
    const left = (await h.ctl(['ps', '-aq'])).trim();
    const links = (JSON.parse(await h.run(['ip', '-j', 'link', 'show'])) as { ifname: string }[]).filter((l) => l.ifname.startsWith('veth')).length;
    const netns = readdirSync(`${h.execRoot}/netns`).length;
    const report = [
      `soak: ${seconds} s, 8 clients, ${cycles} cycles (${cycles * 3} container runs), ${errors.length} errors`,
      `daemon RSS ${start.rssKiB} KiB at the start, ${mid} KiB half-way, ${stop.rssKiB} KiB at the end (samples ${samples.join(' ')}); open files ${start.fds} -> ${stop.fds}`,
      `left: ${left ? left.split('\n').length : 0} containers, ${links} veths, ${netns} namespaces`,
      ...errors.slice(0, 5).map((e) => `  error: ${e}`),
    ].join('\n');
    log(report);
    // Flat: the second half adds under 15 % (the first half is V8 reaching its working heap).
    const ok = errors.length === 0 && !left && links === 0 && netns === 0 && stop.fds <= start.fds + 5 && stop.rssKiB < mid * 1.15;
    return { ok, report };
  } finally {
    await h.destroy();
    const rest = leftovers();
    if (rest.length) log(`left behind: ${rest.join(', ')}`);
  }
}

if (require.main === module) {
  const seconds = Number(process.argv[2] ?? 600);
  void soak(seconds).then((r) => process.exit(r.ok ? 0 : 1));
}

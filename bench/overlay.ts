/**
 * Section 5, overlay convergence: 5 test hosts on an underlay switch, etcd on the switch, one
 * ctrnetd per host (defaults, plus what the overlay needs: --cluster-store, --advertise-addr), one
 * overlay network. One "anchor" container per host first (so every host has the VXLAN device and
 * a prober), then N containers started one at a time with `run -d`, round-robin over the hosts:
 *
 *   - reachability: container i on host A, probed from the anchor of host B = A+1 with
 *     `ping -D -i 0.002` (one echo request every 2 ms, the prober's ARP retransmit lowered to
 *     ~5 ms), time from the start of `run -d` to the first reply (ping's own receive timestamp);
 *   - entries: `bridge -t monitor fdb` and `ip -ts monitor neigh` run in every host all along; the
 *     kernel events carry their own timestamps, so the time at which the last other host had both
 *     the FDB entry (MAC → host A) and the neighbour entry (IP → MAC) is exact to the microsecond,
 *     measured from the start of `run -d` and from its return;
 *   - a dead host: SIGKILL of one daemon, time until every other host removed the FDB entries of
 *     its containers (same monitors), with the default lease TTL (8 s) and, for reference, 5 s.
 *
 * Containers get fixed addresses (--ip) so probing can start before `run -d`; MACs derive from them.
 */
import { median, percentile, Row, ms } from './common';
import { Bg, macOf, sandboxKey, sleep, SwitchLab, wallNow } from './net-lab';
import path from 'node:path';
import { LabHost } from '../scripts/lab';

const REPO = path.resolve(__dirname, '../..');

const SECTION = '5. Overlay convergence';
const HOSTS = 5;
const N = Number(process.env.BENCH_OVERLAY_N ?? 50);
const SUBNET = '10.0.9';
const anchorIp = (h: number) => `${SUBNET}.${10 + h}`;
const ctrIp = (i: number) => `${SUBNET}.${100 + i}`;

interface KernelEvent {
  t: number; // epoch ms, from the tool's own timestamp
  deleted: boolean;
  mac: string;
  /** fdb: the remote host (dst); neigh: the container address */
  addr: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * `bridge -t monitor fdb` (TZ=UTC): "Timestamp: Sun Nov 29 10:48:18 2026 417930 usec" then
 * "[Deleted ]02:42:0a:00:09:64 dev vx-… dst 10.236.0.1 self permanent".
 */
function fdbMonitor(h: LabHost, out: KernelEvent[]): Bg {
  const m = new Bg(['nsenter', `--net=${h.netnsPath}`, 'bridge', '-t', 'monitor', 'fdb'], { ...process.env, TZ: 'UTC' });
  let t = NaN;
  m.onLine((line) => {
    const ts = /^Timestamp: \w+ (\w+) +(\d+) (\d+):(\d+):(\d+) (\d+) (\d+) usec/.exec(line);
    if (ts) {
      const [, mon, d, hh, mm, ss, y, usec] = ts;
      t = Date.UTC(Number(y), MONTHS.indexOf(mon), Number(d), Number(hh), Number(mm), Number(ss)) + Number(usec) / 1000;
      return;
    }
    const e = /^(Deleted )?([0-9a-f:]{17}) dev vx-\S+ dst ([\d.]+)/.exec(line);
    if (e) out.push({ t, deleted: !!e[1], mac: e[2], addr: e[3] });
  });
  return m;
}

/** `ip -ts monitor neigh` (TZ=UTC): "[2026-11-29T10:48:18.419234] [Deleted ]10.0.9.100 dev vx-… lladdr 02:42:… PERMANENT". */
function neighMonitor(h: LabHost, out: KernelEvent[]): Bg {
  const m = new Bg(['nsenter', `--net=${h.netnsPath}`, 'ip', '-ts', 'monitor', 'neigh'], { ...process.env, TZ: 'UTC' });
  m.onLine((line) => {
    const e = /^\[(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)\.(\d+)\] (Deleted )?([\d.]+) dev vx-\S+ lladdr ([0-9a-f:]{17})/.exec(line);
    if (!e || /NOARP/.test(line)) return; // NOARP lines are the VXLAN FDB seen as neighbours
    const [, y, mo, d, hh, mm, ss, frac] = e;
    const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mm), Number(ss)) + Number(`0.${frac}`) * 1000;
    out.push({ t, deleted: !!e[8], mac: e[10], addr: e[9] });
  });
  return m;
}

/** Time of the first event matching, or undefined. */
const firstAt = (evs: KernelEvent[], f: (e: KernelEvent) => boolean): number | undefined => evs.find(f)?.t;

/**
 * An etcd watcher in the switch host printing "<epoch ms> put|delete <key>" for each peer event as
 * it reaches a watcher, i.e. when the daemons' own watches get it: the moment an endpoint is
 * published cluster-wide. (node with the project's etcd3 client; no etcdctl needed.)
 */
function peerWatcher(lab: SwitchLab, out: Map<string, number>): Bg {
  const etcd3 = path.join(REPO, 'node_modules', 'etcd3');
  const script = `const { Etcd3 } = require(${JSON.stringify(etcd3)});
const c = new Etcd3({ hosts: 'http://${lab.swIp}:2379' });
c.watch().prefix('/ctrnet/peers/').create().then((w) => {
  const at = () => (performance.timeOrigin + performance.now()).toFixed(3);
  w.on('put', (kv) => console.log(at() + ' put ' + kv.key.toString()));
  w.on('delete', (kv) => console.log(at() + ' delete ' + kv.key.toString()));
  console.log('ready');
});`;
  const w = new Bg(['nsenter', `--net=${lab.sw!.netnsPath}`, process.execPath, '-e', script]);
  w.onLine((line) => {
    const m = /^([\d.]+) put \/ctrnet\/peers\/[0-9a-f]+\/([\d.]+)$/.exec(line);
    if (m && !out.has(m[2])) out.set(m[2], Number(m[1]));
  });
  return w;
}

const stats = (xs: number[]) => ({ p50: median(xs), p99: percentile(xs, 99), max: Math.max(...xs), min: Math.min(...xs) });
const sec = (x: number) => `${(x / 1000).toFixed(2)} s`;

export async function overlayConvergence(): Promise<Row[]> {
  const lab = new SwitchLab('ovc', '10.236.0');
  const monitors: Bg[] = [];
  const rows: Row[] = [];
  try {
    await lab.setup(HOSTS);
    const hosts = lab.hosts;
    const fdb: KernelEvent[][] = hosts.map(() => []);
    const neigh: KernelEvent[][] = hosts.map(() => []);
    for (const [i, h] of hosts.entries()) monitors.push(fdbMonitor(h, fdb[i]), neighMonitor(h, neigh[i]));
    const published = new Map<string, number>();
    const watcher = peerWatcher(lab, published);
    monitors.push(watcher);
    await new Promise<void>((resolve, reject) => {
      watcher.onLine((l) => l === 'ready' && resolve());
      void watcher.exited.then(() => reject(new Error('the etcd watcher exited')));
    });

    // The CLI's own start-up (node + module loading), which every `run -d` below includes.
    const cliTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = wallNow();
      await hosts[0].ctl(['version']);
      cliTimes.push(wallNow() - t0);
    }

    await hosts[0].ctl(['network', 'create', '-d', 'overlay', '--subnet', `${SUBNET}.0/24`, 'ovconv']);
    // Anchors: one container per host (the VXLAN device exists from then on), the probers.
    const anchors: string[] = [];
    for (const [i, h] of hosts.entries()) {
      await h.ctl(['run', '-d', '--name', `anchor${i}`, '--network', 'ovconv', '--ip', anchorIp(i), 'busybox', 'sleep', '100000']);
      const key = await sandboxKey(h, `anchor${i}`);
      anchors.push(key);
      // The probe's ARP: retransmit every 5 ms (default 1 s), so the probe resolution is not ARP's.
      await h.run(['nsenter', `--net=${key}`, 'sysctl', '-q', '-w', 'net.ipv4.neigh.eth0.retrans_time_ms=5', 'net.ipv4.neigh.eth0.mcast_solicit=20']);
    }
    // Every anchor reaches every other before measuring (the control plane has settled).
    for (const [i] of hosts.entries()) {
      for (const [j] of hosts.entries()) {
        if (i === j) continue;
        const end = Date.now() + 15_000;
        while ((await hosts[i].exec(['nsenter', `--net=${anchors[i]}`, 'ping', '-c1', '-W1', anchorIp(j)])).code !== 0) {
          if (Date.now() > end) throw new Error(`anchor${i} does not reach anchor${j}`);
        }
      }
    }

    const runStart: number[] = [];
    const runEnd: number[] = [];
    const reach: number[] = [];
    for (let i = 0; i < N; i++) {
      const a = i % HOSTS;
      const b = (a + 1) % HOSTS;
      const ip = ctrIp(i);
      // Neither -c nor -w: ping counts errors (unreachable while ARP fails) towards -c and stops at
      // the first error with -w. Stopped here at the first reply, or after 15 s.
      const probe = new Bg(['nsenter', `--net=${anchors[b]}`, 'ping', '-D', '-n', '-i', '0.002', ip]);
      monitors.push(probe); // stopped in finally if anything goes wrong
      const giveUp = setTimeout(() => void probe.stop(), 15_000);
      probe.onLine((line) => {
        if (/ bytes from /.test(line)) void probe.stop();
      });
      void probe.exited.then(() => clearTimeout(giveUp));
      await new Promise<void>((r) => probe.onLine(() => r())); // ping's header: it is running
      const t0 = wallNow();
      await hosts[a].ctl(['run', '-d', '--name', `c${i}`, '--network', 'ovconv', '--ip', ip, 'busybox', 'sleep', '100000'], { timeoutMs: 60_000 });
      const t1 = wallNow();
      await probe.exited;
      const reply = probe.lines.map((l) => /^\[(\d+\.\d+)\] \d+ bytes from/.exec(l.line)).find(Boolean);
      if (!reply) throw new Error(`c${i} (${ip}) on host ${a} never answered anchor${b}: ${probe.lines.map((l) => l.line).join(' | ')}`);
      runStart.push(t0);
      runEnd.push(t1);
      reach.push(Number(reply[1]) * 1000 - t0);
    }
    await sleep(500); // the last monitor lines

    // Entries: for container i, the moment the last other host had both its FDB and neighbour entry.
    const fromStart: number[] = [];
    const fromReturn: number[] = [];
    const fromPublish: number[] = [];
    const publishAfterStart: number[] = [];
    const firstHost: number[] = []; // publication → the first other host programmed
    const neighToFdb: number[] = []; // on one host: neighbour entry (ip -batch) → FDB entry (bridge -batch)
    const missing: string[] = [];
    for (let i = 0; i < N; i++) {
      const a = i % HOSTS;
      const ip = ctrIp(i);
      const mac = macOf(ip);
      let last = -Infinity;
      let first = Infinity;
      for (let h = 0; h < HOSTS; h++) {
        if (h === a) continue;
        const f = firstAt(fdb[h], (e) => !e.deleted && e.mac === mac && e.addr === lab.ip(a) && e.t >= runStart[i] - 1000);
        const n = firstAt(neigh[h], (e) => !e.deleted && e.mac === mac && e.addr === ip && e.t >= runStart[i] - 1000);
        if (f === undefined || n === undefined) missing.push(`c${i}@host${h}${f === undefined ? ' fdb' : ''}${n === undefined ? ' neigh' : ''}`);
        else {
          last = Math.max(last, f, n);
          first = Math.min(first, Math.max(f, n));
          neighToFdb.push(f - n);
        }
      }
      const p0 = published.get(ip);
      if (p0 !== undefined && first < Infinity) firstHost.push(first - p0);
      if (last > -Infinity) {
        fromStart.push(last - runStart[i]);
        fromReturn.push(last - runEnd[i]);
        const p = published.get(ip);
        if (p !== undefined) {
          fromPublish.push(last - p);
          publishAfterStart.push(p - runStart[i]);
        }
      }
    }
    if (missing.length) throw new Error(`entries never seen: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ` and ${missing.length - 10} more` : ''}`);

    const runDur = runEnd.map((e, i) => e - runStart[i]);
    const r = stats(reach);
    const s = stats(fromStart);
    const f = stats(fromReturn);
    const d = stats(runDur);
    const pb = stats(fromPublish);
    const ps = stats(publishAfterStart);
    rows.push(
      { section: SECTION, what: `run -d on host A → answers ping from host B, p50`, value: ms(r.p50), note: `${N} containers, one at a time, round-robin on ${HOSTS} hosts; probe: ping every 2 ms, prober ARP retransmit 5 ms; Docker swarm, cited from the issue: 531 ms` },
      { section: SECTION, what: `run -d on host A → answers ping from host B, p99`, value: ms(r.p99), target: '≤ 150 ms', met: r.p99 <= 150, note: `min ${ms(r.min)}, max ${ms(r.max)}; Docker swarm, cited: 601 ms` },
      { section: SECTION, what: 'FDB + neighbour on all 4 other hosts, from run -d start, p50', value: ms(s.p50), note: 'kernel event timestamps (bridge -t monitor fdb, ip -ts monitor neigh)' },
      { section: SECTION, what: 'FDB + neighbour on all 4 other hosts, from run -d start, p99', value: ms(s.p99), note: `max ${ms(s.max)}; includes the CLI start-up and the container's creation up to the publication (reference)` },
      { section: SECTION, what: 'FDB + neighbour on all 4 other hosts, from run -d return, p50', value: ms(f.p50), note: 'negative: the entries were there before run -d returned' },
      { section: SECTION, what: 'FDB + neighbour on all 4 other hosts, from run -d return, p99', value: ms(f.p99), note: `min ${ms(f.min)}, max ${ms(f.max)} (reference: negative = programmed before run -d returned)` },
      { section: SECTION, what: 'FDB + neighbour on all 4 other hosts, from publication in etcd, p50', value: ms(pb.p50), note: `control plane only: etcd watch event (seen by a watcher on the switch) → last host programmed; ${fromPublish.length} samples` },
      { section: SECTION, what: 'FDB + neighbour on all 4 other hosts, from publication in etcd, p99', value: ms(pb.p99), target: '≤ 50 ms', met: pb.p99 <= 50, note: `max ${ms(pb.max)}; the convergence proper; publication came ${ms(ps.p50)} (p50, p99 ${ms(ps.p99)}) after the start of run -d; Docker, cited: 361 ms` },
      { section: SECTION, what: 'profile: publication → first other host programmed, p50', value: ms(median(firstHost)), note: `p99 ${ms(percentile(firstHost, 99))}; on one host, neighbour entry → FDB entry (the FDB entry is written first, so ≤ 0 when in order): p50 ${ms(median(neighToFdb))}, p99 ${ms(percentile(neighToFdb, 99))}` },
      { section: SECTION, what: 'run -d duration (overlay, busybox), p50 / p99', value: ms(d.p50), note: `p99 ${ms(d.p99)}` },
      { section: SECTION, what: 'ctrnet version (CLI start-up, inside every run -d), median', value: ms(median(cliTimes)), note: `p99 ${ms(percentile(cliTimes, 99))}, 10 runs` },
    );

    // A dead host: SIGKILL its daemon (containers keep running, the lease stops being renewed).
    const dead = HOSTS - 1;
    const deadMacs = [anchorIp(dead), ...Array.from({ length: N }, (_, i) => i).filter((i) => i % HOSTS === dead).map(ctrIp)].map(macOf);
    const forgotten = async (): Promise<number> => {
      const tk = wallNow();
      await hosts[dead].stopDaemon('SIGKILL');
      const done = () => {
        let last = -Infinity;
        for (let h = 0; h < HOSTS; h++) {
          if (h === dead) continue;
          for (const mac of deadMacs) {
            const t = firstAt(fdb[h], (e) => e.deleted && e.mac === mac && e.addr === lab.ip(dead) && e.t >= tk);
            if (t === undefined) return undefined;
            last = Math.max(last, t);
          }
        }
        return last;
      };
      const end = Date.now() + 60_000;
      for (;;) {
        const t = done();
        if (t !== undefined) return t - tk;
        if (Date.now() > end) throw new Error(`host ${dead}'s FDB entries still present on other hosts 60 s after its daemon was killed`);
        await sleep(50);
      }
    };
    const ttlDefault = await forgotten();
    rows.push({
      section: SECTION, what: 'dead host forgotten (SIGKILL → its FDB entries gone on all others), lease TTL 8 s (the default)', value: sec(ttlDefault), target: '≤ 10 s', met: ttlDefault <= 10_000,
      note: `${deadMacs.length} containers on the dead host, ${HOSTS - 1} hosts watching; expected ≈ ⅔–1 × TTL (keep-alive every TTL/3); Docker, cited: 12.6 s`,
    });

    // For reference: the same with a 5 s lease (the dead host's daemon restarted with it, its entries back everywhere).
    const tr = wallNow();
    await hosts[dead].startDaemon(lab.daemonArgs(dead, ['--cluster-lease-ttl', '5']));
    const end = Date.now() + 60_000;
    while (!hosts.every((_, h) => h === dead || deadMacs.every((mac) => firstAt(fdb[h], (e) => !e.deleted && e.mac === mac && e.t >= tr) !== undefined))) {
      if (Date.now() > end) throw new Error('the restarted host was not re-learnt by the others');
      await sleep(50);
    }
    await sleep(3000); // a few keep-alives
    const ttl5 = await forgotten();
    rows.push({ section: SECTION, what: 'dead host forgotten, lease TTL 5 s (--cluster-lease-ttl 5)', value: sec(ttl5), note: 'reference: the same measurement with a shorter lease' });
    return rows;
  } finally {
    for (const m of monitors) await m.stop();
    await lab.destroy();
  }
}

/**
 * Section 4, data plane: TCP throughput (iperf3, one stream) and round-trip latency (ping) through
 * what ctrnet builds, each compared with the plain kernel path it adds to:
 *   - container ↔ container on the default bridge  vs  a raw veth pair between two namespaces;
 *   - a published port (DNAT) from another host     vs  the same container's address directly;
 *   - containers on an overlay across two hosts      vs  the two hosts' underlay.
 * iperf3 and ping run from the host's file system inside the containers' network namespaces
 * (nsenter --net=SandboxKey). Each pair is measured in alternation, ROUNDS times (the order flips
 * every round), and the best run of each side is compared, so a noisy run does not decide.
 */
import { ensureDebs, percentile, Row } from './common';
import { LabHost, linkHosts, sh } from '../scripts/lab';
import { addrIn, Bg, mtuIn, sandboxKey, SwitchLab, waitListening } from './net-lab';

const SECTION = '4. Data plane';
const SECS = Number(process.env.BENCH_IPERF_SECS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PORT = 5201;
const PINGS = 200;

export interface Tput {
  gbps: number;
  retransmits: number;
}

/**
 * One iperf3 TCP test (1 stream, SECS seconds after 1 s omitted): server in `serverNs`, client in
 * `clientNs` connecting to addr:port. Client on CPU 0, server on CPU 1, the same for every case.
 */
export async function iperf(serverNs: string, clientNs: string, addr: string, port = PORT, listenPort = port): Promise<Tput> {
  const srv = new Bg(['nsenter', `--net=${serverNs}`, 'iperf3', '-s', '-1', '-p', String(listenPort), '-A', '1']);
  try {
    await waitListening(serverNs, listenPort);
    const r = await sh(['nsenter', `--net=${clientNs}`, 'iperf3', '-c', addr, '-p', String(port), '-t', String(SECS), '-O', '1', '-J', '-A', '0'], { timeoutMs: (SECS + 30) * 1000 });
    const j = JSON.parse(r.stdout || '{}') as { error?: string; end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } } };
    if (j.error || !j.end?.sum_received) throw new Error(`iperf3 to ${addr}:${port}: ${j.error ?? r.stderr}`);
    return { gbps: j.end.sum_received.bits_per_second / 1e9, retransmits: j.end.sum_sent?.retransmits ?? 0 };
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
  const r = await sh(['nsenter', `--net=${srcNs}`, 'ping', '-n', '-c', String(PINGS), '-i', '0.01', '-W', '2', addr], { timeoutMs: 60_000 });
  const times = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]) * 1000);
  if (times.length < PINGS * 0.9) throw new Error(`ping ${addr}: ${times.length}/${PINGS} replies: ${r.stdout.slice(-300)} ${r.stderr}`);
  return { avgUs: times.reduce((a, b) => a + b, 0) / times.length, p50Us: percentile(times, 50), p99Us: percentile(times, 99) };
}

/** Measures a and b alternately ROUNDS times (a,b then b,a …); returns every run of each. */
async function alternate<T>(a: () => Promise<T>, b: () => Promise<T>): Promise<[T[], T[]]> {
  const ra: T[] = [];
  const rb: T[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      ra.push(await a());
      rb.push(await b());
    } else {
      rb.push(await b());
      ra.push(await a());
    }
  }
  return [ra, rb];
}

const gb = (x: number) => `${x.toFixed(2)} Gbit/s`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const us = (x: number) => `${x.toFixed(0)} µs`;
const best = (xs: Tput[]): Tput => xs.reduce((m, x) => (x.gbps > m.gbps ? x : m));
const runs = (xs: Tput[]) => xs.map((x) => x.gbps.toFixed(2)).join(', ');
const bestRtt = (xs: Rtt[]): Rtt => xs.reduce((m, x) => (x.p50Us < m.p50Us ? x : m));

function tputRows(what: string, baseName: string, target: number, base: Tput[], ours: Tput[], extra = ''): Row[] {
  const b = best(base);
  const o = best(ours);
  const ratio = o.gbps / b.gbps;
  return [
    { section: SECTION, what: `${what}: throughput`, value: gb(o.gbps), note: `best of ${ours.length} (${runs(ours)} Gbit/s), 1 TCP stream, ${SECS} s, ${o.retransmits} retransmits` },
    { section: SECTION, what: `${baseName}: throughput (baseline)`, value: gb(b.gbps), note: `best of ${base.length} (${runs(base)} Gbit/s), ${b.retransmits} retransmits` },
    { section: SECTION, what: `${what} / ${baseName}`, value: pct(ratio), target: `≥ ${target} %`, met: ratio * 100 >= target, note: extra || undefined },
  ];
}

/** Latency rows are reference rows: the ctrnet path has more hops by nature (a bridge: two veths). */
function rttRows(what: string, baseName: string, base: Rtt[], ours: Rtt[]): Row[] {
  const b = bestRtt(base);
  const o = bestRtt(ours);
  return [
    { section: SECTION, what: `${what}: RTT p50`, value: us(o.p50Us), note: `avg ${us(o.avgUs)}, p99 ${us(o.p99Us)}; ${(o.p50Us / b.p50Us).toFixed(2)}× ${baseName} (+${(o.p50Us - b.p50Us).toFixed(0)} µs); ping -i 0.01 ×${PINGS}, best p50 of ${ours.length}` },
    { section: SECTION, what: `${baseName}: RTT p50 (baseline)`, value: us(b.p50Us), note: `avg ${us(b.avgUs)}, p99 ${us(b.p99Us)}` },
  ];
}

/** Bridge and published-port cases: one daemon host, a client host and a raw veth pair. */
async function bridgeCases(): Promise<Row[]> {
  const hosts: LabHost[] = [];
  try {
    const dp = await LabHost.create('dp');
    hosts.push(dp);
    const cl = await LabHost.create('dpcl');
    hosts.push(cl);
    await linkHosts(cl, dp, '10.232.0.2', '10.232.0.1');
    await dp.startDaemon();
    await dp.ctl(['run', '-d', '--name', 'c1', '-p', `${PORT}:${PORT}`, 'busybox', 'sleep', '100000']);
    await dp.ctl(['run', '-d', '--name', 'c2', 'busybox', 'sleep', '100000']);
    const k1 = await sandboxKey(dp, 'c1');
    const k2 = await sandboxKey(dp, 'c2');
    const ip1 = await addrIn(k1);
    const mtu = await mtuIn(k1);

    // The baseline: two plain namespaces joined by a veth pair of the containers' MTU.
    const ra = await LabHost.create('dpra');
    hosts.push(ra);
    const rb = await LabHost.create('dprb');
    hosts.push(rb);
    await linkHosts(ra, rb, '10.233.0.1', '10.233.0.2', mtu);

    const rows: Row[] = [];
    const [raw, br] = await alternate(
      () => iperf(rb.netnsPath, ra.netnsPath, '10.233.0.2'),
      () => iperf(k1, k2, ip1),
    );
    rows.push(...tputRows('container ↔ container, ctrnet bridge', 'raw veth pair', 95, raw, br, `MTU ${mtu} both; Docker's bridge, cited from the issue: 74 %`));

    const [direct, published] = await alternate(
      () => iperf(k1, cl.netnsPath, ip1),
      () => iperf(k1, cl.netnsPath, '10.232.0.1'),
    );
    rows.push(...tputRows('published port -p 5201:5201 from another host', 'same container by its address', 90, direct, published, 'client in a second test host routed through the daemon host; DNAT vs plain routing'));

    const [rawRtt, brRtt] = await alternate(
      () => rtt(ra.netnsPath, '10.233.0.2'),
      () => rtt(k2, ip1),
    );
    rows.push(...rttRows('container ↔ container, ctrnet bridge', 'raw veth pair', rawRtt, brRtt));

    // Profile of a miss: the same transfer with parts of the per-frame filtering switched off in
    // this test host only (its own namespace: the sysctl is per namespace since Linux 5.3).
    if (best(br).gbps / best(raw).gbps < 0.95) {
      const base = best(raw).gbps;
      const variant = async (what: string, setup: () => Promise<unknown>) => {
        await setup();
        const xs: Tput[] = [];
        for (let i = 0; i < ROUNDS; i++) xs.push(await iperf(k1, k2, ip1));
        const b = best(xs);
        rows.push({ section: SECTION, what: `profile: bridge ${what}`, value: pct(b.gbps / base), note: `${gb(b.gbps)} (${runs(xs)}) vs raw veth ${gb(base)}; this test host only, not ctrnet's configuration` });
      };
      await variant('without the anti-spoofing chain (bridge ctrnet)', () => dp.run(['nft', 'flush', 'chain', 'bridge', 'ctrnet', 'prerouting']));
      await variant('without both (and bridge-nf-call-iptables=0)', () => dp.run(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']));
      await variant('without br_netfilter only (bridge-nf-call-iptables=0)', () => dp.ctl(['system', 'reload']));
      await dp.run(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=1']);
    }
    return rows;
  } finally {
    for (const h of hosts.reverse()) await h.destroy().catch(() => {});
  }
}

/** Overlay case: two hosts on a switch with etcd, a container on each, the overlay vs the underlay. */
async function overlayCases(): Promise<Row[]> {
  const lab = new SwitchLab('dpo', '10.234.0');
  try {
    await lab.setup(2);
    const [h1, h2] = lab.hosts;
    await h1.ctl(['network', 'create', '-d', 'overlay', '--subnet', '10.0.19.0/24', 'ovbench']);
    await h1.ctl(['run', '-d', '--name', 'o1', '--network', 'ovbench', 'busybox', 'sleep', '100000']);
    await h2.ctl(['run', '-d', '--name', 'o2', '--network', 'ovbench', 'busybox', 'sleep', '100000']);
    const k1 = await sandboxKey(h1, 'o1');
    const k2 = await sandboxKey(h2, 'o2');
    const ip1 = await addrIn(k1);
    const mtu = await mtuIn(k1);
    // The overlay path must work before measuring it (entries arrive through etcd).
    for (let i = 0; i < 100 && (await sh(['nsenter', `--net=${k2}`, 'ping', '-c1', '-W1', ip1])).code !== 0; i++);

    const rows: Row[] = [];
    const [under, over] = await alternate(
      () => iperf(h1.netnsPath, h2.netnsPath, lab.ip(0)),
      () => iperf(k1, k2, ip1),
    );
    rows.push(...tputRows('overlay container ↔ container across 2 hosts', 'underlay host ↔ host', 90, under, over, `VXLAN, container MTU ${mtu} on a 1500 underlay; Docker's overlay, cited: 75–80 %`));
    const [underRtt, overRtt] = await alternate(
      () => rtt(h2.netnsPath, lab.ip(0)),
      () => rtt(k2, ip1),
    );
    rows.push(...rttRows('overlay container ↔ container', 'underlay host ↔ host', underRtt, overRtt));

    if (best(over).gbps / best(under).gbps < 0.9) {
      // Profile of a miss, as for the bridge: br_netfilter off on both hosts (their namespaces only).
      for (const h of lab.hosts) await h.run(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
      const [u2, o2] = await alternate(
        () => iperf(h1.netnsPath, h2.netnsPath, lab.ip(0)),
        () => iperf(k1, k2, ip1),
      );
      rows.push({ section: SECTION, what: 'profile: overlay / underlay without br_netfilter (bridge-nf-call-iptables=0)', value: pct(best(o2).gbps / best(u2).gbps), note: `overlay ${gb(best(o2).gbps)} (${runs(o2)}), underlay ${gb(best(u2).gbps)} (${runs(u2)}); these test hosts only` });
      for (const h of lab.hosts) await h.run(['nft', 'flush', 'chain', 'bridge', 'ctrnet', 'prerouting']);
      const o3: Tput[] = [];
      for (let i = 0; i < ROUNDS; i++) o3.push(await iperf(k1, k2, ip1));
      rows.push({ section: SECTION, what: 'profile: overlay / underlay without br_netfilter nor anti-spoofing chain', value: pct(best(o3).gbps / best(u2).gbps), note: `overlay ${gb(best(o3).gbps)} (${runs(o3)})` });
    }
    return rows;
  } finally {
    await lab.destroy();
  }
}

export async function dataplane(): Promise<Row[]> {
  if (!ensureDebs(['iperf3'])) return [{ section: SECTION, what: 'iperf3', value: 'not installed', note: 'apt-get install iperf3 failed' }];
  return [...(await bridgeCases()), ...(await overlayCases())];
}

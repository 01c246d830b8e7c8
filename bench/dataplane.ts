/**
 * Section 4, data plane: ctrnet, Docker 20.10 and the bare kernel path side by side, in one run.
 *
 *   bridge:    ctrnet container ↔ container on its default bridge; Docker's on docker0; a raw veth pair
 *   published: a port published by a container, from another test host routed through the engine's
 *              host: ctrnet; Docker with docker-proxy (its default) and with `userland-proxy: false`;
 *              the baseline is the same path through a bare router namespace (no engine, no firewall)
 *   overlay:   ctrnet across two test hosts (VXLAN, etcd); a Docker swarm of two test hosts with an
 *              attachable overlay network; the underlay host ↔ host
 *
 * Each case: iperf3 with 1 TCP stream and with 4, and (bridge, overlay) ping RTT p50/p99. The cases
 * are measured in ROUNDS rounds; in a round the cases of one group (a baseline, ctrnet's, Docker's)
 * run back to back, the order rotating every round, so a case and the ones it is compared with
 * share the machine's state of the moment. A ratio is the median over the rounds of the ratio within
 * each round (paired: the machine's slow drift cancels); the figure of a case is the median of its
 * runs, its best run and all runs are in the note. (Why: on this 2-vCPU machine one case's 5 s runs
 * span ±15 %, so the best of 3 of two cases can differ by 8 points when the cases do not.) CPU time
 * per GB moved is each end's own (see dp-measure.ts). The labs are in dp-labs.ts.
 *
 * When a ctrnet target is missed, a profile follows: the same transfer with each of ctrnet's
 * per-packet hooks taken away in its test host only (the anti-spoofing chain; br_netfilter, which
 * is per network namespace since Linux 5.3), to name what stands in the way.
 */
import { ensureDebs, median, Row } from './common';
import { sh } from '../scripts/lab';
import { bestRtt, bestTput, iperf, PINGS, rtt, Rtt, SECS, Tput } from './dp-measure';
import { DataplaneLabs, Pair } from './dp-labs';

const SECTION = '4. Data plane';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** Rounds of a profile row (a case and its baseline, alternated). */
const PROFILE_ROUNDS = Number(process.env.BENCH_PROFILE_ROUNDS ?? 3);
const STREAMS = [1, 4];

type Group = 'bridge' | 'published' | 'overlay';
type Who = 'ctrnet' | 'docker' | 'base';

interface Case {
  group: Group;
  who: Who;
  label: string;
  pair: Pair;
  rtt: boolean;
  tput: Map<number, Tput[]>;
  rtts: Rtt[];
}

interface Target {
  /** of the baseline, in % */
  base: number;
  /** × Docker */
  docker: number;
  /** RTT p50 × the baseline's */
  rtt?: number;
}

const TARGETS: Partial<Record<Group, Target>> = {
  bridge: { base: 97, docker: 1.05, rtt: 1.5 },
  overlay: { base: 95, docker: 1.05 },
};

const gb = (x: number) => `${x.toFixed(2)} Gbit/s`;
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const us = (x: number) => `${x.toFixed(0)} µs`;
const cpu = (t: Tput) => `CPU per GB: sender ${t.senderCpuPerGb.toFixed(3)} s, receiver ${t.receiverCpuPerGb.toFixed(3)} s`;
const runs = (xs: Tput[]) => xs.map((x) => x.gbps.toFixed(2)).join(', ');

function measureOnce(c: Case, streams: number): Promise<Tput> {
  const p = c.pair;
  return iperf(p.serverNs, p.clientNs, p.addr, { streams, port: p.port, listenPort: p.listenPort });
}

/**
 * All cases, ROUNDS times. In a round the groups follow each other and the cases of a group run
 * back to back (so the runs a ratio pairs are minutes closer than across the whole round); the
 * order of the groups and of the cases in each rotates every round, and reverses every other one.
 */
async function rounds(cases: Case[]): Promise<void> {
  const rotate = <T>(xs: T[], r: number) => {
    const o = xs.slice(r % xs.length).concat(xs.slice(0, r % xs.length));
    return r % 2 === 1 ? o.reverse() : o;
  };
  const groups = [...new Set(cases.map((c) => c.group))];
  for (let r = 0; r < ROUNDS; r++) {
    for (const g of rotate(groups, r)) {
      for (const c of rotate(cases.filter((x) => x.group === g), r)) {
        for (const s of STREAMS) c.tput.get(s)!.push(await measureOnce(c, s));
        if (c.rtt) c.rtts.push(await rtt(c.pair.clientNs, c.pair.addr));
      }
    }
    process.stderr.write(`bench: data plane round ${r + 1}/${ROUNDS} done\n`);
  }
}

/** The median over the rounds of a's throughput over b's in the same round (paired ratios). */
const pairedRatio = (a: readonly Tput[], b: readonly Tput[]): number => median(a.map((x, i) => x.gbps / b[i].gbps));
/** The run whose throughput is the median of the runs (nearest rank), for its CPU and retransmit figures. */
const medianTput = (xs: readonly Tput[]): Tput => {
  const m = median(xs.map((x) => x.gbps));
  return xs.find((x) => x.gbps === m)!;
};

function groupRows(group: Group, title: string, cases: Case[]): Row[] {
  const inGroup = cases.filter((c) => c.group === group);
  const base = inGroup.find((c) => c.who === 'base')!;
  const dockers = inGroup.filter((c) => c.who === 'docker');
  const docker = dockers[0];
  const target = TARGETS[group];
  const rows: Row[] = [];
  for (const s of STREAMS) {
    const b = base.tput.get(s)!;
    const d = docker?.tput.get(s);
    for (const c of inGroup) {
      const xs = c.tput.get(s)!;
      const t = medianTput(xs);
      const vsBase = pairedRatio(xs, b);
      const vsDocker = c.who === 'docker' ? [] : dockers.map((k) => `${pairedRatio(xs, k.tput.get(s)!).toFixed(3)}× ${k.label}`);
      const ratios = c === base ? 'baseline' : [`${pct(vsBase)} of ${base.label}`, ...vsDocker].join(', ');
      const isTarget = c.who === 'ctrnet' && target !== undefined && d !== undefined && !c.label.includes('off');
      const best = bestTput(xs);
      const bestRatios = c === base ? '' : `; best of each: ${pct(best.gbps / bestTput(b).gbps)}${d && c !== docker ? `, ${(best.gbps / bestTput(d).gbps).toFixed(3)}× ${docker!.label}` : ''}`;
      rows.push({
        section: SECTION,
        what: `${title}, ${s} TCP stream${s > 1 ? 's' : ''}: ${c.label}`,
        value: gb(t.gbps),
        target: isTarget ? `≥ ${target.base} % baseline, ≥ ${target.docker}× Docker` : undefined,
        met: isTarget ? vsBase >= target.base / 100 && pairedRatio(xs, d) >= target.docker : undefined,
        note: `${ratios} (medians of ${xs.length} rounds' ratios); ${cpu(t)}; runs ${runs(xs)} (${SECS} s each; median shown, best ${gb(best.gbps)}${bestRatios}); ${t.retransmits} retransmits in the median run${c.pair.mtu ? `; MTU ${c.pair.mtu}` : ''}`,
      });
    }
  }
  if (inGroup.some((c) => c.rtt)) {
    const b = bestRtt(base.rtts);
    const d = docker && bestRtt(docker.rtts);
    for (const c of inGroup) {
      const r = bestRtt(c.rtts);
      const isTarget = c.who === 'ctrnet' && target?.rtt !== undefined && !c.label.includes('off');
      const ratios = c === base ? 'baseline' : `p50 ${(r.p50Us / b.p50Us).toFixed(2)}× ${base.label} (p99 ${(r.p99Us / b.p99Us).toFixed(2)}×)${d && c !== docker ? `, p50 ${(r.p50Us / d.p50Us).toFixed(2)}× ${docker!.label}` : ''}`;
      rows.push({
        section: SECTION,
        what: `${title}, RTT p50 / p99: ${c.label}`,
        value: `${us(r.p50Us)} / ${us(r.p99Us)}`,
        target: isTarget ? `p50 ≤ ${target!.rtt}× baseline` : undefined,
        met: isTarget ? r.p50Us <= target!.rtt! * b.p50Us : undefined,
        note: `${ratios}; avg ${us(r.avgUs)}; ping -i 0.01 ×${PINGS}, the round with the best p50 of ${c.rtts.length}`,
      });
    }
  }
  return rows;
}

/** A way of taking one of ctrnet's hooks away in a test host, and of putting it back. */
interface Variant {
  what: string;
  off: () => Promise<unknown>;
}

/**
 * Profile of a miss: the ctrnet case again with hooks taken away (cumulatively, then each alone),
 * interleaved with its baseline, ROUNDS runs each. Restores the test host afterwards.
 */
async function profile(title: string, ours: Case, base: Case, variants: Variant[], restore: () => Promise<unknown>): Promise<Row[]> {
  const rows: Row[] = [];
  for (const v of variants) {
    await v.off();
    const xs: Tput[] = [];
    const bs: Tput[] = [];
    for (let i = 0; i < PROFILE_ROUNDS; i++) {
      xs.push(await measureOnce(ours, 1));
      bs.push(await measureOnce(base, 1));
    }
    await restore();
    const x = medianTput(xs);
    const b = medianTput(bs);
    rows.push({ section: SECTION, what: `profile: ${title} ${v.what}, 1 TCP stream`, value: pct(pairedRatio(xs, bs)), note: `of ${base.label}, median of ${xs.length} paired rounds: ${gb(x.gbps)} (${runs(xs)}) vs ${gb(b.gbps)} (${runs(bs)}); ${cpu(x)}; this test host only, not ctrnet's configuration` });
  }
  return rows;
}

/** The value of a sysctl in a namespace ('' when it does not exist there). */
async function sysctlIn(ns: string, key: string): Promise<string> {
  return (await sh(['nsenter', `--net=${ns}`, 'sysctl', '-n', key])).stdout.trim();
}

/** The hooks ctrnet puts on every frame in one daemon host, as variants that take them away. */
async function hookVariants(netnsPaths: string[], reload: () => Promise<unknown>): Promise<{ variants: Variant[]; restore: () => Promise<unknown> }> {
  const bnf = await Promise.all(netnsPaths.map((ns) => sysctlIn(ns, 'net.bridge.bridge-nf-call-iptables')));
  const inAll = (argv: string[]) => Promise.all(netnsPaths.map((ns) => sh(['nsenter', `--net=${ns}`, ...argv])));
  const flushSpoof = () => inAll(['nft', 'flush', 'table', 'bridge', 'ctrnet']);
  const bnfOff = () => inAll(['sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
  const restore = async () => {
    await Promise.all(netnsPaths.map((ns, i) => (bnf[i] ? sh(['nsenter', `--net=${ns}`, 'sysctl', '-q', '-w', `net.bridge.bridge-nf-call-iptables=${bnf[i]}`]) : undefined)));
    await reload();
  };
  const variants: Variant[] = [{ what: 'without the anti-spoofing rules (table bridge ctrnet flushed)', off: flushSpoof }];
  if (bnf.some((v) => v === '1')) {
    variants.push({ what: 'without br_netfilter (bridge-nf-call-iptables=0)', off: bnfOff });
    variants.push({ what: 'without both', off: () => flushSpoof().then(bnfOff) });
  }
  return { variants, restore };
}

export async function dataplane(): Promise<Row[]> {
  if (!ensureDebs(['iperf3'])) return [{ section: SECTION, what: 'iperf3', value: 'not installed', note: 'apt-get install iperf3 failed' }];
  const labs = new DataplaneLabs();
  const rows: Row[] = [];
  try {
    const cases: Case[] = [];
    const add = (group: Group, who: Who, label: string, pair: Pair, withRtt: boolean) => {
      const c: Case = { group, who, label, pair, rtt: withRtt, tput: new Map(STREAMS.map((s) => [s, []])), rtts: [] };
      cases.push(c);
      return c;
    };
    const veth = add('bridge', 'base', 'raw veth pair', await labs.rawVeth(), true);
    add('published', 'base', 'bare routing', await labs.bareRoute(), false);
    const cb = await labs.ctrnetBridge('dp', '10.232.0');
    const ctrBridge = add('bridge', 'ctrnet', 'ctrnet bridge', cb.c2c, true);
    add('published', 'ctrnet', 'ctrnet -p', cb.published, false);
    add('published', 'ctrnet', 'ctrnet, container by its address', cb.direct, false);
    // The same without the fast path (CTRNET_FAST_PATH=off): what the bridge and its hooks cost.
    const cs = await labs.ctrnetBridge('dps', '10.231.0', false);
    const ctrSlow = add('bridge', 'ctrnet', 'ctrnet bridge, fast path off', cs.c2c, true);
    const co = await labs.ctrnetOverlay();
    const under = add('overlay', 'base', 'underlay host ↔ host', co.under, true);
    const ctrOver = add('overlay', 'ctrnet', 'ctrnet overlay', co.over, true);
    // The same without the fast path: what the overlay bridges and their hooks cost.
    const cos = await labs.ctrnetOverlay('dpos', '10.228.0', false);
    const ctrOverSlow = add('overlay', 'ctrnet', 'ctrnet overlay, fast path off', cos.over, true);

    const why = await labs.dockerReady();
    let dockerNote = '';
    if (why) dockerNote = `Docker not measured: ${why}`;
    else {
      try {
        const db = await labs.dockerBridge('dpdk', '10.235.0', {});
        add('bridge', 'docker', 'Docker docker0', db.c2c, true);
        add('published', 'docker', 'Docker -p (docker-proxy)', db.published, false);
        const dn = await labs.dockerBridge('dpdn', '10.236.0', { 'userland-proxy': false });
        add('published', 'docker', 'Docker -p (userland-proxy false)', dn.published, false);
        const sw = await labs.dockerSwarm();
        add('overlay', 'docker', 'Docker swarm overlay', sw.over, true);
        dockerNote = labs.dockerVersion;
      } catch (e) {
        dockerNote = `Docker not measured: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    // Published ports have no one Docker row to compare with: the proxy-off one is the second.
    await rounds(cases);
    rows.push({ section: SECTION, what: 'setup', value: `${ROUNDS} rounds`, note: `${dockerNote}; iperf3 ${SECS} s after 1 s omitted, client on CPU 0, server on CPU 1; every case in every round, a group's cases back to back, order rotated; ratios: medians of the rounds' paired ratios; profiles: ${PROFILE_ROUNDS} paired rounds` });
    rows.push(...groupRows('bridge', 'bridge', cases));
    rows.push(...groupRows('published', 'published port from another host', cases));
    rows.push(...groupRows('overlay', 'overlay across 2 hosts', cases));

    const missed = (ours: Case, base: Case, target: number) => pairedRatio(ours.tput.get(1)!, base.tput.get(1)!) < target / 100;
    if (missed(ctrBridge, veth, TARGETS.bridge!.base)) {
      // The hooks a frame meets on the bridge path, taken away on the host without the fast path.
      const h = cs.host;
      const { variants, restore } = await hookVariants([h.netnsPath], () => h.ctl(['system', 'reload']));
      rows.push(...(await profile('bridge (fast path off)', ctrSlow, veth, variants, restore)));
    }
    if (missed(ctrOver, under, TARGETS.overlay!.base)) rows.push(...(await overlayProfile().catch((e: Error) => [{ section: SECTION, what: 'profile: overlay', value: 'failed', note: e.message.split('\n')[0] }])));
    return rows;

    async function overlayProfile(): Promise<Row[]> {
      const rows: Row[] = [];
      // The kernel's VXLAN path with no engine at all, against its own underlay: what encapsulation costs here.
      const bare = await labs.bareVxlan();
      const vx: Case = { group: 'overlay', who: 'base', label: 'bare VXLAN', pair: bare.over, rtt: false, tput: new Map(), rtts: [] };
      const vxUnder: Case = { group: 'overlay', who: 'base', label: 'its underlay', pair: bare.under, rtt: false, tput: new Map(), rtts: [] };
      rows.push(...(await profile('overlay: the kernel\'s VXLAN + bridge + veth, no engine,', vx, vxUnder, [{ what: '(no hooks at all)', off: async () => undefined }], async () => undefined)));
      // The hooks a frame meets on the overlay bridges, taken away on the hosts without the fast path.
      const hs = cos.lab.hosts;
      const { variants, restore } = await hookVariants(hs.map((h) => h.netnsPath), () => Promise.all(hs.map((h) => h.ctl(['system', 'reload']))));
      rows.push(...(await profile('overlay (fast path off)', ctrOverSlow, under, variants, restore)));
      return rows;
    }
  } finally {
    await labs.destroy();
  }
}

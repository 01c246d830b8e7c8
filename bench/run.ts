/**
 * `npm run bench [-- SECTION...]`: the benchmark suite. Measures ctrnet and the tools people use
 * today in one run on this machine, prints one table and writes it, with the machine's details,
 * to bench/RESULTS.md. Sections: endpoint start scale dataplane overlay pull (default: all).
 * Peers (netavark, CNI plugins, docker.io, iperf3) are installed from Debian when missing.
 * BENCH_FIRST=path/to/an/earlier/RESULTS.md: its figures go beside this run's (the noise of two runs).
 * Everything happens inside throwaway test hosts (network namespaces).
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { leftovers } from '../scripts/lab';
import { median, ms, percentile, Row } from './common';
import { ctrnetEndpoint, ctrnetEndpointAtScale } from './endpoint';
import { cniEndpoint, dockerStart, netavarkEndpoint } from './peers';
import { ctrnetCniEndpoint } from './ctrnet-cni';
import { ctrnetStart, Mode, MODES, runcFloor } from './start';
import { daemonScale } from './scale';
import { dataplane } from './dataplane';
import { overlayConvergence } from './overlay';
import { pullSection } from './pull';

const ratio = (a: number, b: number): string => `${(a / b).toFixed(3)}×`;
const sum = (t: { setup: number[]; teardown: number[] }) => median(t.setup) + median(t.teardown);
const st = (t: { setup: number[]; teardown: number[] }) => `${ms(median(t.setup))} + ${ms(median(t.teardown))}`;

async function endpointSection(): Promise<Row[]> {
  const S = '1. Endpoint (setup + teardown, one published TCP port)';
  const N = 50;
  const nv = await netavarkEndpoint(N);
  const cni = await cniEndpoint(N);
  const ours_cni = await ctrnetCniEndpoint(N);
  const ipPath = await ctrnetEndpoint(N, 'ip');
  const ours = await ctrnetEndpoint(N, 'native');
  const r = sum(ours) / sum(nv);
  // IPv6 (issue 18): the same endpoint on an IPv4-only and on a dual-stack network, both in a test
  // host with IPv6 on (as a host with IPv6 networks has it).
  const v4on6 = await ctrnetEndpoint(N, 'native', { ipv6Host: true });
  const dual = await ctrnetEndpoint(N, 'native', { ipv6Host: true, dual: true });
  const d = median(dual.setup) / median(v4on6.setup);
  return [
    { section: S, what: `${nv.version} (setup + teardown, medians)`, value: st(nv), note: `n=${N}, bridge already present` },
    { section: S, what: `CNI plugins ${cni.version}: bridge + host-local + portmap`, value: st(cni), note: `n=${N}` },
    { section: S, what: `${ours_cni.version}: ADD + DEL, the same chain's work (address, veth, port)`, value: st(ours_cni), note: `${ratio(sum(ours_cni), sum(cni))} the CNI plugins; n=${N}; each call is a node process (~50 ms of start-up) and one request to ctrnetd` },
    { section: S, what: 'ctrnet driver, reference adapters (ip -batch, nft -f processes)', value: st(ipPath), note: `n=${N}` },
    { section: S, what: 'ctrnet driver, ctrnet-kernel (netlink + libnftables, one process)', value: st(ours), target: '≤ 0.05× netavark', met: r <= 0.05, note: `${ratio(sum(ours), sum(nv))} netavark, ${ratio(sum(ours), sum(cni))} CNI; n=${N}; includes making and deleting the namespace (the peers' figures do not); the teardown leaves the veth to the kernel's destruction of the namespace` },
    { section: S, what: 'ctrnet, IPv4-only network, host with IPv6 on', value: st(v4on6), note: `n=${N}; the baseline of the next row` },
    { section: S, what: 'ctrnet, dual-stack network (IPv4 + IPv6, port on 0.0.0.0 and ::)', value: st(dual), target: 'setup ≤ 1.3× IPv4-only', met: d <= 1.3, note: `setup ${ratio(median(dual.setup), median(v4on6.setup))} the IPv4-only row; n=${N}; namespace with IPv6 on, both addresses and routes, IPv6 anti-spoofing, the ip6 port map and the [::1] relay` },
  ];
}

async function startSection(): Promise<Row[]> {
  const S = '2. Container start (`run --rm busybox true`, median)';
  const N = 10;
  const ours = await ctrnetStart(N);
  const floor = median(await runcFloor(N));
  const docker = await dockerStart(N);
  const rows: Row[] = [
    { section: S, what: 'floor: `runc run` of a busybox bundle, no engine', value: ms(floor), note: `n=${N}` },
    { section: S, what: 'ctrnet CLI start-up (`ctrnet version`) / bare `node -e ""`', value: `${ms(median(ours.cliVersion))} / ${ms(median(ours.nodeBare))}`, note: `inside every ctrnet figure below; bare node with this machine's environment: ${ms(median(ours.nodeBareEnv))}${process.env.NODE_EXTRA_CA_CERTS ? ' (NODE_EXTRA_CA_CERTS is set: node parses that CA bundle at every start-up; bin/ctrnet and bin/ctrnet-cni run node without it, as they open no TLS connection)' : ''}` },
  ];
  const c = ours.clis;
  if (c.dockerRun.length) {
    rows.push({ section: S, what: 'CLIs against the same ctrnetd: `version`, ctrnet CLI vs docker CLI', value: `${ms(median(c.ctrnetVersion))} vs ${ms(median(c.dockerVersion))}`, note: `ctrnet +${ms(median(c.ctrnetVersion) - median(c.dockerVersion))}; the ctrnet CLI from its ${'separate'} modules (no bundle, no code cache): ${ms(median(c.modulesVersion))}; bare node ${ms(median(ours.nodeBare))}; n=${N}, interleaved` });
    rows.push({ section: S, what: 'CLIs against the same ctrnetd: `run --rm busybox true`, ctrnet CLI vs docker CLI', value: `${ms(median(c.ctrnetRun))} vs ${ms(median(c.dockerRun))}`, note: `ctrnet +${ms(median(c.ctrnetRun) - median(c.dockerRun))} (${ratio(median(c.ctrnetRun), median(c.dockerRun))}); the daemon's work is the same: the difference is the CLI process (node's start-up, loading, its HTTP client)` });
  }
  for (const m of Object.keys(MODES) as Mode[]) {
    const o = median(ours.modes[m]);
    if ('skipped' in docker) {
      rows.push({ section: S, what: `ctrnet ${m}`, value: ms(o), target: '≤ 0.5× Docker', note: `Docker not measured: ${docker.skipped}; +${ms(o - floor)} over the floor` });
      continue;
    }
    const d = median(docker.modes[m]);
    rows.push({ section: S, what: `ctrnet ${m} vs Docker ${docker.version}`, value: `${ms(o)} vs ${ms(d)}`, target: '≤ 0.5× Docker', met: o <= 0.5 * d, note: `${ratio(o, d)}; ctrnet +${ms(o - floor)} over the floor, Docker +${ms(d - floor)}` });
  }
  return rows;
}

async function scaleSection(): Promise<Row[]> {
  const S = '3. Scale (1000 containers on one network, 5000 published ports)';
  const ep = await ctrnetEndpoint(1000, 'native', { ports: 5, keep: true });
  const epFirst = median(ep.setup.slice(0, 20));
  const epLast = median(ep.setup.slice(-20));
  // The same question without the drift of a long sequential run: one endpoint on an empty
  // network and one on a network with 1000, set up in turn (two test hosts).
  const alt = await ctrnetEndpointAtScale(1000, 40, 5);
  const altFirst = median(alt.first);
  const altN = median(alt.atN);
  const d = await daemonScale(1000, 5);
  const first = median(d.run.slice(0, 20));
  const last = median(d.run.slice(-20));
  return [
    { section: S, what: 'driver endpoint setup (5 ports) with 1000 endpoints on the network vs on an empty one, in turn', value: `${ms(altN)} vs ${ms(altFirst)}`, target: '≤ 1.2×', met: altN <= 1.2 * altFirst, note: `${ratio(altN, altFirst)}; medians of ${alt.first.length} alternated pairs (two test hosts), namespace included` },
    { section: S, what: 'driver endpoint setup (5 ports), endpoints 981–1000 vs 1–20 of one sequential run', value: `${ms(epLast)} vs ${ms(epFirst)}`, note: `${ratio(epLast, epFirst)} (reference: a long run drifts with the machine's load)` },
    { section: S, what: '`run -d` (5 ports), containers 981–1000 vs 1–20', value: `${ms(last)} vs ${ms(first)}`, target: '≤ 1.2×', met: last <= 1.2 * first, note: `${ratio(last, first)}; p99 of all ${ms(percentile(d.run, 99))}` },
    { section: S, what: '`ps` with 1000 containers', value: ms(median(d.ps)) },
    { section: S, what: '`network inspect` with 1000 endpoints', value: ms(median(d.inspect)) },
    { section: S, what: 'daemon + ctrnet-kernel RSS, idle → with 1000 containers, 5000 ports', value: `${d.rssIdleMb.toFixed(0)} MB → ${d.rssLoadedMb.toFixed(0)} MB` },
  ];
}

const SECTIONS: Record<string, () => Promise<Row[]>> = {
  endpoint: endpointSection,
  start: startSection,
  scale: scaleSection,
  dataplane,
  overlay: overlayConvergence,
  pull: () => pullSection(),
};

function machine(): string[] {
  const v = (argv: string[]) => spawnSync(argv[0], argv.slice(1)).stdout?.toString().trim().split('\n')[0] ?? '?';
  return [
    `- date: ${new Date().toISOString()}`,
    `- kernel: ${v(['uname', '-r'])}; CPU: ${cpus()[0]?.model} × ${cpus().length}; RAM: ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- node ${process.version}; ${v(['nft', '--version'])}; ${v(['runc', '--version'])}; ${v(['ip', '-V'])}`,
  ];
}

/** The figures of an earlier run (its RESULTS.md): value and met, by section and measured. */
interface Earlier {
  date: string;
  rows: Map<string, { value: string; met: string }>;
}

const rowKey = (section: string, what: string) => `${section}\u0000${what}`;

/**
 * Reads the table of an earlier run's RESULTS.md (BENCH_FIRST=path): `npm run bench` twice, the
 * second with the first's file, puts both runs' figures side by side (the machine's noise shows).
 */
export function readEarlier(file: string): Earlier {
  const text = readFileSync(file, 'utf8');
  const rows = new Map<string, { value: string; met: string }>();
  const unescape = (c: string) => c.trim().replace(/\\\|/g, '|');
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| section ')) continue;
    const cells = line.slice(1, -1).split(/(?<!\\)\|/).map(unescape);
    // section | measured | value | [first run |] target | met | note
    if (cells.length < 6) continue;
    const first = cells.length >= 7;
    rows.set(rowKey(cells[0], cells[1]), { value: cells[2], met: cells[first ? 5 : 4] });
  }
  return { date: /^- date: (\S+)/m.exec(text)?.[1] ?? '?', rows };
}

export function table(rows: Row[], earlier?: Earlier): string {
  const out = earlier
    ? ['| section | measured | value | first run | target | met | note |', '|---|---|---|---|---|---|---|']
    : ['| section | measured | value | target | met | note |', '|---|---|---|---|---|---|'];
  const cell = (s: string | undefined) => (s ?? '').replace(/\|/g, '\\|');
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    const e = earlier?.rows.get(rowKey(r.section, r.what));
    const firstCell = earlier ? ` ${cell(e ? `${e.value}${e.met ? ` (${e.met.replace(/\*/g, '')})` : ''}` : '—')} |` : '';
    out.push(`| ${cell(r.section)} | ${cell(r.what)} | ${cell(r.value)} |${firstCell} ${cell(r.target)} | ${met} | ${cell(r.note)} |`);
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  for (const w of wanted) if (!SECTIONS[w]) throw new Error(`unknown section ${w}: choose from ${Object.keys(SECTIONS).join(' ')}`);
  const rows: Row[] = [];
  for (const [name, f] of Object.entries(SECTIONS)) {
    if (wanted.length && !wanted.includes(name)) continue;
    process.stderr.write(`bench: ${name}\n`);
    try {
      rows.push(...(await f()));
    } catch (e) {
      rows.push({ section: name, what: 'section failed', value: '', note: e instanceof Error ? e.message.split('\n')[0] : String(e) });
    }
    process.stderr.write(`${table(rows)}\n`);
  }
  const earlier = process.env.BENCH_FIRST ? readEarlier(process.env.BENCH_FIRST) : undefined;
  const intro = 'Written by `npm run bench`. Every figure was measured in this run on this machine, except those marked "cited": the figures for Docker features this bench does not run (swarm overlay convergence).';
  const twice = earlier ? [`Measured twice: "value" and "met" are this run's; "first run" is the same row of the run before it (${earlier.date}, the same bench on the same machine), with whether it met its target then: the difference between the two is the machine's noise.`, ''] : [];
  const text = ['# ctrnet benchmark results', '', intro, '', ...twice, ...machine(), '', table(rows, earlier), ''].join('\n');
  process.stdout.write(`${table(rows, earlier)}\n`);
  if (wanted.length === 0) writeFileSync(path.join(__dirname, '../../bench/RESULTS.md'), text);
  else writeFileSync(path.join(__dirname, '../../bench/RESULTS.partial.md'), text);
  const left = leftovers();
  if (left.length) {
    process.stderr.write(`bench: left behind: ${left.join(', ')}\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}

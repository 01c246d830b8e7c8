/**
 * The peers of the benchmark suite: what the engines ctrnet is compared with cost on this machine.
 *
 * - netavark (Debian's, 1.4): setup + teardown of one bridge endpoint with one published port;
 * - the CNI reference plugins (Debian's containernetworking-plugins, 1.1): bridge + host-local +
 *   portmap chained, ADD and DEL;
 * - Docker (Debian's docker.io, 20.10): `docker run --rm busybox true` per network mode.
 *
 * Everything runs inside throwaway lab hosts (network namespaces, scripts/lab.ts): the bridges,
 * veths and iptables/nft rules these tools make live there, never in the root namespace, and every
 * lab host is removed afterwards, also after a failure. The functions only measure; the runner
 * turns the figures into rows.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { LabHost, RUN_ID, sh, must, type Result } from '../scripts/lab';
import { installDebs, now } from './common';

export interface EndpointTimes {
  /** wall time of each setup (ms), warm-up discarded */
  setup: number[];
  /** wall time of each teardown (ms), warm-up discarded */
  teardown: number[];
  version: string;
}

function need(pkgs: string[]): void {
  const r = installDebs(pkgs);
  if (!r.ok) throw new Error(r.error);
}

/** First of the paths that exists, else the name as found on PATH. */
function findBin(name: string, candidates: string[]): string {
  for (const c of candidates) if (existsSync(c)) return c;
  const w = spawnSync('sh', ['-c', `command -v ${name}`]).stdout?.toString().trim();
  if (w) return w;
  throw new Error(`${name} not found`);
}

/** Runs one timed command; a non-zero exit is an error (a failed step is no figure). */
async function timed(what: string, run: () => Promise<Result>): Promise<{ ms: number; out: string }> {
  const t0 = now();
  const r = await run();
  const ms = now() - t0;
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).slice(0, 2000)}`);
  return { ms, out: r.stdout };
}

/** A container network namespace for one iteration: named after the lab host, so leftovers() sees it. */
async function withContainerNs<T>(host: LabHost, i: number, body: (nsPath: string) => Promise<T>): Promise<T> {
  const name = `${host.ns}-c${i}`;
  await must(['ip', 'netns', 'add', name]);
  try {
    return await body(`/run/netns/${name}`);
  } finally {
    await sh(['ip', 'netns', 'del', name]);
  }
}

/** Checks, untimed, that the endpoint works: the container has its address and the host its DNAT rule. */
async function checkEndpoint(host: LabHost, nsPath: string, ip: string, port: number, hostPort: number): Promise<void> {
  const addr = await must(['nsenter', `--net=${nsPath}`, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
  if (!addr.includes(` ${ip}/`)) throw new Error(`container eth0 has not ${ip}: ${addr.trim()}`);
  const route = await must(['nsenter', `--net=${nsPath}`, 'ip', '-4', 'route', 'show', 'default']);
  if (!route.startsWith('default via')) throw new Error(`container has no default route: ${route.trim()}`);
  const rules = await host.run(['nft', 'list', 'ruleset']);
  if (!new RegExp(`tcp dport ${hostPort}\\b.*dnat to ${ip.replace(/\./g, '\\.')}:${port}\\b`).test(rules)) {
    throw new Error(`no DNAT rule ${hostPort} -> ${ip}:${port} in the test host:\n${rules}`);
  }
}

/** Removes network namespaces of a lab host's containers that a failure left behind. */
async function dropContainerNamespaces(host: LabHost): Promise<void> {
  for (const l of spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n')) {
    const name = l.split(' ')[0];
    if (name && name.startsWith(`${host.ns}-c`)) await sh(['ip', 'netns', 'del', name]);
  }
}

// ---------------------------------------------------------------------------------------------
// netavark

const NETAVARK_SUBNET = '10.213.0';

/**
 * netavark setup and teardown of ONE bridge endpoint (static IP, one published TCP port, host
 * 8080 → container 80), n times after a discarded warm-up. The network options go to netavark on
 * stdin, as podman sends them; netavark runs in a lab host (nsenter --net) with its --config dir in
 * the lab host's /tmp dir, so the bridge, veths and iptables rules (its firewall driver here is
 * iptables, i.e. iptables-nft) are the lab host's.
 *
 * Each iteration uses a fresh container network namespace; creating and deleting it is not part of
 * the timed figures (`ip netns add`/`del` run before setup and after teardown, untimed).
 *
 * keepBridge (default true): a second endpoint (no ports) stays attached to the network for the
 * whole run, so the bridge and the network's chains exist and only the measured endpoint comes and
 * goes: the steady state of a host that runs containers. With keepBridge false the measured endpoint
 * is the network's only one, so setup also creates the bridge and the network's chains, and
 * teardown removes them (podman's first and last container on a network): teardown then costs
 * about 2.5× as much (230 against 94 ms here).
 */
export async function netavarkEndpoint(n: number, opts: { keepBridge?: boolean } = {}): Promise<EndpointTimes> {
  need(['netavark', 'iptables']);
  const bin = findBin('netavark', ['/usr/lib/podman/netavark', '/usr/libexec/podman/netavark']);
  const deb = spawnSync('dpkg-query', ['-W', '-f=${Version}', 'netavark']).stdout.toString().trim();
  const version = `${(await must([bin, '--version'])).trim()}${deb ? ` (Debian ${deb})` : ''}`;
  const host = await LabHost.create('nv');
  try {
    const cfg = `${host.dir}/netavark`;
    mkdirSync(cfg, { recursive: true });
    const options = (id: string, ip: string, ports: boolean) =>
      JSON.stringify({
        container_id: id.padEnd(64, '0'),
        container_name: `bench-${id}`,
        port_mappings: ports ? [{ host_ip: '', container_port: 80, host_port: 8080, range: 1, protocol: 'tcp' }] : [],
        networks: { bench: { static_ips: [ip], interface_name: 'eth0' } },
        network_info: {
          bench: {
            name: 'bench',
            id: 'b'.repeat(64),
            driver: 'bridge',
            network_interface: 'bench0',
            subnets: [{ subnet: `${NETAVARK_SUBNET}.0/24`, gateway: `${NETAVARK_SUBNET}.1` }],
            ipv6_enabled: false,
            internal: false,
            dns_enabled: false,
            ipam_options: { driver: 'host-local' },
          },
        },
      });
    const netavark = (cmd: 'setup' | 'teardown', nsPath: string, input: string) => () =>
      host.exec([bin, '--config', cfg, cmd, nsPath], { input, timeoutMs: 60_000 });

    const run = async (): Promise<EndpointTimes> => {
      const setup: number[] = [];
      const teardown: number[] = [];
      const input = options('e1', `${NETAVARK_SUBNET}.2`, true);
      for (let i = 0; i <= n; i++) {
        await withContainerNs(host, i, async (nsPath) => {
          const s = await timed('netavark setup', netavark('setup', nsPath, input));
          if (i === 0) {
            if (!s.out.includes(`${NETAVARK_SUBNET}.2/24`)) throw new Error(`netavark setup answered ${s.out}`);
            await checkEndpoint(host, nsPath, `${NETAVARK_SUBNET}.2`, 80, 8080);
          }
          const t = await timed('netavark teardown', netavark('teardown', nsPath, input));
          if (i > 0) {
            setup.push(s.ms);
            teardown.push(t.ms);
          }
        });
      }
      return { setup, teardown, version };
    };

    if (opts.keepBridge === false) return await run();
    // The anchor: another container on the network, attached for the whole run.
    return await withContainerNs(host, 999999, async (anchor) => {
      const input = options('e0', `${NETAVARK_SUBNET}.3`, false);
      await timed('netavark setup (anchor)', netavark('setup', anchor, input));
      try {
        return await run();
      } finally {
        await netavark('teardown', anchor, input)();
      }
    });
  } finally {
    await dropContainerNamespaces(host);
    await host.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// CNI reference plugins

const CNI_SUBNET = '10.214.0';

/**
 * The CNI reference plugins (bridge with ipMasq, host-local IPAM, portmap with the portMappings
 * capability) as a chained conflist, driven the way libcni does it: ADD runs bridge, then portmap
 * with bridge's result as prevResult; DEL runs portmap, then bridge, each with the ADD's final
 * result as prevResult. Setup = both ADDs, teardown = both DELs. The plugins run in a lab host
 * (nsenter --net); host-local keeps its leases in a data dir in the lab host's /tmp dir.
 *
 * Each iteration uses a fresh container network namespace, created and deleted outside the timed
 * part. keepBridge (default true) as for netavarkEndpoint; it changes little here, as the CNI bridge
 * plugin never removes its bridge and the ipMasq and portmap chains are per container anyway.
 */
export async function cniEndpoint(n: number, opts: { keepBridge?: boolean } = {}): Promise<EndpointTimes> {
  need(['containernetworking-plugins', 'iptables']);
  const cniPath = '/usr/lib/cni';
  const version = `containernetworking-plugins ${spawnSync('dpkg-query', ['-W', '-f=${Version}', 'containernetworking-plugins']).stdout.toString().trim()}`;
  const host = await LabHost.create('cni');
  try {
    const dataDir = `${host.dir}/cni-ipam`;
    mkdirSync(dataDir, { recursive: true });
    const cniVersion = '1.0.0';
    const name = 'bench';
    const plugins: Record<string, unknown>[] = [
      {
        type: 'bridge',
        bridge: 'cni-bench0',
        isGateway: true,
        ipMasq: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: `${CNI_SUBNET}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }], dataDir },
      },
      { type: 'portmap', capabilities: { portMappings: true }, snat: true },
    ];
    // The conflist itself, for a look while the lab host lives.
    writeFileSync(`${host.dir}/bench.conflist`, JSON.stringify({ cniVersion, name, plugins }, null, 2));

    /** The stdin of one plugin: its conf, plus name, cniVersion, runtimeConfig for its capabilities, prevResult. */
    const confFor = (p: Record<string, unknown>, prevResult: unknown, ports: boolean): string => {
      const c: Record<string, unknown> = { cniVersion, name, ...p };
      delete c.capabilities;
      const caps = (p.capabilities ?? {}) as Record<string, boolean>;
      if (caps.portMappings) c.runtimeConfig = { portMappings: ports ? [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] : [] };
      if (prevResult !== undefined) c.prevResult = prevResult;
      return JSON.stringify(c);
    };
    const invoke = (cmd: 'ADD' | 'DEL', p: Record<string, unknown>, id: string, nsPath: string, input: string) =>
      host.exec([`${cniPath}/${p.type as string}`], {
        input,
        timeoutMs: 60_000,
        env: { PATH: process.env.PATH, CNI_COMMAND: cmd, CNI_CONTAINERID: id, CNI_NETNS: nsPath, CNI_IFNAME: 'eth0', CNI_PATH: cniPath, CNI_ARGS: '' },
      });
    /** ADD through the chain; returns the final result (libcni caches it for DEL). */
    const add = async (id: string, nsPath: string, ports: boolean): Promise<{ ms: number; result: unknown }> => {
      let prev: unknown;
      let ms = 0;
      for (const p of plugins) {
        const r = await timed(`CNI ${p.type as string} ADD`, () => invoke('ADD', p, id, nsPath, confFor(p, prev, ports)));
        ms += r.ms;
        prev = JSON.parse(r.out);
      }
      return { ms, result: prev };
    };
    const del = async (id: string, nsPath: string, result: unknown, ports: boolean): Promise<number> => {
      let ms = 0;
      for (const p of [...plugins].reverse()) ms += (await timed(`CNI ${p.type as string} DEL`, () => invoke('DEL', p, id, nsPath, confFor(p, result, ports)))).ms;
      return ms;
    };

    const run = async (): Promise<EndpointTimes> => {
      const setup: number[] = [];
      const teardown: number[] = [];
      for (let i = 0; i <= n; i++) {
        const id = `bench${i}`.padEnd(64, 'e');
        await withContainerNs(host, i, async (nsPath) => {
          const a = await add(id, nsPath, true);
          if (i === 0) {
            const ips = ((a.result as { ips?: { address: string }[] }).ips ?? []).map((x) => x.address.split('/')[0]);
            if (ips.length !== 1) throw new Error(`CNI ADD answered ${JSON.stringify(a.result)}`);
            await checkEndpoint(host, nsPath, ips[0], 80, 8080);
          }
          const d = await del(id, nsPath, a.result, true);
          if (i > 0) {
            setup.push(a.ms);
            teardown.push(d);
          }
        });
      }
      return { setup, teardown, version };
    };

    if (opts.keepBridge === false) return await run();
    return await withContainerNs(host, 999999, async (anchor) => {
      const id = 'anchor'.padEnd(64, 'a');
      const a = await add(id, anchor, false);
      try {
        return await run();
      } finally {
        await del(id, anchor, a.result, false);
      }
    });
  } finally {
    await dropContainerNamespaces(host);
    await host.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// Docker

export type DockerMode = 'bridge' | 'publish' | 'host' | 'none' | 'container';

const DOCKER_MODES: Record<DockerMode, string[]> = {
  bridge: [],
  publish: ['-p', '8080:80'],
  host: ['--network', 'host'],
  none: ['--network', 'none'],
  container: ['--network', 'container:anchor'],
};

/** What of the root network namespace a stray docker.service would change. */
export interface RootState {
  ruleset: string;
  links: string[];
  /** dockerd/containerd processes in the root network namespace */
  daemons: Map<number, string>;
}

export function rootState(): RootState {
  const ruleset = spawnSync('nft', ['list', 'ruleset']).stdout?.toString() ?? '';
  const links = (spawnSync('ip', ['-o', 'link', 'show']).stdout?.toString() ?? '')
    .split('\n')
    .map((l) => l.split(':')[1]?.trim().split('@')[0])
    .filter((x): x is string => !!x);
  const rootNet = readlinkOr('/proc/self/ns/net');
  const daemons = new Map<number, string>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const comm = readOr(`/proc/${d}/comm`).trim();
    if (!/^(dockerd|containerd|docker-proxy)$/.test(comm)) continue;
    if (readlinkOr(`/proc/${d}/ns/net`) === rootNet) daemons.set(Number(d), readOr(`/proc/${d}/cmdline`).replace(/\0/g, ' ').trim());
  }
  return { ruleset, links, daemons };
}

function readOr(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

function readlinkOr(p: string): string {
  try {
    return readlinkSync(p);
  } catch {
    return '';
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Compares the root namespace with its state before a docker.io install and undoes what a started
 * docker.service/containerd.service did: stops the daemons that appeared (by PID), deletes a docker0
 * that appeared and the nft tables that appeared. Returns what was found (empty: nothing started).
 */
export async function undoStrayServices(before: RootState): Promise<string[]> {
  const after = rootState();
  const found: string[] = [];
  for (const [pid, args] of after.daemons) {
    if (before.daemons.has(pid)) continue;
    found.push(`process ${pid} (${args}) started in the root namespace: stopped`);
    await stopPid(pid);
  }
  // Only what docker makes is removed; anything else that changed is reported, not touched.
  for (const l of after.links) {
    if (before.links.includes(l)) continue;
    if (/^(docker0|br-[0-9a-f]{12})$/.test(l)) {
      found.push(`link ${l} appeared in the root namespace: deleted`);
      spawnSync('ip', ['link', 'del', l]);
    } else found.push(`link ${l} appeared in the root namespace: left alone (not docker's)`);
  }
  if (after.ruleset !== before.ruleset) {
    const tables = (r: string) => new Set(r.split('\n').filter((l) => l.startsWith('table ')).map((l) => l.replace(/\s*\{\s*$/, '')));
    const old = tables(before.ruleset);
    for (const t of tables(after.ruleset)) {
      if (old.has(t)) continue;
      const [, family, name] = t.split(/\s+/);
      const body = spawnSync('nft', ['list', 'table', family, name]).stdout?.toString() ?? '';
      if (/DOCKER/.test(body)) {
        found.push(`nft ${t} (docker's chains) appeared in the root namespace: deleted`);
        spawnSync('nft', ['delete', 'table', family, name]);
      } else found.push(`nft ${t} appeared in the root namespace: left alone (no docker chains)`);
    }
    if (rootState().ruleset !== before.ruleset) found.push('the root namespace ruleset still differs from before the install: not restored, needs a look');
  }
  return found;
}

/** Paths outside our dirs that dockerd/containerd create on first use; removed afterwards if they were not there before. */
const DOCKER_HOST_PATHS = ['/etc/docker/key.json', '/run/docker', '/run/containerd'];

/** Removes path if it is a file, or a tree of empty directories (never a directory with files in it). */
function removeIfOurs(p: string): void {
  let st;
  try {
    st = lstatSync(p);
  } catch {
    return;
  }
  if (!st.isDirectory()) {
    rmSync(p, { force: true });
    return;
  }
  for (const e of readdirSync(p)) {
    const c = `${p}/${e}`;
    if (lstatSync(c).isDirectory()) removeIfOurs(c);
  }
  try {
    rmdirSync(p);
  } catch {
    /* not empty: something else uses it; leave it */
  }
}

/** Removes a cgroup (v1: one per hierarchy, v2: the unified tree), deepest first; they are empty once their tasks are gone. */
function removeCgroup(rel: string): void {
  const roots = readdirSync('/sys/fs/cgroup').map((h) => `/sys/fs/cgroup/${h}`);
  roots.push('/sys/fs/cgroup');
  for (const r of roots) {
    const top = `${r}${rel}`;
    if (!existsSync(top) || !lstatSync(top).isDirectory()) continue;
    const dirs: string[] = [];
    const walk = (d: string) => {
      dirs.push(d);
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(`${d}/${e.name}`);
    };
    walk(top);
    for (const d of dirs.reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* still has tasks: left */
      }
    }
  }
}

/** What a body run against a bench dockerd gets. */
export interface DockerCtx {
  host: LabHost;
  docker: (args: string[], timeoutMs?: number) => Promise<Result>;
  /** runs the docker CLI and fails on a non-zero exit */
  must: (args: string[]) => Promise<string>;
  dockerdPid: number;
  version: string;
}

/**
 * Runs `body` against a dockerd of Debian's docker.io in a lab host of its own (see dockerStart);
 * `prepare` wires the host first (links to other hosts), `daemonJson` is its config file. Cleans
 * up everything after, also on failure; `skipped` with the reason when Docker cannot run here.
 */
export async function withDockerd<T>(opts: { daemonJson?: Record<string, unknown>; prepare?: (h: LabHost) => Promise<void> }, body: (d: DockerCtx) => Promise<T>): Promise<T | { skipped: string }> {
  const before = rootState();
  const inst = installDebs(['docker.io', 'busybox-static', 'iptables', 'tini']);
  const stray = await undoStrayServices(before);
  if (stray.length) {
    const msg = `installing docker.io started services in the root namespace (undone): ${stray.join('; ')}`;
    process.stderr.write(`bench: ${msg}\n`);
    return { skipped: msg };
  }
  if (!inst.ok) return { skipped: inst.error ?? 'docker.io could not be installed' };
  for (const b of ['dockerd', 'docker', 'tini']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return { skipped: `${b} not found` };
  // With no --containerd, dockerd 20.10 uses a system containerd when this socket exists; we want our own.
  if (existsSync('/run/containerd/containerd.sock')) return { skipped: 'a system containerd is running (/run/containerd/containerd.sock): dockerd would use it instead of its own' };

  const hadPath = new Map(DOCKER_HOST_PATHS.map((p) => [p, existsSync(p)]));
  let host: LabHost | undefined;
  let tini: ChildProcess | undefined;
  let dockerdPid = 0;
  let log = '';
  const cgroupParent = `/${RUN_ID}-docker-${process.pid}`;
  try {
    try {
      host = await LabHost.create('dk');
    } catch (e) {
      return { skipped: `no lab host: ${(e as Error).message}` };
    }
    const h = host;
    await opts.prepare?.(h);
    const data = `${h.dir}/docker`;
    const exec = `${h.execRoot}/d`;
    const sock = `${h.execRoot}/docker.sock`;
    const pidfile = `${h.execRoot}/docker.pid`;
    mkdirSync(h.execRoot, { recursive: true });
    mkdirSync(`${h.dir}/cli`, { recursive: true });
    writeFileSync(`${h.dir}/daemon.json`, `${JSON.stringify(opts.daemonJson ?? {})}\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: `${h.dir}/cli` };
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_API_VERSION;
    const docker = (args: string[], timeoutMs = 60_000) => sh(['docker', ...args], { env, timeoutMs });
    tini = spawn('nsenter', [`--net=${h.netnsPath}`, 'tini', '-s', '--', 'dockerd', '--config-file', `${h.dir}/daemon.json`, '--data-root', data, '--exec-root', exec,
      '-H', `unix://${sock}`, '--pidfile', pidfile, '--cgroup-parent', cgroupParent, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
    tini.stdout!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    tini.stderr!.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-20_000)));
    const deadline = Date.now() + 60_000;
    let server = '';
    while (Date.now() < deadline) {
      if (tini.exitCode !== null || tini.signalCode !== null) return { skipped: `dockerd exited ${tini.exitCode ?? tini.signalCode}: ${log.trim().split('\n').slice(-5).join(' / ')}` };
      if (existsSync(sock)) {
        const r = await docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Client.Version}} {{.Client.APIVersion}}'], 10_000);
        if (r.code === 0) {
          server = r.stdout.trim();
          break;
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    if (!server) return { skipped: `dockerd did not answer within 60 s: ${log.trim().split('\n').slice(-5).join(' / ')}` };
    dockerdPid = Number(readOr(pidfile).trim()) || 0;
    const [serverVersion, serverApi, clientVersion, clientApi] = server.split(' ');
    // The CLI negotiates the API version down to the daemon's (HEAD /_ping → Api-Version).
    if (clientApi !== serverApi) return { skipped: `docker CLI ${clientVersion} speaks API ${clientApi}, dockerd ${serverVersion} ${serverApi}` };
    const parts = (await docker(['version', '--format', '{{range .Server.Components}}{{.Name}} {{.Version}};{{end}}'])).stdout.trim();
    const comp = new Map(parts.split(';').filter(Boolean).map((x) => x.trim().split(' ') as [string, string]));
    const version = `docker.io ${serverVersion} (API ${serverApi}, containerd ${comp.get('containerd') ?? '?'}, runc ${comp.get('runc') ?? '?'}), docker CLI ${clientVersion}`;

    const must = async (args: string[]) => {
      const r = await docker(args);
      if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
      return r.stdout;
    };
    return await body({ host: h, docker, must, dockerdPid, version });
  } catch (e) {
    throw new Error(`${(e as Error).message}${log ? `\ndockerd: ${log.trim().split('\n').slice(-10).join('\n')}` : ''}`);
  } finally {
    if (host) {
      const h = host;
      const env = { ...process.env, DOCKER_HOST: `unix://${h.execRoot}/docker.sock`, DOCKER_CONFIG: `${h.dir}/cli` };
      if (tini && tini.exitCode === null && tini.signalCode === null) {
        const ids = (await sh(['docker', 'ps', '-aq'], { env, timeoutMs: 30_000 })).stdout.split('\n').filter(Boolean);
        if (ids.length) await sh(['docker', 'rm', '-f', ...ids], { env, timeoutMs: 60_000 });
      }
      const containerdPid = Number(readOr(`${h.execRoot}/d/containerd/containerd.pid`).trim()) || 0;
      if (tini) {
        const t = tini;
        const exited = t.exitCode !== null || t.signalCode !== null ? Promise.resolve() : new Promise((r) => t.once('exit', r));
        if (dockerdPid) await stopPid(dockerdPid, 30_000);
        else if (t.pid) await stopPid(t.pid, 30_000);
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
        if (t.pid) await stopPid(t.pid, 5_000);
      }
      if (containerdPid) await stopPid(containerdPid);
      // Shims (and their containers) of our containerd, should any remain: their args name our exec-root.
      for (const d of readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        const args = readOr(`/proc/${d}/cmdline`).replace(/\0/g, ' ');
        if (args.startsWith('/usr/bin/containerd-shim') && args.includes(`${h.execRoot}/`)) await stopPid(Number(d), 5_000);
      }
      await dropContainerNamespaces(h);
      await h.destroy();
    }
    removeCgroup(cgroupParent);
    for (const [p, had] of hadPath) if (!had) removeIfOurs(p);
    const after = rootState();
    if (after.ruleset !== before.ruleset || after.links.join() !== before.links.join() || [...after.daemons.keys()].some((p) => !before.daemons.has(p))) {
      process.stderr.write('bench: WARNING: the root namespace changed during dockerStart (nft ruleset, links or daemons); look at it\n');
    }
  }
}

/**
 * `docker run --rm busybox true` wall time per network mode, Debian's docker.io (20.10) driven by the
 * docker CLI on PATH (API version negotiated down to the daemon's). dockerd runs in a lab host
 * (nsenter --net) with its data-root, exec-root, socket, pidfile, config file and cgroup parent all
 * of its own, and starts its own containerd (state under those dirs): docker0, the veths and the
 * iptables rules live in the lab host. There is no registry: the busybox image is `docker import`ed
 * from a rootfs made of Debian's busybox-static. n runs per mode after one warm-up round, the modes
 * interleaved round by round so that noise from the rest of the machine spreads over all of them.
 *
 * dockerd is started under `tini -s` (a child subreaper): the containerd shims it orphans are reaped
 * there instead of lingering as zombies of PID 1.
 *
 * docker.io is installed when missing, with no service allowed to start (policy-rc.d); afterwards the
 * root namespace is checked (no dockerd/containerd in it, no docker0, same nft ruleset) and anything a
 * started service made is undone, and then this returns skipped with what was found.
 */
export async function dockerStart(n: number): Promise<{ modes: Record<DockerMode, number[]>; version: string } | { skipped: string }> {
  const busybox = findBin('busybox', ['/bin/busybox']);
  return withDockerd({}, async ({ host: h, docker, must: must0, version }) => {
    // The image: busybox-static as /bin/busybox, and the applets we run as links to it.
    const rootfs = `${h.dir}/rootfs`;
    mkdirSync(`${rootfs}/bin`, { recursive: true });
    copyFileSync(busybox, `${rootfs}/bin/busybox`);
    chmodSync(`${rootfs}/bin/busybox`, 0o755);
    for (const a of ['sh', 'true', 'sleep', 'ip', 'cat']) symlinkSync('busybox', `${rootfs}/bin/${a}`);
    for (const d of ['etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(`${rootfs}/${d}`, { recursive: true });
    await must(['tar', '-C', rootfs, '-cf', `${h.dir}/busybox.tar`, '.']);
    const imp = await docker(['import', '-c', 'CMD ["sh"]', `${h.dir}/busybox.tar`, 'busybox:latest']);
    if (imp.code !== 0) throw new Error(`docker import: ${imp.stderr.trim()}`);

    await must0(['run', '-d', '--name', 'anchor', 'busybox', 'sleep', '3600']);

    // Untimed: a bridge container has an address, a published port has its DNAT rule in the lab host.
    const addr = await must0(['run', '--rm', 'busybox', 'ip', '-o', '-4', 'addr', 'show', 'eth0']);
    const ip = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(addr)?.[1];
    if (!ip) throw new Error(`bridge container has no IPv4 address on eth0: ${addr.trim()}`);
    await must0(['run', '-d', '--name', 'pubcheck', '-p', '8080:80', 'busybox', 'sleep', '3600']);
    const pubIp = (await must0(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'pubcheck'])).trim();
    const rules = await h.run(['nft', 'list', 'ruleset']);
    if (!new RegExp(`tcp dport 8080\\b.*dnat to ${pubIp.replace(/\./g, '\\.')}:80\\b`).test(rules)) throw new Error(`no DNAT rule 8080 -> ${pubIp}:80 in the test host`);
    await must0(['rm', '-f', 'pubcheck']);

    const modes = Object.fromEntries(Object.keys(DOCKER_MODES).map((m) => [m, [] as number[]])) as Record<DockerMode, number[]>;
    for (let round = 0; round <= n; round++) {
      for (const [mode, args] of Object.entries(DOCKER_MODES) as [DockerMode, string[]][]) {
        const t = await timed(`docker run ${mode}`, () => docker(['run', '--rm', ...args, 'busybox', 'true']));
        if (round > 0) modes[mode].push(t.ms);
      }
    }
    return { modes, version };
  });
}

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
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { LabHost, sh, must, type Result } from '../scripts/lab';
import { DOCKER_HOST_PATHS, ensureDocker, LabDocker, removeIfOurs, rootState } from '../scripts/lab-docker';
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
export interface DockerCtx {
  host: LabHost;
  docker: (args: string[], timeoutMs?: number) => Promise<Result>;
  /** runs the docker CLI and fails on a non-zero exit */
  must: (args: string[]) => Promise<string>;
  dockerdPid: number;
  version: string;
  /** `docker import`s busybox:latest from a rootfs of Debian's busybox-static */
  importBusybox: () => Promise<void>;
}

/**
 * Runs `body` with Debian's dockerd 20.10 in a fresh lab host (scripts/lab-docker.ts: installed with
 * no service allowed to start, run under `tini -s`); `prepare` wires the host before dockerd starts.
 * Afterwards the root namespace is checked against its state before (no daemons, links or rules
 * of docker's left). Skipped, with the reason, when docker cannot run here.
 */
export async function withDockerd<T>(opts: { daemonJson?: Record<string, unknown>; prepare?: (h: LabHost) => Promise<void> }, body: (d: DockerCtx) => Promise<T>): Promise<T | { skipped: string }> {
  const before = rootState();
  const why = await ensureDocker();
  if (why) return { skipped: why };
  const hadPath = new Map(DOCKER_HOST_PATHS.map((p) => [p, existsSync(p)]));
  let host: LabHost | undefined;
  let dk: LabDocker | undefined;
  try {
    try {
      host = await LabHost.create('dk');
    } catch (e) {
      return { skipped: `no lab host: ${(e as Error).message}` };
    }
    const h = host;
    await opts.prepare?.(h);
    dk = new LabDocker(h, { daemonJson: opts.daemonJson });
    let v;
    try {
      v = await dk.start();
    } catch (e) {
      return { skipped: (e as Error).message };
    }
    const { serverVersion, serverApi, clientVersion, clientApi } = v;
    // The CLI negotiates the API version down to the daemon's (HEAD /_ping → Api-Version).
    if (clientApi !== serverApi) return { skipped: `docker CLI ${clientVersion} speaks API ${clientApi}, dockerd ${serverVersion} ${serverApi}` };
    const d = dk;
    const docker = (args: string[], timeoutMs = 60_000) => d.docker(args, timeoutMs);
    const parts = (await docker(['version', '--format', '{{range .Server.Components}}{{.Name}} {{.Version}};{{end}}'])).stdout.trim();
    const comp = new Map(parts.split(';').filter(Boolean).map((x) => x.trim().split(' ') as [string, string]));
    const version = `docker.io ${serverVersion} (API ${serverApi}, containerd ${comp.get('containerd') ?? '?'}, runc ${comp.get('runc') ?? '?'}), docker CLI ${clientVersion}`;
    return await body({ host: h, docker, must: (args) => d.must(args), dockerdPid: d.pid, version, importBusybox: () => d.importBusybox() });
  } catch (e) {
    const log = dk?.log ?? '';
    throw new Error(`${(e as Error).message}${log ? `\ndockerd: ${log.trim().split('\n').slice(-10).join('\n')}` : ''}`);
  } finally {
    if (host) {
      await dk?.stop();
      await dropContainerNamespaces(host);
      await host.destroy();
    }
    for (const [p, had] of hadPath) if (!had) removeIfOurs(p);
    const after = rootState();
    if (after.ruleset !== before.ruleset || after.links.join() !== before.links.join() || [...after.daemons.keys()].some((p) => !before.daemons.has(p))) {
      process.stderr.write('bench: WARNING: the root namespace changed during a dockerd run (nft ruleset, links or daemons); look at it\n');
    }
  }
}

/** `docker run --rm busybox true` wall time per network mode (see above). */
export async function dockerStart(n: number): Promise<{ modes: Record<DockerMode, number[]>; version: string } | { skipped: string }> {
  return withDockerd({}, async (d) => ({ modes: await dockerModes(d, n), version: d.version }));
}

async function dockerModes({ host: h, docker, must: must0, importBusybox }: DockerCtx, n: number): Promise<Record<DockerMode, number[]>> {
  // The image: busybox-static as /bin/busybox, and the applets we run as links to it.
  await importBusybox();
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
  return modes;
}

/**
 * Docker in a lab host (scripts/lab.ts), for the benchmark (bench/peers.ts) and the Docker-plugin
 * tests: Debian's docker.io installed without letting a service start, and dockerd run inside a
 * test host under `tini -s` with its data-root, exec-root, socket, pidfile, config file and cgroup
 * parent all of its own, starting its own containerd. Nothing of it touches the root namespace:
 * the root's nft ruleset, links and daemons are compared before and after and whatever a stray
 * service made is undone (and reported).
 *
 * A test host can also get a mount namespace of its own (MountNs): private tmpfs on /run/docker,
 * /run/containerd and /etc/docker, so that each dockerd sees only its own plugin directory
 * (/run/docker/plugins), sandbox keys and containerd, and leaves nothing in the machine's paths.
 * Processes that must share it (ctrnetd with --docker-plugin, dockerd) are started with
 * `nsenter --net --mount`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { LabHost, RUN_ID, sh, must, type Result } from './lab';

/**
 * Installs missing Debian packages. Waits for the dpkg lock (other sessions on this machine may be
 * installing at the same time) and never lets a package's maintainer scripts start a service: a
 * policy-rc.d that answers 101 ("action forbidden") is put in place for the install when none
 * exists, and removed again afterwards.
 */
export function installDebs(pkgs: string[]): { ok: boolean; error?: string } {
  const missing = pkgs.filter((p) => !/ok installed/.test(spawnSync('dpkg-query', ['-W', '-f=${Status}', p]).stdout?.toString() ?? ''));
  if (missing.length === 0) return { ok: true };
  process.stderr.write(`lab: installing ${missing.join(' ')}\n`);
  const policy = '/usr/sbin/policy-rc.d';
  const ours = !existsSync(policy);
  if (ours) writeFileSync(policy, '#!/bin/sh\n# temporary, from ctrnet scripts/lab-docker.ts: no service starts during the install\nexit 101\n', { mode: 0o755 });
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const lock = ['-o', 'DPkg::Lock::Timeout=300'];
    spawnSync('apt-get', [...lock, 'update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env, timeout: 300_000 });
    const r = spawnSync('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'pipe'], env, timeout: 540_000 });
    if (r.status !== 0) return { ok: false, error: `apt-get install ${missing.join(' ')} failed: ${r.stderr?.toString().trim().split('\n').slice(-3).join(' / ') || `status ${r.status}`}` };
    return { ok: true };
  } finally {
    if (ours) spawnSync('rm', ['-f', policy]);
  }
}

// ---------------------------------------------------------------------------------------------
// the root namespace, before and after

/** What of the root network namespace a stray docker.service would change. */
export interface RootState {
  ruleset: string;
  links: string[];
  /** dockerd/containerd processes in the root network namespace */
  daemons: Map<number, string>;
}

export function readOr(p: string): string {
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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** SIGTERM, then SIGKILL after the grace time: one process of ours, by PID. */
export async function stopPid(pid: number, graceMs = 15_000): Promise<void> {
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

/**
 * docker.io (and what runs it here) installed, with the root namespace checked afterwards: an
 * error text when it cannot be used (a stray service was started and undone, a package is missing,
 * a system containerd would be used instead of dockerd's own).
 */
export async function ensureDocker(): Promise<string | undefined> {
  const before = rootState();
  const inst = installDebs(['docker.io', 'busybox-static', 'iptables', 'tini']);
  const stray = await undoStrayServices(before);
  if (stray.length) {
    const msg = `installing docker.io started services in the root namespace (undone): ${stray.join('; ')}`;
    process.stderr.write(`lab: ${msg}\n`);
    return msg;
  }
  if (!inst.ok) return inst.error ?? 'docker.io could not be installed';
  for (const b of ['dockerd', 'docker', 'tini']) if (spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0) return `${b} not found`;
  return undefined;
}

/** Paths outside our dirs that dockerd/containerd create on first use; removed afterwards if they were not there before. */
export const DOCKER_HOST_PATHS = ['/etc/docker/key.json', '/run/docker', '/run/containerd'];

/** Removes path if it is a file, or a tree of empty directories (never a directory with files in it). */
export function removeIfOurs(p: string): void {
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
export function removeCgroup(rel: string): void {
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

// ---------------------------------------------------------------------------------------------
// a mount namespace of a test host

/**
 * A private mount namespace held by a sleeping process of ours, entered in the test host's network
 * namespace, with tmpfs on /run/docker, /run/containerd and /etc/docker: Docker's fixed paths.
 */
export class MountNs {
  private constructor(private readonly holder: ChildProcess) {}

  static async create(host: LabHost): Promise<MountNs> {
    const script = 'for d in /run/docker /run/containerd /etc/docker; do mkdir -p $d && mount -t tmpfs -o mode=0711 tmpfs $d || exit 1; done; echo ready; exec sleep 86400';
    const c = spawn('nsenter', [`--net=${host.netnsPath}`, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    c.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      c.stdout!.once('data', () => resolve());
      c.once('exit', (code) => reject(new Error(`mount namespace for ${host.ns}: exited ${code}: ${err.trim()}`)));
    });
    return new MountNs(c);
  }

  /** /proc/PID/ns/mnt of the holder. */
  get path(): string {
    return `/proc/${this.holder.pid}/ns/mnt`;
  }

  /** The nsenter prefix that runs a command in the test host with this mount namespace. */
  enter(host: LabHost): string[] {
    return ['nsenter', `--net=${host.netnsPath}`, `--mount=${this.path}`];
  }

  /** Ends the holder: the namespace and its tmpfs go when its last process is gone. */
  async destroy(): Promise<void> {
    if (this.holder.pid) await stopPid(this.holder.pid, 2000);
  }
}

// ---------------------------------------------------------------------------------------------
// dockerd in a test host

export interface LabDockerOptions {
  /** run dockerd (and its containerd) in this mount namespace */
  mountNs?: MountNs;
  /** dockerd's log level (default warn) */
  logLevel?: string;
  /** dockerd's daemon.json (default {}) */
  daemonJson?: Record<string, unknown>;
}

/** dockerd (Debian's 20.10) in a lab host, started under `tini -s`, driven by the docker CLI on PATH. */
export class LabDocker {
  private tini?: ChildProcess;
  /** dockerd's PID once started (0 before) */
  pid = 0;
  private logText = '';
  readonly sock: string;
  private readonly cgroupParent = `/${RUN_ID}-docker-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  constructor(
    readonly host: LabHost,
    private readonly opts: LabDockerOptions = {},
  ) {
    this.sock = `${host.execRoot}/docker.sock`;
  }

  get log(): string {
    return this.logText;
  }

  get env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${this.sock}`, DOCKER_CONFIG: `${this.host.dir}/cli` };
    delete env.DOCKER_CONTEXT;
    delete env.DOCKER_API_VERSION;
    return env;
  }

  docker(args: string[], timeoutMs = 60_000): Promise<Result> {
    return sh(['docker', ...args], { env: this.env, timeoutMs });
  }

  async must(args: string[], timeoutMs?: number): Promise<string> {
    const r = await this.docker(args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Starts dockerd; resolves with `docker version`'s server/client versions, or rejects with its log's tail. */
  async start(): Promise<{ serverVersion: string; serverApi: string; clientVersion: string; clientApi: string }> {
    const h = this.host;
    // With no --containerd, dockerd 20.10 uses a system containerd when this socket exists; we want our own.
    if (!this.opts.mountNs && existsSync('/run/containerd/containerd.sock')) throw new Error('a system containerd is running (/run/containerd/containerd.sock): dockerd would use it instead of its own');
    mkdirSync(h.execRoot, { recursive: true });
    mkdirSync(`${h.dir}/cli`, { recursive: true });
    writeFileSync(`${h.dir}/daemon.json`, `${JSON.stringify(this.opts.daemonJson ?? {})}\n`);
    const enter = this.opts.mountNs ? this.opts.mountNs.enter(h) : ['nsenter', `--net=${h.netnsPath}`];
    const argv = [...enter, 'tini', '-s', '--', 'dockerd', '--config-file', `${h.dir}/daemon.json`, '--data-root', `${h.dir}/docker`, '--exec-root', `${h.execRoot}/d`,
      '-H', `unix://${this.sock}`, '--pidfile', `${h.execRoot}/docker.pid`, '--cgroup-parent', this.cgroupParent, '--log-level', this.opts.logLevel ?? 'warn'];
    const t = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.tini = t;
    t.stdout!.on('data', (d: Buffer) => (this.logText = (this.logText + d.toString()).slice(-50_000)));
    t.stderr!.on('data', (d: Buffer) => (this.logText = (this.logText + d.toString()).slice(-50_000)));
    const tail = () => this.logText.trim().split('\n').slice(-5).join(' / ');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (t.exitCode !== null || t.signalCode !== null) throw new Error(`dockerd exited ${t.exitCode ?? t.signalCode}: ${tail()}`);
      if (existsSync(this.sock)) {
        const r = await this.docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}} {{.Client.Version}} {{.Client.APIVersion}}'], 10_000);
        if (r.code === 0) {
          this.pid = Number(readOr(`${h.execRoot}/docker.pid`).trim()) || 0;
          const [serverVersion, serverApi, clientVersion, clientApi] = r.stdout.trim().split(' ');
          return { serverVersion, serverApi, clientVersion, clientApi };
        }
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`dockerd did not answer within 60 s: ${tail()}`);
  }

  /** The busybox image, `docker import`ed from a rootfs of Debian's busybox-static (no registry). */
  async importBusybox(applets = ['sh', 'true', 'sleep', 'ip', 'cat']): Promise<void> {
    const h = this.host;
    const rootfs = `${h.dir}/rootfs`;
    mkdirSync(`${rootfs}/bin`, { recursive: true });
    const busybox = existsSync('/bin/busybox') ? '/bin/busybox' : spawnSync('sh', ['-c', 'command -v busybox']).stdout.toString().trim();
    copyFileSync(busybox, `${rootfs}/bin/busybox`);
    chmodSync(`${rootfs}/bin/busybox`, 0o755);
    for (const a of applets) if (!existsSync(`${rootfs}/bin/${a}`)) symlinkSync('busybox', `${rootfs}/bin/${a}`);
    for (const d of ['etc', 'proc', 'sys', 'dev', 'tmp']) mkdirSync(`${rootfs}/${d}`, { recursive: true });
    await must(['tar', '-C', rootfs, '-cf', `${h.dir}/busybox.tar`, '.']);
    const imp = await this.docker(['import', '-c', 'CMD ["sh"]', `${h.dir}/busybox.tar`, 'busybox:latest']);
    if (imp.code !== 0) throw new Error(`docker import: ${imp.stderr.trim()}`);
  }

  /** Removes its containers, stops dockerd, its containerd and their shims (by PID), and its cgroups. */
  async stop(): Promise<void> {
    const h = this.host;
    const t = this.tini;
    if (t && t.exitCode === null && t.signalCode === null) {
      const ids = (await this.docker(['ps', '-aq'], 30_000)).stdout.split('\n').filter(Boolean);
      if (ids.length) await this.docker(['rm', '-f', ...ids], 60_000);
    }
    const containerdPid = Number(readOr(`${h.execRoot}/d/containerd/containerd.pid`).trim()) || 0;
    if (t) {
      const exited = t.exitCode !== null || t.signalCode !== null ? Promise.resolve() : new Promise((r) => t.once('exit', r));
      if (this.pid) await stopPid(this.pid, 30_000);
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
    this.tini = undefined;
    removeCgroup(this.cgroupParent);
  }
}

/**
 * Lab hosts: throwaway network namespaces, each with its own ctrnetd, used by the tests and the
 * tour to simulate machines. Nothing here touches the root namespace's network: every link,
 * address, route and rule is made inside namespaces created here, and `destroy()` removes them
 * with everything the daemons made (containers, shims, mounts, files), also after a failure.
 */
import { spawn, spawnSync, ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(__dirname, '../..');
export const CTRNETD = path.join(REPO, 'bin/ctrnetd');
export const CTRNET = path.join(REPO, 'bin/ctrnet');

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv and returns its result; never throws for a non-zero exit. */
export function sh(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => err.push(Buffer.from(String(e))));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/** Like sh, but a non-zero exit is an error carrying the output. */
export async function must(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await sh(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

let counter = 0;
/** A per-process prefix so parallel runs never collide: ctnXXXXX */
export const RUN_ID = `ctn${(process.pid % 100000).toString(36)}`;

export class LabHost {
  readonly ns: string;
  readonly dir: string;
  readonly root: string;
  readonly execRoot: string;
  readonly socket: string;
  private daemon?: ChildProcess;
  private daemonLog = '';
  /** a mount namespace of its own (scripts/lab-docker.ts MountNs): /proc/PID/ns/mnt, entered with the network namespace */
  mountNs?: string;

  constructor(label: string) {
    this.ns = `${RUN_ID}-${label}-${counter++}`;
    this.dir = `/tmp/${this.ns}`;
    this.root = `${this.dir}/root`;
    // short: unix socket paths are limited to 107 bytes
    this.execRoot = `/run/${this.ns}`;
    this.socket = `${this.execRoot}/ctrnet.sock`;
  }

  /**
   * A new test host. `ipv6`: IPv6 stays on (lo has ::1, links get it), quietly: no duplicate
   * address detection (no second of "tentative" addresses) and no router advertisements taken.
   */
  static async create(label: string, opts: { ipv6?: boolean } = {}): Promise<LabHost> {
    const h = new LabHost(label);
    await must(['ip', 'netns', 'add', h.ns]);
    try {
      // A quiet host: no IPv6 chatter from the links we add (or IPv6 without DAD and RAs).
      if (opts.ipv6) {
        await h.run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0', 'net.ipv6.conf.all.accept_ra=0', 'net.ipv6.conf.default.accept_ra=0', 'net.ipv6.conf.all.disable_ipv6=0', 'net.ipv6.conf.default.disable_ipv6=0']);
      } else {
        await h.run(['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
      }
      await h.run(['ip', 'link', 'set', 'lo', 'up']);
      mkdirSync(h.dir, { recursive: true });
    } catch (e) {
      await h.destroy();
      throw e;
    }
    return h;
  }

  get netnsPath(): string {
    return `/run/netns/${this.ns}`;
  }

  /** The nsenter prefix of this host: its network namespace (and mount namespace, when it has one). */
  get enter(): string[] {
    return ['nsenter', `--net=${this.netnsPath}`, ...(this.mountNs ? [`--mount=${this.mountNs}`] : [])];
  }

  /** Runs argv inside this host's network namespace (nsenter keeps the cgroup mounts runc needs). */
  exec(argv: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Result> {
    return sh([...this.enter, ...argv], opts);
  }

  run(argv: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    return must([...this.enter, ...argv], opts);
  }

  /** Starts ctrnetd in this host; resolves when its socket answers. */
  async startDaemon(extra: string[] = []): Promise<void> {
    const child = spawn(this.enter[0], [...this.enter.slice(1), process.execPath, CTRNETD, '--root', this.root, '--exec-root', this.execRoot, '-H', `unix://${this.socket}`, ...extra], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.daemon = child;
    child.stdout!.on('data', (d: Buffer) => (this.daemonLog += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.daemonLog += d.toString()));
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`ctrnetd exited ${child.exitCode}: ${this.daemonLog}`);
      if (existsSync(this.socket) && (await this.cli(['version'])).code === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`ctrnetd did not answer within 60 s: ${this.daemonLog}`);
  }

  get log(): string {
    return this.daemonLog;
  }

  /** The PID of the nsenter that runs the daemon; nsenter execs it, so it is the daemon's own. */
  get daemonPid(): number | undefined {
    return this.daemon?.pid;
  }

  /** Stops the daemon like an admin would (SIGTERM), or as a crash (SIGKILL). Containers keep running. */
  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill(signal);
    await exited;
    this.daemon = undefined;
  }

  /** Runs the ctrnet CLI against this host's daemon. */
  cli(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> {
    // Its own CLI config (registry credentials of `ctrnet login`), never the user's. Run as a user
    // runs it (bin/ctrnet's own #! line, which drops what node would load for nothing).
    return sh([CTRNET, ...args], { ...opts, env: { ...process.env, CTRNET_HOST: `unix://${this.socket}`, CTRNET_CONFIG: `${this.dir}/cli-config` } });
  }

  async ctl(args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> {
    const r = await this.cli(args, opts);
    if (r.code !== 0) throw new Error(`ctrnet ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r.stdout;
  }

  /** Removes the host and everything in it; keeps going after errors. */
  async destroy(): Promise<void> {
    if (this.daemon && this.daemon.exitCode === null) {
      await this.cli(['rm', '-f', ...(await this.cli(['ps', '-aq'])).stdout.split('\n').filter(Boolean)], { timeoutMs: 30_000 });
      await this.stopDaemon();
    }
    // Whatever the daemon could not remove: runc containers (their shims exit with them), mounts.
    const runcRoot = `${this.execRoot}/runc`;
    if (existsSync(runcRoot)) {
      for (const id of (await sh(['runc', '--root', runcRoot, 'list', '-q'])).stdout.split('\n').filter(Boolean)) {
        await sh(['runc', '--root', runcRoot, 'delete', '--force', id]);
      }
    }
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m && (m.startsWith(this.dir + '/') || m.startsWith(this.execRoot + '/')));
    for (const m of mounts.reverse()) await sh(['umount', '-l', m]);
    await sh(['ip', 'netns', 'del', this.ns]);
    // `ip netns add` bind-mounts /run/netns on itself the first time; when the last namespace is
    // gone, undo that too, so a machine is left as it was found.
    if (spawnSync('ip', ['netns', 'list']).stdout.toString().trim() === '' && readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === '/run/netns')) {
      await sh(['umount', '/run/netns']);
    }
    rmSync(this.execRoot, { recursive: true, force: true });
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Joins two hosts with a veth pair: a gets A_IP, b gets B_IP (/24); a's default route goes via b.
 * With `v6` the link is dual-stack: a and b also get those IPv6 addresses (/64, without DAD), and
 * a's IPv6 default route goes via b's (IPv6 is turned on for these two ends if their host has it off).
 */
export async function linkHosts(a: LabHost, b: LabHost, aIp: string, bIp: string, mtu = 1500, v6?: { a: string; b: string }): Promise<void> {
  const an = `up${counter}`;
  const bn = `dn${counter++}`;
  await must(['ip', 'link', 'add', an, 'netns', a.ns, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', bn, 'netns', b.ns, 'mtu', String(mtu)]);
  await a.run(['ip', 'addr', 'add', `${aIp}/24`, 'dev', an]);
  await b.run(['ip', 'addr', 'add', `${bIp}/24`, 'dev', bn]);
  if (v6) {
    for (const [h, dev, ip] of [[a, an, v6.a], [b, bn, v6.b]] as const) {
      await h.run(['sysctl', '-q', '-w', `net.ipv6.conf.${dev}.accept_dad=0`, `net.ipv6.conf.${dev}.accept_ra=0`, `net.ipv6.conf.${dev}.disable_ipv6=0`]);
      await h.run(['ip', 'addr', 'add', `${ip}/64`, 'dev', dev, 'nodad']);
    }
  }
  await a.run(['ip', 'link', 'set', an, 'up']);
  await b.run(['ip', 'link', 'set', bn, 'up']);
  await a.run(['ip', 'route', 'add', 'default', 'via', bIp]);
  if (v6) await a.run(['ip', '-6', 'route', 'add', 'default', 'via', v6.b]);
}

/** Everything of this run still alive on the machine: for the leak checks. */
export function leftovers(): string[] {
  const found: string[] = [];
  const ns = spawnSync('ip', ['netns', 'list']).stdout.toString();
  for (const l of ns.split('\n')) if (l.startsWith(RUN_ID)) found.push(`netns ${l.split(' ')[0]}`);
  for (const l of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const m = l.split(' ')[4];
    if (m && m.includes(RUN_ID)) found.push(`mount ${m}`);
  }
  const ps = spawnSync('ps', ['-eo', 'pid=,args=']).stdout.toString();
  for (const l of ps.split('\n')) if (l.includes(RUN_ID) && !l.includes('ps -eo')) found.push(`process ${l.trim()}`);
  return found;
}

/**
 * An underlay "switch": host `sw` gets a bridge sw0 (with `swIp`), and `h` a port on it with `ip`.
 * Used for overlay labs, where several hosts share one L2 segment. With `v6` the segment is
 * dual-stack too (/64 addresses without DAD on the switch and the host).
 */
export async function plugIntoSwitch(sw: LabHost, h: LabHost, ip: string, swIp: string, mtu = 1500, v6?: { ip: string; sw: string }): Promise<void> {
  const on6 = async (host: LabHost, dev: string) => host.run(['sysctl', '-q', '-w', `net.ipv6.conf.${dev}.accept_dad=0`, `net.ipv6.conf.${dev}.accept_ra=0`, `net.ipv6.conf.${dev}.disable_ipv6=0`]);
  if ((await sw.exec(['ip', 'link', 'show', 'sw0'])).code !== 0) {
    await sw.run(['ip', 'link', 'add', 'sw0', 'mtu', String(mtu), 'type', 'bridge']);
    await sw.run(['ip', 'addr', 'add', `${swIp}/24`, 'dev', 'sw0']);
    if (v6) {
      await on6(sw, 'sw0');
      await sw.run(['ip', 'addr', 'add', `${v6.sw}/64`, 'dev', 'sw0', 'nodad']);
    }
    await sw.run(['ip', 'link', 'set', 'sw0', 'up']);
  }
  const port = `p${counter++}`;
  await must(['ip', 'link', 'add', port, 'netns', sw.ns, 'mtu', String(mtu), 'type', 'veth', 'peer', 'name', 'uplink', 'netns', h.ns, 'mtu', String(mtu)]);
  await sw.run(['ip', 'link', 'set', port, 'master', 'sw0']);
  await sw.run(['ip', 'link', 'set', port, 'up']);
  await h.run(['ip', 'addr', 'add', `${ip}/24`, 'dev', 'uplink']);
  if (v6) {
    await on6(h, 'uplink');
    await h.run(['ip', 'addr', 'add', `${v6.ip}/64`, 'dev', 'uplink', 'nodad']);
  }
  await h.run(['ip', 'link', 'set', 'uplink', 'up']);
  await h.run(['ip', 'route', 'add', 'default', 'via', swIp]);
}

/** A real etcd (Debian's etcd-server) inside a lab host, listening on `ip`. */
export class LabEtcd {
  private child?: ChildProcess;
  constructor(
    readonly host: LabHost,
    readonly ip: string,
  ) {}

  get url(): string {
    return `etcd://${this.ip}:2379`;
  }

  async start(): Promise<void> {
    const data = `${this.host.dir}/etcd`;
    const c = spawn('nsenter', [`--net=${this.host.netnsPath}`, 'etcd', '--name', 'lab', '--data-dir', data,
      '--listen-client-urls', `http://${this.ip}:2379`, '--advertise-client-urls', `http://${this.ip}:2379`,
      '--listen-peer-urls', `http://${this.ip}:2380`, '--initial-advertise-peer-urls', `http://${this.ip}:2380`,
      '--initial-cluster', `lab=http://${this.ip}:2380`, '--log-level', 'error'], { stdio: 'ignore' });
    this.child = c;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (c.exitCode !== null) throw new Error(`etcd exited ${c.exitCode}`);
      const r = await this.host.exec(['timeout', '2', 'busybox', 'wget', '-qO-', `http://${this.ip}:2379/health`]);
      if (r.code === 0 && r.stdout.includes('true')) return;
      await new Promise((res) => setTimeout(res, 200));
    }
    throw new Error('etcd did not become healthy within 30 s');
  }

  async stop(): Promise<void> {
    const c = this.child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
    this.child = undefined;
  }
}

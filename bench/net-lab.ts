/**
 * Lab plumbing shared by the data-plane (4) and overlay-convergence (5) sections: background
 * processes started inside test hosts (iperf3 servers, monitors, probes) that are always ended by
 * their PID, container namespaces, and an underlay "switch" lab with etcd and one ctrnetd per host.
 * Everything lives in throwaway namespaces (scripts/lab.ts); nothing touches the root namespace.
 */
import { spawn, ChildProcess } from 'node:child_process';
import { LabEtcd, LabHost, plugIntoSwitch, sh } from '../scripts/lab';

/** Wall-clock milliseconds (epoch), sub-millisecond: comparable with timestamps printed by ip/bridge/ping. */
export const wallNow = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A process started here; its stdout lines are kept with their arrival time. Ended by PID only. */
export class Bg {
  readonly child: ChildProcess;
  readonly lines: { t: number; line: string }[] = [];
  readonly exited: Promise<number>;
  private buf = '';
  private listeners: ((line: string, t: number) => void)[] = [];

  constructor(argv: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.exited = new Promise((resolve) => this.child.once('close', (code, sig) => resolve(code ?? (sig ? 128 : 1))));
    this.child.on('error', () => {});
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      const t = wallNow();
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        const line = this.buf.slice(0, i);
        this.buf = this.buf.slice(i + 1);
        this.lines.push({ t, line });
        for (const l of this.listeners) l(line, t);
      }
    });
    this.child.stderr!.resume();
  }

  onLine(cb: (line: string, t: number) => void): void {
    this.listeners.push(cb);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Ends the process (SIGTERM, then SIGKILL after 2 s) and waits for it. */
  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) return;
    const pid = this.child.pid;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }, 2000);
    await this.exited;
    clearTimeout(t);
  }
}

/** The network namespace path of a container (a bind mount usable with nsenter --net=). */
export async function sandboxKey(h: LabHost, name: string): Promise<string> {
  return (await h.ctl(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', name])).trim();
}

/** IPv4 address of a container's interface (eth0 by default), read from the kernel. */
export async function addrIn(nsPath: string, dev = 'eth0'): Promise<string> {
  const r = await sh(['nsenter', `--net=${nsPath}`, 'ip', '-o', '-4', 'addr', 'show', 'dev', dev]);
  const m = /inet ([\d.]+)/.exec(r.stdout);
  if (!m) throw new Error(`no IPv4 address on ${dev} in ${nsPath}: ${r.stderr}`);
  return m[1];
}

export async function mtuIn(nsPath: string, dev = 'eth0'): Promise<number> {
  // (not /sys/class/net: sysfs shows the namespace that mounted it, not ours)
  const r = await sh(['nsenter', `--net=${nsPath}`, 'ip', '-o', 'link', 'show', 'dev', dev]);
  return Number(/ mtu (\d+)/.exec(r.stdout)?.[1] ?? NaN);
}

/** Waits until something listens on a TCP port in a namespace. */
export async function waitListening(nsPath: string, port: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const r = await sh(['nsenter', `--net=${nsPath}`, 'ss', '-Hltn', `sport = :${port}`]);
    if (r.stdout.trim()) return;
    await sleep(20);
  }
  throw new Error(`nothing listens on ${port} in ${nsPath} after ${ms} ms`);
}

/** Docker's (and ctrnet's) MAC for an address: 02:42 + the four octets. */
export const macOf = (ip: string): string => ['02', '42', ...ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0'))].join(':');

/**
 * Hosts on one underlay segment: a switch host (bridge sw0 with `${prefix}.254`, etcd on it) and
 * n hosts `${prefix}.1..n`, each with a ctrnetd joined to the cluster. `destroy()` undoes a partial
 * setup too (hosts first, while etcd still answers their withdrawals, then etcd, then the switch).
 */
export class SwitchLab {
  sw?: LabHost;
  etcd?: LabEtcd;
  readonly hosts: LabHost[] = [];

  constructor(
    readonly label: string,
    readonly prefix: string,
  ) {}

  get swIp(): string {
    return `${this.prefix}.254`;
  }

  ip(i: number): string {
    return `${this.prefix}.${i + 1}`;
  }

  daemonArgs(i: number, extra: string[] = []): string[] {
    return ['--cluster-store', `etcd://${this.swIp}:2379`, '--advertise-addr', this.ip(i), ...extra];
  }

  async setup(n: number, mtu = 1500, extra: (i: number) => string[] = () => []): Promise<void> {
    this.sw = await LabHost.create(`${this.label}sw`);
    for (let i = 0; i < n; i++) {
      const h = await LabHost.create(`${this.label}${i + 1}`);
      this.hosts.push(h);
      await plugIntoSwitch(this.sw, h, this.ip(i), this.swIp, mtu);
    }
    this.etcd = new LabEtcd(this.sw, this.swIp);
    await this.etcd.start();
    await Promise.all(this.hosts.map((h, i) => h.startDaemon(this.daemonArgs(i, extra(i)))));
  }

  async destroy(): Promise<void> {
    for (const h of this.hosts) await h.destroy().catch(() => {});
    await this.etcd?.stop().catch(() => {});
    await this.sw?.destroy().catch(() => {});
  }
}

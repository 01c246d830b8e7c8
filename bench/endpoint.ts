/**
 * Section 1: one bridge endpoint with one published TCP port, set up and torn down by ctrnet's
 * driver (bench/endpoint-worker.ts, inside a test host), with the fast kernel path and with the
 * reference adapters (ip and nft processes), for the ratio to the peers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { LabHost } from '../scripts/lab';

export interface EndpointTimes {
  setup: number[];
  teardown: number[];
}

const WORKER = path.join(__dirname, 'endpoint-worker.js');

/** N endpoints in a fresh test host; the first one is a warm-up and not counted. */
/**
 * `dual`: a dual-stack network (bench/endpoint-worker.ts); `ipv6Host`: the test host keeps IPv6 on
 * (its lo has ::1, its new links get IPv6), as a host running IPv6 networks does.
 */
export async function ctrnetEndpoint(n: number, mode: 'native' | 'ip', opts: { ports?: number; keep?: boolean; dual?: boolean; ipv6Host?: boolean } = {}): Promise<EndpointTimes> {
  const host = await LabHost.create('bench-ep', { ipv6: opts.ipv6Host });
  try {
    const args = [String(n + 1), mode, `${host.execRoot}/eps`, String(opts.ports ?? 1), opts.keep ? 'keep' : 'once', opts.dual ? 'dual' : 'v4'];
    const out = await host.run([process.execPath, WORKER, ...args], { timeoutMs: 900_000 });
    const t = JSON.parse(out) as EndpointTimes;
    return { setup: t.setup.slice(1), teardown: t.teardown.slice(1) };
  } finally {
    await host.destroy();
  }
}

/** A worker in probe mode (endpoint-worker.ts): N endpoints live, then one more set up and torn down per "go". */
class ProbeWorker {
  private readonly child: ChildProcess;
  private readonly lines: string[] = [];
  private waiting?: () => void;
  readonly exited: Promise<void>;
  private err = '';

  constructor(host: LabHost, n: number, ports: number) {
    this.child = spawn('nsenter', [`--net=${host.netnsPath}`, 'env', `CTRNET_BENCH_PHASES=${process.env.CTRNET_BENCH_PHASES ?? ''}`, process.execPath, WORKER, String(n), 'native', `${host.execRoot}/eps`, String(ports), 'probe'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((r) => this.child.once('close', () => r()));
    let buf = '';
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        this.lines.push(buf.slice(0, i));
        buf = buf.slice(i + 1);
        this.waiting?.();
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.err = (this.err + d.toString()).slice(-4000)));
    this.child.once('close', () => this.waiting?.());
  }

  async line(): Promise<string> {
    while (!this.lines.length) {
      if (this.child.exitCode !== null) throw new Error(`endpoint worker exited ${this.child.exitCode}: ${this.err}`);
      await new Promise<void>((r) => (this.waiting = r));
    }
    return this.lines.shift()!;
  }

  async probe(): Promise<number> {
    this.child.stdin!.write('go\n');
    return Number(await this.line());
  }

  async close(): Promise<void> {
    this.child.stdin!.end();
    await this.exited;
  }

  /** its stderr (the phases, with CTRNET_BENCH_PHASES=1) */
  get stderr(): string {
    return this.err;
  }
}

/**
 * The setup of one endpoint (with `ports` published ports) on a network that has `n` endpoints,
 * against the same on an empty network, measured in turn `rounds` times (two test hosts, one
 * worker each), so that the machine's load hits both alike: the scale target's ratio without the
 * drift of a long sequential run.
 */
export async function ctrnetEndpointAtScale(n: number, rounds: number, ports = 5): Promise<{ first: number[]; atN: number[] }> {
  const hosts = [await LabHost.create('bench-ep0'), await LabHost.create('bench-epn')];
  const workers: ProbeWorker[] = [];
  try {
    workers.push(new ProbeWorker(hosts[0], 0, ports), new ProbeWorker(hosts[1], n, ports));
    for (const w of workers) if ((await w.line()) !== 'ready') throw new Error('endpoint worker did not get ready');
    const first: number[] = [];
    const atN: number[] = [];
    for (let i = 0; i <= rounds; i++) {
      const a = await workers[0].probe();
      const b = await workers[1].probe();
      if (i > 0) {
        first.push(a);
        atN.push(b);
      }
    }
    return { first, atN };
  } finally {
    for (const w of workers) await w.close().catch(() => {});
    if (process.env.CTRNET_BENCH_PHASES === '1') for (const w of workers) process.stderr.write(`${w.stderr}\n`);
    for (const h of hosts) await h.destroy();
  }
}

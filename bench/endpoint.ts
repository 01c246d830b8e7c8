/**
 * Section 1: one bridge endpoint with one published TCP port, set up and torn down by ctrnet's
 * driver (bench/endpoint-worker.ts, inside a test host), with the fast kernel path and with the
 * reference adapters (ip and nft processes), for the ratio to the peers.
 */
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

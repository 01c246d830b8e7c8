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
export async function ctrnetEndpoint(n: number, mode: 'native' | 'ip', opts: { ports?: number; keep?: boolean } = {}): Promise<EndpointTimes> {
  const host = await LabHost.create('bench-ep');
  try {
    const args = [String(n + 1), mode, `${host.execRoot}/eps`, String(opts.ports ?? 1), opts.keep ? 'keep' : 'once'];
    const out = await host.run([process.execPath, WORKER, ...args], { timeoutMs: 900_000 });
    const t = JSON.parse(out) as EndpointTimes;
    return { setup: t.setup.slice(1), teardown: t.teardown.slice(1) };
  } finally {
    await host.destroy();
  }
}

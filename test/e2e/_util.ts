/** Helpers shared by the end-to-end tests: observing a lab host with independent tools. */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { LabHost, leftovers, Result, sh } from '../../scripts/lab';

export const PAGE = /It works!/;

/** What a host has that ctrnet may have made: for "nothing left behind" checks. */
export async function snapshot(h: LabHost): Promise<Record<string, string[]>> {
  const links = JSON.parse(await h.run(['ip', '-j', 'link', 'show'])) as { ifname: string }[];
  const nft = await h.exec(['nft', '-j', 'list', 'table', 'ip', 'ctrnet']);
  const elements = nft.code === 0 ? (JSON.parse(nft.stdout).nftables as { map?: { name: string; elem?: unknown[] } }[]).flatMap((o) => (o.map?.elem ?? []).map((e) => `${o.map!.name} ${JSON.stringify(e)}`)) : ['(no table)'];
  const ps = (await h.ctl(['ps', '-aq'])).split('\n').filter(Boolean);
  let netns: string[] = [];
  try {
    netns = readdirSync(`${h.execRoot}/netns`);
  } catch {
    netns = [];
  }
  const mounts = leftovers().filter((l) => l.startsWith('mount') && l.includes(h.dir));
  return { links: links.map((l) => l.ifname).sort(), elements: elements.sort(), containers: ps.sort(), netns: netns.sort(), mounts };
}

export async function ipOf(h: LabHost, name: string): Promise<string> {
  return (await h.ctl(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).trim();
}

export async function wget(h: LabHost, url: string): Promise<{ code: number; body: string }> {
  const r = await h.exec(['timeout', '5', 'busybox', 'wget', '-qO-', url], { timeoutMs: 10_000 });
  return { code: r.code, body: r.stdout };
}

/** Waits until fn returns true (a server coming up), at most `ms`. */
export async function until(fn: () => Promise<boolean>, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${what} not met in ${ms} ms`);
}

export function assertNoLeftovers(hosts: LabHost[]): void {
  const left = leftovers().filter((l) => hosts.some((h) => l.includes(h.ns)));
  assert.deepEqual(left, [], `left behind: ${left.join(', ')}`);
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The real docker CLI against the ctrnetd of a test host (given as a getter: tests make their host
 * in before()). `ok` requires exit 0 and gives stdout; `inspect` gives the first object inspected.
 */
export function dockerOn(host: () => LabHost, defaults: { timeoutMs?: number } = {}) {
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: `unix://${host().socket}`, DOCKER_CONFIG: `${host().dir}/docker-config` });
  const docker = (args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<Result> =>
    sh(['docker', ...args], { ...defaults, ...opts, env: env() });
  const ok = async (args: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<string> => {
    const r = await docker(args, opts);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r.stdout;
  };
  const inspect = async (name: string): Promise<Json> => JSON.parse(await ok(['inspect', name]))[0];
  return { env, docker, ok, inspect };
}

/**
 * Section 2: `ctrnet run --rm busybox true` in each network mode, as a user types it (the CLI's
 * own start-up included), and the floor: `runc run` of an equivalent bundle without any engine.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { LabHost, must, sh } from '../scripts/lab';
import { now } from './common';

export const MODES = {
  bridge: [],
  publish: ['-p', '8080:80'],
  host: ['--network', 'host'],
  none: ['--network', 'none'],
  container: ['--network', 'container:target'],
} as const;
export type Mode = keyof typeof MODES;

export interface StartTimes {
  modes: Record<Mode, number[]>;
  /** `ctrnet version`: the CLI's start-up and one API round trip */
  cliVersion: number[];
  /** `node -e ''`: the runtime's own start-up, which no CLI written for node can avoid */
  nodeBare: number[];
  /** `node -e ''` with this machine's environment as it is (NODE_EXTRA_CA_CERTS when set: node parses that bundle at start-up) */
  nodeBareEnv: number[];
  /**
   * The two CLIs against this same ctrnetd, interleaved: `version` and `run --rm busybox true`
   * with the ctrnet CLI (bundled, code cache), the docker CLI on PATH, and the ctrnet CLI from
   * its separate modules (dist/, what the bundle replaces). Empty when no docker CLI is on PATH.
   */
  clis: { ctrnetVersion: number[]; dockerVersion: number[]; modulesVersion: number[]; ctrnetRun: number[]; dockerRun: number[] };
}

/** The environment bin/ctrnet runs node in: without NODE_EXTRA_CA_CERTS (the CLI opens no TLS connection). */
function noCaBundle(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

async function timed(n: number, f: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = now();
    await f();
    out.push(now() - t);
  }
  return out;
}

/** n runs per mode after one warm-up each; modes take turns so background noise hits all alike. */
export async function ctrnetStart(n: number): Promise<StartTimes> {
  const h = await LabHost.create('bench-start');
  try {
    await h.startDaemon();
    await h.ctl(['run', '-d', '--name', 'target', 'busybox', 'sleep', '100000']);
    const modes = Object.fromEntries(Object.keys(MODES).map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
    for (let round = 0; round <= n; round++) {
      for (const [m, args] of Object.entries(MODES) as [Mode, readonly string[]][]) {
        const [t] = await timed(1, () => h.ctl(['run', '--rm', ...args, 'busybox', 'true']));
        if (round > 0) modes[m].push(t);
      }
    }
    const clis: StartTimes['clis'] = { ctrnetVersion: [], dockerVersion: [], modulesVersion: [], ctrnetRun: [], dockerRun: [] };
    if (spawnSync('sh', ['-c', 'command -v docker']).status === 0) {
      const env: NodeJS.ProcessEnv = { ...process.env, DOCKER_HOST: `unix://${h.socket}`, DOCKER_CONFIG: `${h.dir}/docker-cli` };
      delete env.DOCKER_CONTEXT;
      const docker = async (args: string[]) => {
        const r = await sh(['docker', ...args], { env });
        if (r.code !== 0) throw new Error(`docker ${args.join(' ')} against ctrnetd exited ${r.code}: ${r.stderr.trim()}`);
      };
      const main = path.resolve(__dirname, '../src/cli/main.js');
      const modules = () => must([process.execPath, '-e', `require(${JSON.stringify(main)}).main(['version'])`], { env: { ...noCaBundle(), CTRNET_HOST: `unix://${h.socket}` } });
      for (let round = 0; round <= n; round++) {
        const t = async (k: keyof StartTimes['clis'], f: () => Promise<unknown>) => {
          const [x] = await timed(1, f);
          if (round > 0) clis[k].push(x);
        };
        await t('ctrnetVersion', () => h.ctl(['version']));
        await t('dockerVersion', () => docker(['version']));
        await t('modulesVersion', modules);
        await t('ctrnetRun', () => h.ctl(['run', '--rm', 'busybox', 'true']));
        await t('dockerRun', () => docker(['run', '--rm', 'busybox', 'true']));
      }
    }
    const bare = (env: NodeJS.ProcessEnv) => () => must([process.execPath, '-e', ''], { env });
    return { modes, cliVersion: await timed(n, () => h.ctl(['version'])), nodeBare: await timed(n, bare(noCaBundle())), nodeBareEnv: await timed(n, bare(process.env)), clis };
  } finally {
    await h.destroy();
  }
}

/** `runc run` of a busybox bundle (new namespaces, network included; nothing else): the floor. */
export async function runcFloor(n: number): Promise<number[]> {
  const h = await LabHost.create('bench-floor');
  const b = `${h.dir}/bundle`;
  try {
    mkdirSync(`${b}/rootfs/bin`, { recursive: true });
    copyFileSync('/bin/busybox', `${b}/rootfs/bin/busybox`);
    symlinkSync('busybox', `${b}/rootfs/bin/true`);
    await must(['runc', 'spec', '--bundle', b]);
    const spec = JSON.parse(readFileSync(`${b}/config.json`, 'utf8'));
    spec.process.terminal = false;
    spec.process.args = ['true'];
    writeFileSync(`${b}/config.json`, JSON.stringify(spec));
    const root = `${h.execRoot}/runc`;
    let i = 0;
    const times = await timed(n + 1, () => h.run(['runc', '--root', root, 'run', '--bundle', b, `floor${i++}`]));
    return times.slice(1);
  } finally {
    rmSync(b, { recursive: true, force: true });
    await h.destroy();
  }
}

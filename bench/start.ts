/**
 * Section 2: `ctrnet run --rm busybox true` in each network mode, as a user types it (the CLI's
 * own start-up included), and the floor: `runc run` of an equivalent bundle without any engine.
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { LabHost, must } from '../scripts/lab';
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
    return { modes, cliVersion: await timed(n, () => h.ctl(['version'])), nodeBare: await timed(n, () => must([process.execPath, '-e', ''])) };
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

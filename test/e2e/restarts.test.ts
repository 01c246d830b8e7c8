/**
 * Restart policies and health checks as a user sees them, through the real docker CLI against
 * ctrnetd in test host "a": a container whose process dies comes back, network and all (same
 * address, published port, DNS name), also when it died while the daemon was SIGKILLed; a user's
 * stop keeps unless-stopped down across a daemon restart; on-failure gives up after its count
 * with Docker's growing delays; a failing health check turns unhealthy after its retries, and the
 * change is an event.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LabHost } from '../../scripts/lab';
import { assertNoLeftovers, dockerOn, PAGE, until, wget } from './_util';

let a: LabHost;
const UI = '127.0.0.1:7791';

const { docker, ok, inspect } = dockerOn(() => a);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Kills a container's process from the host, checking first that the PID is in its cgroup (never a host process that reused it). */
function crash(c: Json): void {
  assert.ok(readFileSync(`/proc/${c.State.Pid}/cgroup`, 'utf8').includes(`/ctrnet/${c.Id}`), `PID ${c.State.Pid} is ${c.Name}'s`);
  process.kill(c.State.Pid, 'SIGKILL');
}

/** The container is running again after `count` restarts. */
const restarted = (name: string, count: number) => async () => {
  const c = await inspect(name);
  return c.State.Status === 'running' && c.RestartCount >= count;
};

before(async () => {
  assert.equal(spawnSync('docker', ['--version']).status, 0, 'the docker CLI must be on PATH for these tests');
  a = await LabHost.create('rst');
  await a.startDaemon(['--ui', UI]);
});

after(async () => {
  await a?.destroy();
  assertNoLeftovers([a].filter(Boolean));
});

describe('restart policies', () => {
  it('--restart always: a killed process comes back with its network: same address, published port, DNS name; also after a daemon SIGKILL', async () => {
    await ok(['network', 'create', 'rnet']);
    await ok(['run', '-d', '--name', 'web', '--network', 'rnet', '-p', '8081:80', '--restart', 'always', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await ok(['run', '-d', '--name', 'client', '--network', 'rnet', 'busybox', 'sleep', '600']);
    const first = await inspect('web');
    const ip = first.NetworkSettings.Networks.rnet.IPAddress;
    assert.equal(first.HostConfig.RestartPolicy.Name, 'always');
    await until(async () => PAGE.test((await wget(a, 'http://127.0.0.1:8081/')).body), 5000, 'the page');

    const serves = async () => {
      const c = await inspect('web');
      assert.equal(c.NetworkSettings.Networks.rnet.IPAddress, ip, 'the same address again');
      await until(async () => PAGE.test((await wget(a, 'http://127.0.0.1:8081/')).body), 5000, 'the published port answering again');
      const byName = await docker(['exec', 'client', 'timeout', '5', 'wget', '-qO-', 'http://web/']);
      assert.match(byName.stdout, PAGE, 'its DNS name answers again');
    };
    crash(first);
    await until(restarted('web', 1), 5000, 'web running again');
    await serves();

    // The daemon dies; the process dies while no daemon watches; the next daemon restarts it.
    const now = await inspect('web');
    await a.stopDaemon('SIGKILL');
    crash(now);
    await a.startDaemon(['--ui', UI]);
    await until(restarted('web', 2), 10_000, 'web running again after the daemon restart');
    await serves();
    assert.match(a.log, /container web exited \(137\) while the daemon was down/);
  });

  it('unless-stopped stays stopped after docker stop and a daemon restart; always comes back there (Docker\'s rule); no stays down', async () => {
    await ok(['run', '-d', '--name', 'unless', '--restart', 'unless-stopped', 'busybox', 'sh', '-c', "trap 'exit 3' TERM; while :; do sleep 1; done"]);
    await ok(['run', '-d', '--name', 'always', '--restart', 'always', 'busybox', 'sh', '-c', "trap 'exit 3' TERM; while :; do sleep 1; done"]);
    await ok(['run', '-d', '--name', 'never', 'busybox', 'sh', '-c', "trap 'exit 3' TERM; while :; do sleep 1; done"]);
    await ok(['stop', '-t', '5', 'unless', 'always']);
    await ok(['exec', 'never', 'kill', '1']);
    await new Promise((r) => setTimeout(r, 1000));
    for (const n of ['unless', 'always', 'never']) assert.equal((await inspect(n)).State.Status, 'exited', `${n} stays stopped`);
    await a.stopDaemon('SIGKILL');
    await a.startDaemon(['--ui', UI]);
    await until(async () => (await inspect('always')).State.Status === 'running', 10_000, 'always started with the daemon');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await inspect('unless')).State.Status, 'exited', 'unless-stopped: stopped by the user, stays stopped');
    assert.equal((await inspect('never')).State.Status, 'exited');
    // A user's start makes it a running unless-stopped container again: its process's death restarts it.
    await ok(['start', 'unless']);
    await ok(['exec', 'unless', 'kill', '1']);
    await until(restarted('unless', 1), 5000, 'unless-stopped restarted after its process ended');
    await ok(['rm', '-f', 'unless', 'always', 'never']);
  });

  it('on-failure:2 runs three times with Docker\'s growing delays, then stays exited; a stop ends a restart loop', async () => {
    await ok(['run', '-d', '--name', 'fails', '--restart', 'on-failure:2', 'busybox', 'sh', '-c', 'cat /proc/uptime; exit 5']);
    await until(async () => {
      const c = await inspect('fails');
      return c.State.Status === 'exited' && c.RestartCount === 2;
    }, 10_000, 'two restarts, then exited');
    await new Promise((r) => setTimeout(r, 800));
    const c = await inspect('fails');
    assert.deepEqual([c.State.Status, c.RestartCount, c.State.ExitCode, c.State.Restarting], ['exited', 2, 5, false]);
    const ups = (await ok(['logs', 'fails'])).trim().split('\n').map((l) => Number(l.split(' ')[0]));
    assert.equal(ups.length, 3, 'one run and two restarts');
    assert.ok(ups[1] - ups[0] >= 0.1 && ups[2] - ups[1] >= 0.2, `delays of at least 100 ms, then 200 ms: ${ups.join(' ')}`);

    // A loop of restarts (always, exit 1), then a stop: restarting, then stopped for good.
    await ok(['run', '-d', '--name', 'loop', '--restart', 'always', 'busybox', 'sh', '-c', 'exit 1']);
    await until(async () => (await inspect('loop')).RestartCount >= 3, 10_000, 'three restarts');
    const ps = await ok(['ps', '--filter', 'name=loop', '--format', '{{.Status}}']);
    assert.match(ps, /Up|Restarting \(1\)/, 'listed as running or restarting');
    await ok(['stop', 'loop']);
    const n = (await inspect('loop')).RestartCount;
    await new Promise((r) => setTimeout(r, 1500));
    const after = await inspect('loop');
    assert.deepEqual([after.State.Status, after.RestartCount], ['exited', n], 'no restart after the stop');
    await ok(['start', 'loop']);
    assert.ok((await inspect('loop')).RestartCount <= 1, 'a start by the user counts restarts anew');
    await ok(['rm', '-f', 'fails', 'loop']);
  });
});

describe('health checks', () => {
  it('a failing check turns unhealthy after its retries, a passing one healthy, a slow one times out; the changes are events', async () => {
    const events = a.exec(['timeout', '8', 'busybox', 'wget', '-qO-', `http://${UI}/api/events`], { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 300));
    await ok(['run', '-d', '--name', 'sick', '--health-cmd', 'echo failing; exit 1', '--health-interval', '300ms', '--health-retries', '3', 'busybox', 'sleep', '600']);
    await ok(['run', '-d', '--name', 'well', '--health-cmd', 'echo ok', '--health-interval', '300ms', 'busybox', 'sleep', '600']);
    await ok(['run', '-d', '--name', 'slow', '--health-cmd', 'sleep 5', '--health-interval', '300ms', '--health-timeout', '200ms', '--health-retries', '1', 'busybox', 'sleep', '600']);
    await ok(['run', '-d', '--name', 'off', '--no-healthcheck', 'busybox', 'sleep', '600']);
    assert.match(await ok(['ps', '--filter', 'name=sick', '--format', '{{.Status}}']), /\(health: starting\)/);
    const seen: string[] = [];
    await until(async () => {
      const h = (await inspect('sick')).State.Health;
      seen.push(`${h.Status}/${h.FailingStreak}`);
      return h.Status === 'unhealthy';
    }, 10_000, 'sick unhealthy');
    const sick = (await inspect('sick')).State.Health;
    assert.ok(sick.FailingStreak >= 3, `unhealthy after its 3 retries: ${seen.join(' ')}`);
    assert.ok(!seen.some((s) => /^unhealthy\/[12]$/.test(s)), `not before the third failure: ${seen.join(' ')}`);
    assert.deepEqual([sick.Log.at(-1).ExitCode, sick.Log.at(-1).Output], [1, 'failing\n']);
    assert.ok(sick.Log.length <= 5);
    await until(async () => (await inspect('well')).State.Health?.Status === 'healthy', 5000, 'well healthy');
    await until(async () => (await inspect('slow')).State.Health?.Status === 'unhealthy', 5000, 'slow unhealthy');
    const slow = (await inspect('slow')).State.Health.Log[0];
    assert.deepEqual([slow.ExitCode, slow.Output], [-1, 'Health check exceeded timeout (200ms)']);
    assert.equal((await inspect('off')).State.Health, undefined, '--no-healthcheck: no health');
    assert.deepEqual((await inspect('off')).Config.Healthcheck, { Test: ['NONE'] });
    assert.match(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^sick Up .* \(unhealthy\)$/m);
    assert.match(await ok(['ps', '--format', '{{.Names}} {{.Status}}']), /^well Up .* \(healthy\)$/m);
    const stream = (await events).stdout;
    const id = (await inspect('sick')).Id;
    assert.ok(stream.includes(`"action":"health_status: unhealthy","id":"${id}"`), 'the change of status is an event');
    // A stopped container keeps its last health for inspect; a start begins again from "starting".
    await ok(['stop', '-t', '1', 'well']);
    assert.equal((await inspect('well')).State.Health.Status, 'healthy');
    await ok(['start', 'well']);
    assert.equal((await inspect('well')).State.Health.Status, 'starting');
    await ok(['rm', '-f', 'sick', 'well', 'slow', 'off']);
  });
});

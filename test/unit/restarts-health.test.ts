import { test } from 'node:test';
import assert from 'node:assert/strict';
import { afterProbe, effectiveHealth, formatDuration, HealthConfig, parseDuration, probeArgs, STARTING } from '../../src/base/health';
import { Container } from '../../src/base/model';
import { RestartSupervisor } from '../../src/core/containers/restarts';

const t = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString();

function container(over: Partial<Container> = {}, policy = 'always'): Container {
  return {
    id: 'c1', name: 'c1', imageId: 'i', image: 'busybox', status: 'exited', pid: 0, exitCode: 1, error: '', created: t(0),
    startedAt: t(0), finishedAt: t(50), spec: { restartPolicy: { name: policy, maxRetries: 0 } } as Container['spec'], ...over,
  };
}

/** A supervisor whose starts are recorded, and a way to wait for its timers. */
function supervisor() {
  const starts: [string, string][] = [];
  const boots: string[] = [];
  const s = new RestartSupervisor({ restart: async (id, at) => void starts.push([id, at]), startAtBoot: async (id) => void boots.push(id) });
  return { s, starts, boots };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('RestartSupervisor holds its restarts until resume(), then answers the exit once, after the backoff', async () => {
  const { s, starts } = supervisor();
  assert.equal(s.exited(container(), false), true);
  assert.equal(s.isRestarting('c1'), true, 'restarting from the exit on');
  await sleep(150);
  assert.deepEqual(starts, [], 'held while the daemon reconciles');
  s.resume();
  await sleep(50);
  assert.deepEqual(starts, [], 'not before 100 ms');
  await sleep(100);
  assert.deepEqual(starts, [['c1', t(50)]], 'the start carries the exit it answers');
  assert.equal(s.isRestarting('c1'), false);
  await sleep(250);
  assert.equal(starts.length, 1, 'one exit, one start');
  s.close();
});

test('RestartSupervisor: a user\'s action cancels the restart; a cancelled exit or a policy that says no schedules nothing', async () => {
  const { s, starts } = supervisor();
  s.resume();
  s.exited(container(), false);
  assert.equal(s.cancel('c1'), true);
  assert.equal(s.exited(container(), true), false, 'stopped by a user (ExitOnNext)');
  assert.equal(s.exited(container({ manuallyStopped: true }, 'unless-stopped'), false), false);
  assert.equal(s.exited(container({ exitCode: 0 }, 'on-failure'), false), false);
  assert.equal(s.exited(container({}, 'no'), false), false);
  await sleep(250);
  assert.deepEqual(starts, []);
  s.close();
});

test('RestartSupervisor doubles its delay while runs are short, and a newer exit replaces the older schedule', async () => {
  const { s, starts } = supervisor();
  s.resume();
  s.exited(container({ finishedAt: t(10) }), false);
  await sleep(130);
  s.exited(container({ finishedAt: t(20) }), false); // second exit: 200 ms
  await sleep(120);
  assert.equal(starts.length, 1, 'the second waits 200 ms');
  await sleep(120);
  assert.deepEqual(starts.map((x) => x[1]), [t(10), t(20)]);
  s.exited(container({ finishedAt: t(30) }), false);
  s.exited(container({ finishedAt: t(40) }), false); // before the first fired
  await sleep(2000);
  assert.deepEqual(starts.map((x) => x[1]), [t(10), t(20), t(40)], 'only the newest exit is answered');
  s.reset('c1');
  s.exited(container({ finishedAt: t(50) }), false);
  await sleep(150);
  assert.equal(starts.length, 4, 'a user start resets the delay to 100 ms');
  s.close();
});

test('RestartSupervisor at daemon start: always even after a stop, unless-stopped only if no user stopped it, on-failure after a failure', () => {
  const { s, boots } = supervisor();
  s.atDaemonStart(container({ id: 'a', manuallyStopped: true, exitCode: 0 }, 'always'));
  s.atDaemonStart(container({ id: 'u1', manuallyStopped: true }, 'unless-stopped'));
  s.atDaemonStart(container({ id: 'u2' }, 'unless-stopped'));
  s.atDaemonStart(container({ id: 'f1', exitCode: 3 }, 'on-failure'));
  s.atDaemonStart(container({ id: 'f0', exitCode: 0 }, 'on-failure'));
  s.atDaemonStart(container({ id: 'n' }, 'no'));
  s.atDaemonStart(container({ id: 'c', status: 'created' }, 'always'));
  assert.deepEqual(boots, []);
  s.resume();
  assert.deepEqual(boots, ['a', 'u2', 'f1']);
  s.close();
});

test('afterProbe(): healthy at once, unhealthy after `retries` failures, the start period forgiven while starting', () => {
  const h: HealthConfig = { test: ['CMD', 'x'], intervalNs: 1e9, timeoutNs: 0, startPeriodNs: 3e9, retries: 2 };
  const r = (at: number, exitCode: number) => ({ start: t(at), end: t(at + 10), exitCode, output: '' });
  let s = afterProbe(STARTING, r(1000, 1), h, Date.parse(t(0)));
  assert.deepEqual([s.status, s.failingStreak], ['starting', 0], 'inside the start period');
  s = afterProbe(s, r(4000, 1), h, Date.parse(t(0)));
  assert.deepEqual([s.status, s.failingStreak], ['starting', 1]);
  s = afterProbe(s, r(5000, 1), h, Date.parse(t(0)));
  assert.deepEqual([s.status, s.failingStreak], ['unhealthy', 2]);
  s = afterProbe(s, r(6000, 0), h, Date.parse(t(0)));
  assert.deepEqual([s.status, s.failingStreak], ['healthy', 0]);
  for (let i = 0; i < 6; i++) s = afterProbe(s, r(7000 + i, 0), h, 0);
  assert.equal(s.log.length, 5, 'the last five results');
  s = afterProbe(s, r(9000, 1), h, 0);
  assert.equal(s.status, 'healthy', 'one failure of two allowed');
  const deflt = { ...h, retries: 0 };
  s = afterProbe(s, r(9100, 1), deflt, 0);
  assert.equal(s.status, 'healthy', 'retries 0 is Docker\'s default, 3: two failures are not enough');
  assert.equal(afterProbe(s, r(9200, 1), deflt, 0).status, 'unhealthy');
});

test('effectiveHealth() fills what a container leaves unset from its image; probeArgs() runs CMD and CMD-SHELL, not NONE', () => {
  const image: HealthConfig = { test: ['CMD-SHELL', 'curl -f localhost'], intervalNs: 5e9, timeoutNs: 2e9, startPeriodNs: 0, retries: 4 };
  assert.deepEqual(effectiveHealth({ test: [], intervalNs: 1e9, timeoutNs: 0, startPeriodNs: 0, retries: 0 }, image), { ...image, intervalNs: 1e9 });
  assert.deepEqual(effectiveHealth(undefined, image), image);
  assert.deepEqual(probeArgs(image), ['/bin/sh', '-c', 'curl -f localhost']);
  assert.deepEqual(probeArgs({ ...image, test: ['CMD', 'test', '-f', '/x'] }), ['test', '-f', '/x']);
  assert.equal(probeArgs({ ...image, test: ['NONE'] }), undefined);
  assert.deepEqual([parseDuration('1m30s'), parseDuration('500ms'), parseDuration('0')], [90e9, 5e8, 0]);
  assert.deepEqual([formatDuration(3e8), formatDuration(30e9), formatDuration(90e9)], ['300ms', '30s', '1m30s']);
});

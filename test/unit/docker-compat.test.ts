/**
 * The pure parts of Docker compatibility: event filters, detach keys, Docker's timestamps,
 * commit --change instructions, ps output, signals and API version comparisons.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineEvent } from '../../src/base/events';
import { matches } from '../../src/core/event-filter';
import { DetachWatcher, parseDetachKeys } from '../../src/core/containers/detach-keys';
import { parseDuration, parseTimestamp } from '../../src/base/time';
import { parsePs } from '../../src/runtime/top';
import { signalName, signalNumber } from '../../src/base/signals';
import { atLeast, checkVersion, compareVersions } from '../../src/api/version';

const ev = (type: EngineEvent['type'], action: string, id: string, attributes: Record<string, string> = {}): EngineEvent => ({ type, action, id, attributes, time: 0, nano: 0 });

test('event filters: values of a key are alternatives, keys must all match', () => {
  const start = ev('container', 'start', 'abc123def456', { name: 'web', image: 'busybox', tier: 'front' });
  assert.ok(matches({ event: ['start', 'die'] }, start));
  assert.ok(!matches({ event: ['die'] }, start));
  assert.ok(matches({ type: ['container'], event: ['start'] }, start));
  assert.ok(!matches({ type: ['network'], event: ['start'] }, start));
  assert.ok(matches({ container: ['web'] }, start) && matches({ container: ['abc123'] }, start) && !matches({ container: ['db'] }, start));
  assert.ok(matches({ label: ['tier'] }, start) && matches({ label: ['tier=front'] }, start) && !matches({ label: ['tier=back'] }, start));
  assert.ok(matches({ image: ['busybox'] }, start) && matches({ image: ['busybox:latest'] }, ev('container', 'start', 'x', { image: 'busybox:latest' })));
  assert.ok(matches({ scope: ['local'] }, start) && !matches({ scope: ['swarm'] }, start));
  assert.ok(matches({ nosuch: ['x'] }, start), 'unknown keys are ignored, as Docker ignores them');
});

test('event filters: "exec_start" matches "exec_start: CMD"; a network filter matches network events only', () => {
  assert.ok(matches({ event: ['exec_start'] }, ev('container', 'exec_start: sh -c true', 'c')));
  assert.ok(matches({ event: ['health_status'] }, ev('container', 'health_status: healthy', 'c')));
  const connect = ev('network', 'connect', 'n1', { name: 'front', container: 'c' });
  assert.ok(matches({ network: ['front'] }, connect) && !matches({ network: ['front'] }, ev('container', 'start', 'c', { name: 'front' })));
});

test('parseDetachKeys() reads Docker\'s spelling; DetachWatcher holds a partial sequence across chunks', () => {
  assert.deepEqual([...parseDetachKeys('ctrl-p,ctrl-q')], [16, 17]);
  assert.deepEqual([...parseDetachKeys('ctrl-@,ctrl-[,a')], [0, 27, 97]);
  assert.throws(() => parseDetachKeys('nonsense'), /Invalid detach keys \(nonsense\) provided/);
  const w = new DetachWatcher(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(w.push(Buffer.from('ab\x10')), { pass: Buffer.from('ab'), detach: false });
  assert.deepEqual(w.push(Buffer.from('x')), { pass: Buffer.from('\x10x'), detach: false }, 'broken off: the held key goes on');
  assert.deepEqual(w.push(Buffer.from('\x10')), { pass: Buffer.alloc(0), detach: false });
  assert.deepEqual(w.push(Buffer.from('\x11rest')), { pass: Buffer.alloc(0), detach: true });
  const one = new DetachWatcher(parseDetachKeys('ctrl-x'));
  assert.deepEqual(one.push(Buffer.from('a\x18')), { pass: Buffer.from('a'), detach: true });
  const twice = new DetachWatcher(parseDetachKeys('ctrl-p,ctrl-q'));
  assert.deepEqual(twice.push(Buffer.from('\x10\x10\x11')), { pass: Buffer.from('\x10'), detach: true }, 'a repeated first key restarts the sequence');
});

test('parseTimestamp() takes Unix seconds with a fraction, RFC3339 and Go durations', () => {
  assert.equal(parseTimestamp('1700000000'), 1_700_000_000_000_000_000n);
  assert.equal(parseTimestamp('1700000000.5'), 1_700_000_000_500_000_000n);
  assert.equal(parseTimestamp('1700000000.000000001'), 1_700_000_000_000_000_001n);
  assert.equal(parseTimestamp('2023-11-14T22:13:20Z'), 1_700_000_000_000_000_000n);
  assert.equal(parseTimestamp('2023-11-14T22:13:20.25Z'), 1_700_000_000_250_000_000n);
  assert.equal(parseTimestamp('10m', 1_000_000_000_000n), 1_000_000_000_000n - 600_000_000_000n);
  assert.equal(parseDuration('1h30m'), 5_400_000_000_000n);
  assert.equal(parseTimestamp('yesterday'), undefined);
  assert.equal(parseTimestamp('soon'), undefined);
});

test('parsePs() keeps the command\'s spaces and the rows of the given PIDs only', () => {
  const out = 'UID   PID  PPID  C STIME TTY  TIME     CMD\nroot  10   1     0 10:00 ?    00:00:00 sleep 300\nroot  11   1     0 10:00 ?    00:00:00 other thing\n';
  assert.deepEqual(parsePs(out, [10]), { titles: ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD'], processes: [['root', '10', '1', '0', '10:00', '?', '00:00:00', 'sleep 300']] });
  assert.throws(() => parsePs('COMMAND\nsleep\n', [1]), /Couldn't find PID field in ps output/);
});

test('signals: names with or without SIG, and numbers; others refused with Docker\'s words', () => {
  assert.equal(signalNumber('KILL'), 9);
  assert.equal(signalNumber('SIGUSR1'), 10);
  assert.equal(signalNumber('15'), 15);
  assert.equal(signalName('9'), 'KILL');
  assert.throws(() => signalNumber('NOSUCH'), /Invalid signal: NOSUCH/);
  assert.throws(() => signalNumber('0'), /Invalid signal: 0/);
});

test('API versions compare as numbers; the range is Docker\'s 400', () => {
  assert.equal(compareVersions('1.9', '1.41'), -1);
  assert.ok(atLeast('1.51', '1.44') && !atLeast('1.41', '1.42'));
  assert.throws(() => checkVersion('1.52'), /client version 1\.52 is too new\. Maximum supported API version is 1\.51/);
  assert.throws(() => checkVersion('1.12'), /client version 1\.12 is too old\. Minimum supported API version is 1\.24/);
  checkVersion('1.41');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlagDef, UsageError, parseArgs } from '../../src/cli/args';

// A subset of `ctrnet run`'s flags.
const RUN: Record<string, FlagDef> = {
  detach: { kind: 'bool', short: 'd' },
  interactive: { kind: 'bool', short: 'i' },
  tty: { kind: 'bool', short: 't' },
  name: { kind: 'string' },
  env: { kind: 'list', short: 'e' },
  publish: { kind: 'list', short: 'p' },
};

test('parseArgs() reads combined short booleans -it', () => {
  assert.deepEqual(parseArgs(['-it', 'busybox'], RUN), { flags: { interactive: true, tty: true }, args: ['busybox'] });
});

test('parseArgs() collects repeated list flags -p 80 -p 81 in order', () => {
  assert.deepEqual(parseArgs(['-p', '80', '-p', '81'], RUN).flags, { publish: ['80', '81'] });
});

test('parseArgs() reads --name=x and --name x', () => {
  assert.equal(parseArgs(['--name=x'], RUN).flags.name, 'x');
  assert.equal(parseArgs(['--name', 'y'], RUN).flags.name, 'y');
});

test('parseArgs() keeps "=" inside the value of -e K=V and -eK=V', () => {
  assert.deepEqual(parseArgs(['-e', 'K=V=W', '-eA=B'], RUN).flags.env, ['K=V=W', 'A=B']);
});

test('parseArgs() with interspersed=false stops at the first positional: run -d busybox sh -c x', () => {
  assert.deepEqual(parseArgs(['-d', 'busybox', 'sh', '-c', 'x'], RUN, false), { flags: { detach: true }, args: ['busybox', 'sh', '-c', 'x'] });
});

test('parseArgs() with interspersed=true reads flags after positionals', () => {
  assert.deepEqual(parseArgs(['busybox', '-d'], RUN), { flags: { detach: true }, args: ['busybox'] });
});

test('parseArgs() treats everything after -- as positional', () => {
  assert.deepEqual(parseArgs(['-d', '--', '-i'], RUN), { flags: { detach: true }, args: ['-i'] });
});

test('parseArgs() throws UsageError for an unknown long or short flag and a missing value', () => {
  assert.throws(() => parseArgs(['--bogus'], RUN), (e: unknown) => e instanceof UsageError && /--bogus/.test(e.message));
  assert.throws(() => parseArgs(['-iz'], RUN), (e: unknown) => e instanceof UsageError && /'z'/.test(e.message));
  assert.throws(() => parseArgs(['--name'], RUN), UsageError);
  assert.throws(() => parseArgs(['-p'], RUN), UsageError);
});

test('parseArgs() throws UsageError for flags named like Object.prototype members', () => {
  assert.throws(() => parseArgs(['--constructor', 'x'], RUN), UsageError);
  assert.throws(() => parseArgs(['--hasOwnProperty=1'], RUN), UsageError);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseFlags } from '../../src/daemon/main';

test('parseFlags() defaults', () => {
  assert.deepEqual(parseFlags([]), {
    root: '/var/lib/ctrnet', execRoot: '/run/ctrnet', socket: '/run/ctrnet/ctrnet.sock', bridge: 'ctrnet0', bip: '172.17.0.1/16',
  });
});

test('parseFlags() reads --bip, -H unix:///x, --root=DIR, --exec-root DIR, --bridge and --mtu', () => {
  const o = parseFlags(['--bip', '10.20.0.1/24', '-H', 'unix:///x', '--root=/tmp/r', '--exec-root', 'rel/e', '--bridge=br9', '--mtu', '1400']);
  assert.deepEqual(o, { root: '/tmp/r', execRoot: path.resolve('rel/e'), socket: '/x', bip: '10.20.0.1/24', bridge: 'br9', mtu: 1400 });
});

test('parseFlags() throws on an unknown flag, a missing value and a non-unix -H', () => {
  assert.throws(() => parseFlags(['--bogus']), /unknown flag --bogus/);
  assert.throws(() => parseFlags(['--bip']), /--bip needs a value/);
  assert.throws(() => parseFlags(['-H', 'tcp://0.0.0.0:2375']), /only unix/);
});

test('parseFlags() rejects a non-numeric --mtu', () => {
  assert.throws(() => parseFlags(['--mtu', 'abc']));
});

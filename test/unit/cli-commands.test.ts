/**
 * The CLI's command table (src/cli/command-table.ts) against its modules and the help text: every
 * word the help lists resolves to a module whose definition agrees with the table, unknown words
 * fail as before, and a command loads only what it needs (start-up time).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { COMMANDS, lookup } from '../../src/cli/command-table';
import { HELP } from '../../src/cli/help';

// Compiled tests run from dist/test/unit/; the CLI's entry is bin/ctrnet in the tree.
const BIN = path.resolve(__dirname, '../../../bin/ctrnet');
const MAIN = path.resolve(__dirname, '../../src/cli/main.js');
const NO_DAEMON = { ...process.env, CTRNET_HOST: 'unix:///nonexistent/ctrnet-unit-test.sock' };

/** The top-level words the help text lists, as a user reads them there. */
const HELP_WORDS = ['run', 'create', 'start', 'stop', 'restart', 'kill', 'rm', 'wait', 'ps', 'inspect', 'logs', 'exec', 'port', 'explain',
  'image', 'import', 'images', 'rmi', 'tag', 'network', 'topology', 'rename', 'version', 'info', 'system',
  'pull', 'push', 'load', 'save', 'history', 'login', 'logout', 'export', 'volume', 'update'];

function ctrnet(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: NO_DAEMON, encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('HELP lists every word of the command table, and the table every word of HELP_WORDS', () => {
  const tableWords = COMMANDS.flatMap((e) => e.words).sort();
  assert.deepEqual(tableWords, [...HELP_WORDS].sort());
  for (const w of tableWords) assert.match(HELP, new RegExp(`(^|[\\s,(])${w}[\\s,)]`, 'm'), `help does not mention ${w}`);
});

test('lookup() resolves every word in the help to a module whose definition agrees with the table', () => {
  for (const w of HELP_WORDS) {
    const entry = lookup(w);
    assert.ok(entry, `no entry for ${w}`);
    const def = entry.load();
    if (entry.prefix) {
      // a short form: `images` is `image ls`
      assert.equal(def.kind, 'group', `${w} is a short form of a group`);
      assert.ok(def.kind === 'group' && def.subcommands.some((s) => s.name === entry.prefix![0]), `${def.name} has no subcommand ${entry.prefix[0]}`);
    } else {
      assert.deepEqual([def.name, ...(def.aliases ?? [])], [...entry.words], `the module behind ${w} names itself otherwise`);
    }
    assert.match(def.usage, new RegExp(`^ctrnet ${def.name}\\b`), `${w}: usage line ${def.usage}`);
    if (def.kind === 'group') {
      for (const s of def.subcommands) {
        assert.equal(typeof s.run, 'function');
        assert.match(HELP, new RegExp(`\\b${s.name}\\b`), `help does not mention ${def.name} ${s.name}`);
      }
    } else {
      assert.equal(typeof def.run, 'function');
    }
  }
});

test('lookup() knows no word outside the table: not help (the dispatcher prints it), not prototype names', () => {
  for (const w of ['help', '--help', 'nosuch', '', 'constructor', '__proto__', 'toString', 'RUN']) assert.equal(lookup(w), undefined, w);
});

test('`ctrnet WORD` with an unknown word or subcommand fails with the usage error and exit 125', () => {
  const cases: [string[], string][] = [
    [['nosuch'], `ctrnet: unknown command "nosuch"; see 'ctrnet help'\nSee 'ctrnet help'.\n`],
    [['constructor'], `ctrnet: unknown command "constructor"; see 'ctrnet help'\nSee 'ctrnet help'.\n`],
    [['image', 'bogus'], `ctrnet: unknown image command "bogus": use import, ls, rm, tag, inspect, history, prune, pull, push, load or save\nSee 'ctrnet help'.\n`],
    [['network'], `ctrnet: unknown network command "": use create, ls, inspect, rm, prune, connect or disconnect\nSee 'ctrnet help'.\n`],
    [['system', 'restart'], "ctrnet: unknown system command: use `ctrnet system reload`\nSee 'ctrnet help'.\n"],
    [['ps', '--bogus'], `ctrnet: unknown flag: --bogus\nSee 'ctrnet help'.\n`],
    [['rename', 'a'], `ctrnet: "rename" requires 2 arguments: ctrnet rename CONTAINER NEW_NAME\nSee 'ctrnet help'.\n`],
    [['restart'], `ctrnet: "restart" requires at least 1 argument\nSee 'ctrnet help'.\n`],
  ];
  for (const [args, stderr] of cases) {
    const r = ctrnet(args);
    assert.deepEqual([r.code, r.stdout, r.stderr], [125, '', stderr], args.join(' '));
  }
});

test('`ctrnet`, `ctrnet help` and `ctrnet --help` print HELP and exit 0', () => {
  for (const args of [[], ['help'], ['--help']]) assert.deepEqual(ctrnet(args), { code: 0, stdout: HELP, stderr: '' });
});

/** The CLI's own modules a run of `ctrnet ARGS` loaded (paths under dist/src/). */
function loaded(args: string[]): string[] {
  const script = `require(${JSON.stringify(MAIN)}).main(${JSON.stringify(args)}).then(() => {
    process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.includes('/dist/src/')).map((f) => f.slice(f.indexOf('/dist/src/') + 10))));
  })`;
  const r = spawnSync(process.execPath, ['-e', script], { env: NO_DAEMON, encoding: 'utf8', timeout: 10_000 });
  return JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('[')));
}

test('the dispatcher loads only the typed command: `version` leaves the stream code and the renderers alone, `help` the HTTP client too', () => {
  const version = loaded(['version']);
  assert.ok(version.includes('cli/commands/version.js') && version.includes('cli/client.js'), version.join(' '));
  for (const f of version) assert.doesNotMatch(f, /streams|commands\/(run|exec|start|topology|explain)|^view\//, `version loaded ${f}`);
  const help = loaded(['--help']);
  assert.deepEqual(help.filter((f) => /client|commands\//.test(f)), [], `help loaded ${help.join(' ')}`);
  const run = loaded(['run', 'busybox']);
  assert.ok(run.includes('cli/streams.js'), 'run loads the stream code');
});

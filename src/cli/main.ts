/**
 * ctrnet: the command line, a client of ctrnetd's API only (over HTTP on its unix socket).
 * Commands and output follow the docker CLI. This is the dispatcher: it reads -H, finds the
 * command's module in command-table.ts, loads it, parses its flags and runs it, and turns what
 * ends it into docker's exit codes (125 for usage and daemon errors).
 */
import { ApiError } from './api-error';
import { parseArgs, Parsed, UsageError } from './args';
import { CliExit, Context, EXIT_DAEMON_ERROR, out } from './command';
import { lookup } from './command-table';
import type { Client } from './client';

/** The context of one run; the client (and node:http with it) is loaded on first use. */
function context(invokedAs: string, socketPath: string): Context {
  let client: Client | undefined;
  return {
    invokedAs,
    get client() {
      if (!client) {
        const { Client } = require('./client') as typeof import('./client');
        client = new Client(socketPath);
      }
      return client;
    },
  };
}

async function dispatch(argv: string[]): Promise<number> {
  let host = process.env.CTRNET_HOST ?? 'unix:///run/ctrnet/ctrnet.sock';
  while (argv[0] === '-H' || argv[0]?.startsWith('--host')) {
    const [flag, value] = argv[0].includes('=') ? argv[0].split('=') : [argv[0], argv[1]];
    host = value;
    argv = argv.slice(flag === argv[0] && !argv[0].includes('=') ? 2 : 1);
  }
  if (!host.startsWith('unix://')) throw new UsageError(`-H ${host}: only unix:///PATH is supported`);
  const [word, ...rest] = argv;
  if (word === undefined || word === 'help' || word === '--help') {
    out((require('./help') as typeof import('./help')).HELP);
    return 0;
  }
  const entry = lookup(word);
  if (!entry) throw new UsageError(`unknown command "${word}"; see 'ctrnet help'`);
  let def = entry.load();
  let args = [...(entry.prefix ?? []), ...rest];
  if (def.kind === 'group') {
    const [sub, ...subArgs] = args;
    const found = def.subcommands.find((s) => s.name === sub || (sub !== undefined && s.aliases?.includes(sub)));
    if (!found) throw new UsageError(def.unknown(sub));
    def = found;
    args = subArgs;
  }
  const p: Parsed = def.flags === null ? { flags: {}, args } : parseArgs(args, def.flags, def.interspersed ?? true);
  return def.run(context(word, host.slice('unix://'.length)), p);
}

export async function main(argv: string[]): Promise<void> {
  try {
    process.exitCode = await dispatch(argv);
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.message) process.stderr.write(e.message + '\n');
      process.exitCode = e.code;
    } else if (e instanceof UsageError) {
      process.stderr.write(`ctrnet: ${e.message}\nSee 'ctrnet help'.\n`);
      process.exitCode = EXIT_DAEMON_ERROR;
    } else if (e instanceof ApiError) {
      process.stderr.write(`ctrnet: Error response from daemon: ${e.message}\n`);
      process.exitCode = EXIT_DAEMON_ERROR;
    } else {
      process.stderr.write(`ctrnet: ${(e as Error).message}\n`);
      process.exitCode = EXIT_DAEMON_ERROR;
    }
  }
}

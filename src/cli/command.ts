/**
 * What a `ctrnet` command is: a typed definition (name, aliases, usage line, flags, run) in a
 * module of its own under cli/commands/, which the dispatcher (main.ts) loads only when its word is
 * typed (command-table.ts), and how a command ends: an exit code, or a CliExit.
 */
import type { FlagDef, Parsed } from './args';
import type { Client } from './client';

/** The docker CLI's exit code for an error of the daemon or of the command line */
export const EXIT_DAEMON_ERROR = 125;

/** Ends the CLI with `code`, printing `message` (if any) to stderr as it is. */
export class CliExit extends Error {
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
  }
}

/** What a command runs with. */
export interface Context {
  /** the word typed (`restart` runs the stop command, and the request says which) */
  invokedAs: string;
  /** the daemon's client, made on first use (loads node:http then) */
  readonly client: Client;
}

export interface Command {
  kind: 'command';
  name: string;
  aliases?: readonly string[];
  /** its synopsis, as in its usage errors */
  usage: string;
  /** its flags; null passes the arguments as typed (the command reads them itself, unknown flags included) */
  flags: Readonly<Record<string, FlagDef>> | null;
  /** false: flags end at the first positional argument, the rest is a command line (run, exec) */
  interspersed?: boolean;
  run(ctx: Context, p: Parsed): Promise<number>;
}

/** A command whose first argument picks one of its subcommands (`network ls`). */
export interface CommandGroup {
  kind: 'group';
  name: string;
  aliases?: readonly string[];
  usage: string;
  subcommands: readonly Command[];
  /** the usage error for a missing or unknown subcommand */
  unknown(sub: string | undefined): string;
}

export type AnyCommand = Command | CommandGroup;

/** Writes a line to stdout (adds the newline unless `s` ends with one). */
export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

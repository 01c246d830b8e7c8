/**
 * The words `ctrnet` knows and the module behind each. A module is loaded only when its word is
 * typed, so `ctrnet version` loads neither the stream code of run/exec nor the topology renderers:
 * CLI start-up time counts (it is measured against docker's). test/unit/cli-commands.test.ts
 * loads every module and checks it against this table and the help text.
 */
import type { AnyCommand } from './command';

export interface TableEntry {
  /** the words that select it: the command's name first, then its aliases */
  words: readonly string[];
  /** words put before the arguments: `images` is `image ls` */
  prefix?: readonly string[];
  load(): AnyCommand;
}

// Literal requires: the compiler checks each module's type, and nothing is loaded before it is called.
export const COMMANDS: readonly TableEntry[] = [
  { words: ['run'], load: () => (require('./commands/run') as typeof import('./commands/run')).command },
  { words: ['create'], load: () => (require('./commands/create') as typeof import('./commands/create')).command },
  { words: ['start'], load: () => (require('./commands/start') as typeof import('./commands/start')).command },
  { words: ['stop', 'restart'], load: () => (require('./commands/stop') as typeof import('./commands/stop')).command },
  { words: ['kill'], load: () => (require('./commands/kill') as typeof import('./commands/kill')).command },
  { words: ['rm'], load: () => (require('./commands/rm') as typeof import('./commands/rm')).command },
  { words: ['wait'], load: () => (require('./commands/wait') as typeof import('./commands/wait')).command },
  { words: ['ps'], load: () => (require('./commands/ps') as typeof import('./commands/ps')).command },
  { words: ['inspect'], load: () => (require('./commands/inspect') as typeof import('./commands/inspect')).command },
  { words: ['logs'], load: () => (require('./commands/logs') as typeof import('./commands/logs')).command },
  { words: ['exec'], load: () => (require('./commands/exec') as typeof import('./commands/exec')).command },
  { words: ['port'], load: () => (require('./commands/port') as typeof import('./commands/port')).command },
  { words: ['rename'], load: () => (require('./commands/rename') as typeof import('./commands/rename')).command },
  { words: ['explain'], load: () => (require('./commands/explain') as typeof import('./commands/explain')).command },
  { words: ['topology'], load: () => (require('./commands/topology') as typeof import('./commands/topology')).command },
  { words: ['version'], load: () => (require('./commands/version') as typeof import('./commands/version')).command },
  { words: ['info'], load: () => (require('./commands/info') as typeof import('./commands/info')).command },
  { words: ['system'], load: () => (require('./commands/system') as typeof import('./commands/system')).command },
  { words: ['image'], load: () => (require('./commands/image') as typeof import('./commands/image')).command },
  { words: ['import'], prefix: ['import'], load: () => (require('./commands/image') as typeof import('./commands/image')).command },
  { words: ['images'], prefix: ['ls'], load: () => (require('./commands/image') as typeof import('./commands/image')).command },
  { words: ['rmi'], prefix: ['rm'], load: () => (require('./commands/image') as typeof import('./commands/image')).command },
  { words: ['tag'], prefix: ['tag'], load: () => (require('./commands/image') as typeof import('./commands/image')).command },
  { words: ['pull'], load: () => (require('./commands/pull') as typeof import('./commands/pull')).command },
  { words: ['push'], load: () => (require('./commands/push') as typeof import('./commands/push')).command },
  { words: ['load'], load: () => (require('./commands/load') as typeof import('./commands/load')).command },
  { words: ['save'], load: () => (require('./commands/save') as typeof import('./commands/save')).command },
  { words: ['history'], load: () => (require('./commands/history') as typeof import('./commands/history')).command },
  { words: ['login'], load: () => (require('./commands/login') as typeof import('./commands/login')).command },
  { words: ['logout'], load: () => (require('./commands/logout') as typeof import('./commands/logout')).command },
  { words: ['export'], load: () => (require('./commands/export') as typeof import('./commands/export')).command },
  { words: ['network'], load: () => (require('./commands/network') as typeof import('./commands/network')).command },
  { words: ['volume'], load: () => (require('./commands/volume') as typeof import('./commands/volume')).command },
  { words: ['update'], load: () => (require('./commands/update') as typeof import('./commands/update')).command },
];

/** The entry for a typed word, if any. */
export function lookup(word: string): TableEntry | undefined {
  return COMMANDS.find((e) => e.words.includes(word));
}

/**
 * `ctrnet inspect [-f FORMAT] NAME...`: a container, else a network, else an image of that name, as
 * the daemon has it (JSON, or filled into a Go-template subset with -f).
 */
import { ApiError } from '../api-error';
import { str } from '../args';
import { Command } from '../command';
import { printInspected } from './_inspected';

export const command: Command = {
  kind: 'command',
  name: 'inspect',
  usage: 'ctrnet inspect [-f FORMAT] NAME...',
  flags: { format: { kind: 'string', short: 'f' } },
  async run(ctx, p) {
    const results: unknown[] = [];
    let failed = 0;
    for (const name of p.args) {
      const n = encodeURIComponent(name);
      let found: unknown;
      for (const path of [`/containers/${n}/json`, `/networks/${n}`, `/images/${n}/json`]) {
        try {
          found = (await ctx.client.call('GET', path)).data;
          break;
        } catch (e) {
          if (!(e instanceof ApiError && e.status === 404)) throw e;
        }
      }
      if (found) results.push(found);
      else {
        failed++;
        process.stderr.write(`Error: No such object: ${name}\n`);
      }
    }
    printInspected(results, str(p, 'format'));
    return failed ? 1 : 0;
  },
};

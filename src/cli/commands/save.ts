/** `ctrnet save [-o FILE] IMAGE...`: a tarball Docker loads (`docker save`'s format), to a file or a pipe. */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { str, UsageError } from '../args';
import { Command } from '../command';

export const command: Command = {
  kind: 'command',
  name: 'save',
  usage: 'ctrnet save [-o FILE] IMAGE...',
  flags: { output: { kind: 'string', short: 'o' } },
  async run(ctx, p) {
    if (!p.args.length) throw new UsageError('"save" requires at least 1 argument: ctrnet save [-o FILE] IMAGE...');
    const file = str(p, 'output');
    if (!file && process.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal: use the -o flag or redirect');
    const q = p.args.map((n) => `names=${encodeURIComponent(n)}`).join('&');
    const res = await ctx.client.stream('GET', `/images/get?${q}`);
    await pipeline(res, file ? createWriteStream(file) : process.stdout);
    return 0;
  },
};

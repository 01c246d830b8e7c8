/** `ctrnet export [-o FILE] CONTAINER`: the container's root filesystem as a tarball (`ctrnet import` takes it back). */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { str, UsageError } from '../args';
import { Command } from '../command';

export const command: Command = {
  kind: 'command',
  name: 'export',
  usage: 'ctrnet export [-o FILE] CONTAINER',
  flags: { output: { kind: 'string', short: 'o' } },
  async run(ctx, p) {
    if (p.args.length !== 1) throw new UsageError('"export" requires exactly 1 argument: ctrnet export [-o FILE] CONTAINER');
    const file = str(p, 'output');
    if (!file && process.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal: use the -o flag or redirect');
    const res = await ctx.client.stream('GET', `/containers/${encodeURIComponent(p.args[0])}/export`);
    await pipeline(res, file ? createWriteStream(file) : process.stdout);
    return 0;
  },
};

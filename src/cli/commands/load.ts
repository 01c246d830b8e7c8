/** `ctrnet load [-i FILE] [-q]`: a `docker save` archive or an OCI image layout tarball (plain, gzip or zstd). */
import { createReadStream } from 'node:fs';
import { bool, str, UsageError } from '../args';
import { Command } from '../command';
import { showProgress } from '../progress';

export const command: Command = {
  kind: 'command',
  name: 'load',
  usage: 'ctrnet load [-i FILE] [-q]',
  flags: { input: { kind: 'string', short: 'i' }, quiet: { kind: 'bool', short: 'q' } },
  async run(ctx, p) {
    if (p.args.length) throw new UsageError('"load" takes no arguments: ctrnet load [-i FILE]');
    const file = str(p, 'input');
    if (!file && process.stdin.isTTY) throw new UsageError('requested load from stdin, but stdin is empty: use -i FILE or a pipe');
    const body = file ? createReadStream(file) : process.stdin;
    await new Promise<void>((resolve, reject) => {
      body.once('error', (e: Error) => reject(new Error(`cannot read ${file ?? 'stdin'}: ${e.message}`)));
      body.once('readable', () => resolve());
    });
    const res = await ctx.client.stream('POST', `/images/load?quiet=${bool(p, 'quiet') ? 1 : 0}`, { body, headers: { 'Content-Type': 'application/x-tar' } });
    await showProgress(res);
    return 0;
  },
};

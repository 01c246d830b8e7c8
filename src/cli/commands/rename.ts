/** `ctrnet rename CONTAINER NEW_NAME` */
import { UsageError } from '../args';
import { Command } from '../command';

const USAGE = 'ctrnet rename CONTAINER NEW_NAME';

export const command: Command = {
  kind: 'command',
  name: 'rename',
  usage: USAGE,
  flags: {},
  async run(ctx, p) {
    if (p.args.length !== 2) throw new UsageError(`"rename" requires 2 arguments: ${USAGE}`);
    await ctx.client.call('POST', `/containers/${encodeURIComponent(p.args[0])}/rename?name=${encodeURIComponent(p.args[1])}`);
    return 0;
  },
};

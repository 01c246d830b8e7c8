/** `ctrnet kill [-s SIGNAL] CONTAINER...` */
import { str } from '../args';
import { Command, out } from '../command';
import { eachContainer } from './_each';

export const command: Command = {
  kind: 'command',
  name: 'kill',
  usage: 'ctrnet kill [-s SIGNAL] CONTAINER...',
  flags: { signal: { kind: 'string', short: 's' } },
  run(ctx, p) {
    return eachContainer(ctx, p, async (id) => {
      await ctx.client.call('POST', `/containers/${encodeURIComponent(id)}/kill${str(p, 'signal') ? `?signal=${str(p, 'signal')}` : ''}`);
      out(id);
    });
  },
};

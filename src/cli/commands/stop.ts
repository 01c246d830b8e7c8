/** `ctrnet stop|restart [-t SECONDS] CONTAINER...`: one module, the word typed picks the request. */
import { str } from '../args';
import { Command, out } from '../command';
import { eachContainer } from './_each';

export const command: Command = {
  kind: 'command',
  name: 'stop',
  aliases: ['restart'],
  usage: 'ctrnet stop|restart [-t SECONDS] CONTAINER...',
  flags: { time: { kind: 'string', short: 't' } },
  run(ctx, p) {
    return eachContainer(ctx, p, async (id) => {
      await ctx.client.call('POST', `/containers/${encodeURIComponent(id)}/${ctx.invokedAs}${str(p, 'time') ? `?t=${str(p, 'time')}` : ''}`);
      out(id);
    });
  },
};

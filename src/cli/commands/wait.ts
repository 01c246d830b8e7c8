/** `ctrnet wait CONTAINER...`: blocks until each exits, printing its exit code. */
import { Command, out } from '../command';
import { waitBody } from '../streams';
import { eachContainer } from './_each';

export const command: Command = {
  kind: 'command',
  name: 'wait',
  usage: 'ctrnet wait CONTAINER...',
  flags: {},
  run(ctx, p) {
    return eachContainer(ctx, p, async (id) => {
      out(String(await waitBody(await ctx.client.stream('POST', `/containers/${encodeURIComponent(id)}/wait`))));
    });
  },
};

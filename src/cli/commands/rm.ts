/** `ctrnet rm [-f] CONTAINER...`: with -f, running containers too, and a missing one is no error. */
import { ApiError } from '../api-error';
import { bool } from '../args';
import { Command, out } from '../command';
import { eachContainer } from './_each';

export const command: Command = {
  kind: 'command',
  name: 'rm',
  usage: 'ctrnet rm [-f] CONTAINER...',
  // -v is accepted for docker's scripts: ctrnet has no volumes to remove.
  flags: { force: { kind: 'bool', short: 'f' }, volumes: { kind: 'bool', short: 'v' } },
  run(ctx, p) {
    return eachContainer(ctx, p, async (id) => {
      try {
        await ctx.client.call('DELETE', `/containers/${encodeURIComponent(id)}${bool(p, 'force') ? '?force=1' : ''}`);
      } catch (e) {
        if (bool(p, 'force') && e instanceof ApiError && e.status === 404) return;
        throw e;
      }
      out(id);
    });
  },
};

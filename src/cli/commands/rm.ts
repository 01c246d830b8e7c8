/** `ctrnet rm [-f] [-v] CONTAINER...`: with -f, running containers too, and a missing one is no error; -v removes its anonymous volumes. */
import { ApiError } from '../api-error';
import { bool } from '../args';
import { Command, out } from '../command';
import { eachContainer } from './_each';

export const command: Command = {
  kind: 'command',
  name: 'rm',
  usage: 'ctrnet rm [-f] [-v] CONTAINER...',
  // -v: its anonymous volumes go too
  flags: { force: { kind: 'bool', short: 'f' }, volumes: { kind: 'bool', short: 'v' } },
  run(ctx, p) {
    return eachContainer(ctx, p, async (id) => {
      try {
        const q = [bool(p, 'force') ? 'force=1' : '', bool(p, 'volumes') ? 'v=1' : ''].filter(Boolean).join('&');
        await ctx.client.call('DELETE', `/containers/${encodeURIComponent(id)}${q ? `?${q}` : ''}`);
      } catch (e) {
        if (bool(p, 'force') && e instanceof ApiError && e.status === 404) return;
        throw e;
      }
      out(id);
    });
  },
};

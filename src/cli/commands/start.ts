/**
 * `ctrnet start [-a] [-i] CONTAINER...`: starts containers; with -a or -i, the first one attached to
 * this terminal, and its exit code is the CLI's.
 */
import { bool } from '../args';
import { Command, out } from '../command';
import type { ContainerInspect } from '../wire';
import { eachContainer } from './_each';

export const command: Command = {
  kind: 'command',
  name: 'start',
  usage: 'ctrnet start [-a] [-i] CONTAINER...',
  flags: { attach: { kind: 'bool', short: 'a' }, interactive: { kind: 'bool', short: 'i' } },
  async run(ctx, p) {
    const c = ctx.client;
    if (bool(p, 'attach') || bool(p, 'interactive')) {
      // Loaded here only: a plain start needs no stream code.
      const { pump, waitBody } = require('../streams') as typeof import('../streams');
      const id = p.args[0];
      const info = (await c.call<ContainerInspect>('GET', `/containers/${id}/json`)).data;
      const sock = await c.hijack(`/containers/${id}/attach?stderr=1${bool(p, 'interactive') ? '&stdin=1' : ''}&stdout=1&stream=1`);
      const stream = pump(sock, info.Config.Tty, bool(p, 'interactive'));
      const wait = await c.stream('POST', `/containers/${id}/wait?condition=next-exit`);
      await c.call('POST', `/containers/${id}/start`);
      const [code] = await Promise.all([waitBody(wait), stream]);
      return code;
    }
    return eachContainer(ctx, p, async (id) => {
      await c.call('POST', `/containers/${encodeURIComponent(id)}/start`);
      out(id);
    });
  },
};

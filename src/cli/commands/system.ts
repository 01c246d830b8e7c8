/** `ctrnet system reload`: the daemon re-applies its nftables rules (after someone flushed them). */
import { CommandGroup, out } from '../command';

export const command: CommandGroup = {
  kind: 'group',
  name: 'system',
  usage: 'ctrnet system reload',
  subcommands: [
    {
      kind: 'command',
      name: 'reload',
      usage: 'ctrnet system reload',
      flags: null,
      async run(ctx) {
        await ctx.client.call('POST', '/ctrnet/system/reload');
        out('reloaded: nftables rules re-applied');
        return 0;
      },
    },
  ],
  unknown: () => 'unknown system command: use `ctrnet system reload`',
};

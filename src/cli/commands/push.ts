/** `ctrnet push [-a] NAME[:TAG]`: the daemon pushes to the image's registry with the stored credentials. */
import { bool, UsageError } from '../args';
import { Command } from '../command';
import { showProgress } from '../progress';
import { authHeaderFor } from '../registry-auth';
import { imagePath, splitRef } from './_image-ref';

export const command: Command = {
  kind: 'command',
  name: 'push',
  usage: 'ctrnet push [-a] NAME[:TAG]',
  flags: { 'all-tags': { kind: 'bool', short: 'a' }, quiet: { kind: 'bool', short: 'q' } },
  async run(ctx, p) {
    const [ref] = p.args;
    if (!ref || p.args.length > 1) throw new UsageError('"push" requires exactly 1 argument: ctrnet push NAME[:TAG]');
    const all = bool(p, 'all-tags');
    const { name, tag } = splitRef(ref, all ? undefined : 'latest');
    const q = tag ? `?tag=${encodeURIComponent(tag)}` : '';
    const res = await ctx.client.stream('POST', `/images/${imagePath(name)}/push${q}`, { headers: { 'X-Registry-Auth': authHeaderFor(ref), 'Content-Length': '0' } });
    await showProgress(res);
    return 0;
  },
};

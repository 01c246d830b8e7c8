/**
 * `ctrnet pull [--platform OS/ARCH] [-q] NAME[:TAG|@DIGEST]`: the daemon pulls from the image's
 * registry with the credentials `ctrnet login` (or `docker login`) stored for it; the progress is
 * drawn per layer. Also what `run` and `create` do for an image that is missing.
 */
import { ApiError } from '../api-error';
import { bool, str, UsageError } from '../args';
import { Command, Context, out } from '../command';
import { ProgressOut, showProgress } from '../progress';
import { authHeaderFor } from '../registry-auth';
import { splitRef } from './_image-ref';

/** Pulls `ref`, drawing progress on `to`; ApiError when the daemon refuses before the stream. */
export async function pullImage(ctx: Context, ref: string, opts: { platform?: string; quiet?: boolean; to?: ProgressOut } = {}): Promise<void> {
  const { name, tag } = splitRef(ref);
  const q = new URLSearchParams({ fromImage: name, tag: tag ?? 'latest' });
  if (opts.platform) q.set('platform', opts.platform);
  const res = await ctx.client.stream('POST', `/images/create?${q}`, { headers: { 'X-Registry-Auth': authHeaderFor(ref), 'Content-Length': '0' } });
  const sink: ProgressOut = opts.quiet ? { write: () => true } : (opts.to ?? process.stdout);
  try {
    await showProgress(res, sink);
  } catch (e) {
    throw new ApiError(500, (e as Error).message);
  }
}

export const command: Command = {
  kind: 'command',
  name: 'pull',
  usage: 'ctrnet pull [--platform OS/ARCH] [-q] NAME[:TAG|@DIGEST]',
  flags: { platform: { kind: 'string' }, quiet: { kind: 'bool', short: 'q' }, 'all-tags': { kind: 'bool', short: 'a' } },
  async run(ctx, p) {
    const [ref] = p.args;
    if (!ref || p.args.length > 1) throw new UsageError('"pull" requires exactly 1 argument: ctrnet pull NAME[:TAG|@DIGEST]');
    if (bool(p, 'all-tags')) throw new UsageError('pull -a (every tag) is not supported by ctrnet: pull NAME:TAG');
    await pullImage(ctx, ref, { platform: str(p, 'platform'), quiet: bool(p, 'quiet') });
    out(/[:@][^/]*$/.test(ref) ? ref : `${ref}:latest`);
    return 0;
  },
};

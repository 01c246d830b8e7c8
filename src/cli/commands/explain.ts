/** `ctrnet explain [--lang en|zh] [--json] CONTAINER`: the kernel objects behind a container's network; exit 3 on a mismatch. */
import { bool, str, UsageError } from '../args';
import { Command } from '../command';
import type { Explanation } from '../../base/explanation';
import { Lang, sayExplanation } from '../../view/explain-text';

const USAGE = 'ctrnet explain [--lang en|zh] [--json] CONTAINER';

export const command: Command = {
  kind: 'command',
  name: 'explain',
  usage: USAGE,
  flags: { lang: { kind: 'string' }, json: { kind: 'bool' } },
  async run(ctx, p) {
    const lang = (str(p, 'lang') ?? 'en') as Lang;
    if (lang !== 'en' && lang !== 'zh') throw new UsageError(`--lang ${lang}: use en or zh`);
    if (p.args.length !== 1) throw new UsageError(`"explain" requires 1 argument: ${USAGE}`);
    const x = (await ctx.client.call<Explanation>('GET', `/ctrnet/containers/${encodeURIComponent(p.args[0])}/explain`)).data;
    process.stdout.write(bool(p, 'json') ? JSON.stringify(x, null, 2) + '\n' : sayExplanation(x, lang));
    return x.mismatches.length ? 3 : 0;
  },
};

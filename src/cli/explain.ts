/** `ctrnet explain [--lang en|zh] [--json] CONTAINER`: the kernel objects behind a container's network. */
import { Client } from './client';
import { bool, parseArgs, str, UsageError } from './args';
import type { Explanation } from '../core/explain';
import { Lang, sayExplanation } from '../core/explain-text';

export async function explainCommand(c: Client, argv: string[]): Promise<number> {
  const p = parseArgs(argv, { lang: { kind: 'string' }, json: { kind: 'bool' } });
  const lang = (str(p, 'lang') ?? 'en') as Lang;
  if (lang !== 'en' && lang !== 'zh') throw new UsageError(`--lang ${lang}: use en or zh`);
  if (p.args.length !== 1) throw new UsageError('"explain" requires 1 argument: ctrnet explain [--lang en|zh] [--json] CONTAINER');
  const x = (await c.call<Explanation>('GET', `/ctrnet/containers/${encodeURIComponent(p.args[0])}/explain`)).data;
  process.stdout.write(bool(p, 'json') ? JSON.stringify(x, null, 2) + '\n' : sayExplanation(x, lang));
  return x.mismatches.length ? 3 : 0;
}

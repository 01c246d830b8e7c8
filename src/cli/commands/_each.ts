/** Runs one operation per container named (start, stop, kill, rm, wait): a failure is reported and the rest go on. */
import { Parsed, UsageError } from '../args';
import { Context } from '../command';

/** Exit code 1 when any of them failed, as docker does. */
export async function eachContainer(ctx: Context, p: Parsed, op: (id: string) => Promise<void>): Promise<number> {
  if (!p.args.length) throw new UsageError(`"${ctx.invokedAs}" requires at least 1 argument`);
  let failed = 0;
  for (const id of p.args) {
    try {
      await op(id);
    } catch (e) {
      failed++;
      process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
    }
  }
  return failed ? 1 : 0;
}

/** `ctrnet history [--no-trunc] [-q] IMAGE`: the steps that made an image, newest first. */
import { bool, UsageError } from '../args';
import { Command, out } from '../command';
import { ago, table } from '../../view/table';
import { humanSize } from '../../view/progress';
import { imagePath } from './_image-ref';

interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Size: number;
  Comment: string;
}

export const command: Command = {
  kind: 'command',
  name: 'history',
  usage: 'ctrnet history [--no-trunc] [-q] IMAGE',
  flags: { 'no-trunc': { kind: 'bool' }, quiet: { kind: 'bool', short: 'q' }, human: { kind: 'bool', short: 'H' } },
  async run(ctx, p) {
    if (p.args.length !== 1) throw new UsageError('"history" requires exactly 1 argument: ctrnet history IMAGE');
    const h = (await ctx.client.call<HistoryEntry[]>('GET', `/images/${imagePath(p.args[0])}/history`)).data;
    const full = bool(p, 'no-trunc');
    const id = (x: string) => (x === '<missing>' || full ? x : x.replace(/^sha256:/, '').slice(0, 12));
    if (bool(p, 'quiet')) {
      out(h.map((e) => id(e.Id)).join('\n'));
      return 0;
    }
    const by = (s: string) => (full || s.length <= 45 ? s : `${s.slice(0, 44)}…`);
    out(table(['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], h.map((e) => [id(e.Id), ago(e.Created), by(e.CreatedBy), humanSize(e.Size), e.Comment])));
    return 0;
  },
};

/**
 * `ctrnet topology [--format text|json|dot|svg] [--width PX]`: the host's network picture, from the
 * daemon's GET /ctrnet/topology. Text is a tree per network for the terminal, dot is for Graphviz
 * users, svg is our own layout (no external tool needed), json is the model itself
 * (base/topology.ts). The renderers are view/'s, shared with the web UI.
 */
import { str, UsageError } from '../args';
import { Command } from '../command';
import type { Topology } from '../../base/topology';
import { renderDot } from '../../view/topology-dot';
import { MIN_WIDTH } from '../../view/topology-layout';
import { renderSvg } from '../../view/topology-svg';
import { renderText } from '../../view/topology-text';

const USAGE = 'ctrnet topology [--format text|json|dot|svg]';
const FORMATS = ['text', 'json', 'dot', 'svg'];

export const command: Command = {
  kind: 'command',
  name: 'topology',
  usage: USAGE,
  flags: { format: { kind: 'string', short: 'f' }, width: { kind: 'string' } },
  async run(ctx, p) {
    const format = str(p, 'format') ?? 'text';
    if (!FORMATS.includes(format)) throw new UsageError(`--format ${format}: choose one of ${FORMATS.join(', ')}`);
    const width = Number(str(p, 'width') ?? 1400);
    if (!Number.isInteger(width) || width < MIN_WIDTH) throw new UsageError(`--width ${str(p, 'width')}: give a whole number of pixels, at least ${MIN_WIDTH}`);
    if (p.args.length) throw new UsageError(`"topology" takes no arguments: ${USAGE}`);
    const t = (await ctx.client.call<Topology>('GET', '/ctrnet/topology')).data;
    const text = format === 'json' ? JSON.stringify(t, null, 2) : format === 'dot' ? renderDot(t) : format === 'svg' ? renderSvg(t, width) : renderText(t);
    process.stdout.write(text.endsWith('\n') ? text : text + '\n');
    return 0;
  },
};

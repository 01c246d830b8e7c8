/** `ctrnet logs [-f] [-t] [--tail N] CONTAINER`: its output, stdout and stderr kept apart (without a TTY). */
import { bool, str } from '../args';
import { Command } from '../command';
import { FrameReader, STREAM_STDERR } from '../../base/frames';
import type { ContainerInspect } from '../wire';

export const command: Command = {
  kind: 'command',
  name: 'logs',
  usage: 'ctrnet logs [-f] [-t] [--tail N] CONTAINER',
  flags: { follow: { kind: 'bool', short: 'f' }, timestamps: { kind: 'bool', short: 't' }, tail: { kind: 'string', short: 'n' } },
  async run(ctx, p) {
    const id = encodeURIComponent(p.args[0] ?? '');
    const info = (await ctx.client.call<ContainerInspect>('GET', `/containers/${id}/json`)).data;
    const q = `stdout=1&stderr=1${bool(p, 'follow') ? '&follow=1' : ''}${bool(p, 'timestamps') ? '&timestamps=1' : ''}${str(p, 'tail') ? `&tail=${str(p, 'tail')}` : ''}`;
    const res = await ctx.client.stream('GET', `/containers/${id}/logs?${q}`);
    const reader = new FrameReader((stream, payload) => (stream === STREAM_STDERR ? process.stderr : process.stdout).write(payload));
    for await (const chunk of res) {
      if (info.Config.Tty) process.stdout.write(chunk as Buffer);
      else reader.push(chunk as Buffer);
    }
    return 0;
  },
};

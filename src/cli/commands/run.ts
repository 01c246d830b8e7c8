/**
 * `ctrnet run [OPTIONS] IMAGE [COMMAND] [ARG...]`: create, attach, start, wait, as docker run does.
 * The attach and the wait are set up before the start, so no output and no exit is missed. A start
 * that fails exits as docker's does: 127 (command not found), 126 (not executable), 125.
 */
import { bool } from '../args';
import { CliExit, Command, EXIT_DAEMON_ERROR, out } from '../command';
import { pump, waitBody } from '../streams';
import { createBody, createContainer, RUN_FLAGS } from './_create';

export const command: Command = {
  kind: 'command',
  name: 'run',
  usage: 'ctrnet run [OPTIONS] IMAGE [COMMAND] [ARG...]',
  flags: RUN_FLAGS,
  interspersed: false,
  async run(ctx, p) {
    const c = ctx.client;
    const { name, body } = createBody(p);
    const detach = bool(p, 'detach');
    const id = await createContainer(ctx, name, body, p);
    const tty = body.Tty;
    const interactive = body.OpenStdin;
    let stream: Promise<void> | undefined;
    if (!detach) {
      const sock = await c.hijack(`/containers/${id}/attach?stderr=1${interactive ? '&stdin=1' : ''}&stdout=1&stream=1`);
      stream = pump(sock, tty, interactive, (rows, cols) => void c.call('POST', `/containers/${id}/resize?h=${rows}&w=${cols}`).catch(() => {}));
    }
    const wait = detach ? undefined : await c.stream('POST', `/containers/${id}/wait?condition=${bool(p, 'rm') ? 'removed' : 'next-exit'}`);
    try {
      await c.call('POST', `/containers/${id}/start`);
    } catch (e) {
      process.stderr.write(`ctrnet: Error response from daemon: ${(e as Error).message}\n`);
      const msg = (e as Error).message;
      throw new CliExit(/executable file not found|no such file or directory/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : EXIT_DAEMON_ERROR);
    }
    if (detach) {
      out(id);
      return 0;
    }
    const [code] = await Promise.all([waitBody(wait!), stream]);
    return code;
  },
};

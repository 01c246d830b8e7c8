/** `ctrnet exec [-i] [-t] [-d] [-e K=V] [-w DIR] CONTAINER COMMAND...`: its exit code is the CLI's. */
import { bool, list, str, UsageError } from '../args';
import { Command } from '../command';
import { pump } from '../streams';
import type { ExecCreateBody, ExecInspect, IdResponse } from '../wire';

const USAGE = 'ctrnet exec [OPTIONS] CONTAINER COMMAND [ARG...]';

export const command: Command = {
  kind: 'command',
  name: 'exec',
  usage: USAGE,
  flags: { interactive: { kind: 'bool', short: 'i' }, tty: { kind: 'bool', short: 't' }, detach: { kind: 'bool', short: 'd' }, env: { kind: 'list', short: 'e' }, workdir: { kind: 'string', short: 'w' } },
  interspersed: false,
  async run(ctx, p) {
    const c = ctx.client;
    const [id, ...cmdline] = p.args;
    if (!id || !cmdline.length) throw new UsageError(`"exec" requires at least 2 arguments: ${USAGE}`);
    const detach = bool(p, 'detach');
    const tty = bool(p, 'tty');
    const interactive = bool(p, 'interactive');
    const body: ExecCreateBody = {
      AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach, Tty: tty, Env: list(p, 'env'), WorkingDir: str(p, 'workdir') ?? '', Cmd: cmdline,
    };
    const execId = (await c.call<IdResponse>('POST', `/containers/${encodeURIComponent(id)}/exec`, body)).data.Id;
    if (detach) {
      await c.call('POST', `/exec/${execId}/start`, { Detach: true, Tty: tty });
      return 0;
    }
    const sock = await c.hijack(`/exec/${execId}/start`, { Detach: false, Tty: tty });
    await pump(sock, tty, interactive, (rows, cols) => void c.call('POST', `/exec/${execId}/resize?h=${rows}&w=${cols}`).catch(() => {}));
    const info = (await c.call<ExecInspect>('GET', `/exec/${execId}/json`)).data;
    return info.ExitCode ?? 0;
  },
};

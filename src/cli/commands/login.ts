/**
 * `ctrnet login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]` and `ctrnet logout [SERVER]`:
 * the daemon checks the credentials with the registry (POST /auth); the CLI keeps them
 * (registry-auth.ts) for pull, push and run. No server: Docker Hub.
 */
import { bool, str, UsageError } from '../args';
import { Command, out } from '../command';
import { HUB_KEY, registryKey, removeCredentials, saveCredentials } from '../registry-auth';

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString().replace(/\r?\n$/, '');
}

/** A line from the terminal; without echo for a password. */
async function prompt(question: string, hidden: boolean): Promise<string> {
  if (!process.stdin.isTTY) throw new UsageError(`cannot ask for the ${hidden ? 'password' : 'username'}: stdin is not a terminal (use -u and --password-stdin)`);
  process.stderr.write(question);
  process.stdin.setRawMode(hidden);
  return new Promise((resolve) => {
    let line = '';
    const onData = (d: Buffer) => {
      for (const ch of d.toString()) {
        if (ch === '\r' || ch === '\n') {
          process.stdin.off('data', onData);
          process.stdin.setRawMode(false);
          process.stdin.pause();
          if (hidden) process.stderr.write('\n');
          return resolve(line);
        }
        if (ch === '\u0003') process.exit(130);
        line = ch === '\u007f' ? line.slice(0, -1) : line + ch;
      }
    };
    process.stdin.on('data', onData);
    process.stdin.resume();
  });
}

export const command: Command = {
  kind: 'command',
  name: 'login',
  usage: 'ctrnet login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]',
  flags: { username: { kind: 'string', short: 'u' }, password: { kind: 'string', short: 'p' }, 'password-stdin': { kind: 'bool' } },
  async run(ctx, p) {
    if (p.args.length > 1) throw new UsageError('"login" takes at most 1 argument: ctrnet login [SERVER]');
    const server = p.args[0] ?? HUB_KEY;
    let password = str(p, 'password');
    if (bool(p, 'password-stdin')) {
      if (password) throw new UsageError('--password and --password-stdin are mutually exclusive');
      if (!str(p, 'username')) throw new UsageError('Must provide --username with --password-stdin');
      password = await readStdin();
    } else if (password) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
    const username = str(p, 'username') ?? (await prompt('Username: ', false));
    password ??= await prompt('Password: ', true);
    const r = await ctx.client.call<{ Status: string; IdentityToken?: string }>('POST', '/auth', { username, password, serveraddress: registryKey(server) });
    saveCredentials(server, username, password, r.data.IdentityToken || undefined);
    out(r.data.Status);
    return 0;
  },
};

export const logout: Command = {
  kind: 'command',
  name: 'logout',
  usage: 'ctrnet logout [SERVER]',
  flags: null,
  async run(_ctx, p) {
    const server = p.args[0] ?? HUB_KEY;
    if (removeCredentials(server)) out(`Removing login credentials for ${registryKey(server)}`);
    else out(`Not logged in to ${registryKey(server)}`);
    return 0;
  },
};

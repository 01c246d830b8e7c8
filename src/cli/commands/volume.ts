/** `ctrnet volume create|ls|inspect|rm|prune`, as docker's. */
import { ApiError } from '../api-error';
import { bool, list, str, UsageError } from '../args';
import { Command, CommandGroup, out } from '../command';
import { printInspected } from './_inspected';
import { table } from '../../view/table';
import type { VolumeJson } from '../wire';

/** K=V flags (-o, --label) as an object; the value keeps any further '='. */
const kv = (l: string[]): Record<string, string> => Object.fromEntries(l.map((x) => [x.split('=')[0], x.split('=').slice(1).join('=')]));

/** `-f k=v` flags as Docker's filters JSON. */
function filters(l: string[]): string {
  const f: Record<string, string[]> = {};
  for (const x of l) {
    const eq = x.indexOf('=');
    if (eq < 1) throw new UsageError(`bad format of filter (expected name=value): ${x}`);
    (f[x.slice(0, eq)] ??= []).push(x.slice(eq + 1));
  }
  return encodeURIComponent(JSON.stringify(f));
}

const create: Command = {
  kind: 'command',
  name: 'create',
  usage: 'ctrnet volume create [-d local] [-o type=tmpfs -o device=tmpfs -o o=size=10m] [--label K=V] [NAME]',
  flags: { driver: { kind: 'string', short: 'd' }, opt: { kind: 'list', short: 'o' }, label: { kind: 'list' } },
  async run(ctx, p) {
    if (p.args.length > 1) throw new UsageError('"volume create" takes at most 1 argument: ctrnet volume create [OPTIONS] [NAME]');
    const body = { Name: p.args[0] ?? '', Driver: str(p, 'driver') ?? 'local', DriverOpts: kv(list(p, 'opt')), Labels: kv(list(p, 'label')) };
    out((await ctx.client.call<VolumeJson>('POST', '/volumes/create', body)).data.Name);
    return 0;
  },
};

const ls: Command = {
  kind: 'command',
  name: 'ls',
  aliases: ['list'],
  usage: 'ctrnet volume ls [-q] [-f name=…|label=…|driver=…|dangling=true]',
  flags: { quiet: { kind: 'bool', short: 'q' }, filter: { kind: 'list', short: 'f' } },
  async run(ctx, p) {
    const f = list(p, 'filter');
    const vols = (await ctx.client.call<{ Volumes: VolumeJson[] | null }>('GET', `/volumes${f.length ? `?filters=${filters(f)}` : ''}`)).data.Volumes ?? [];
    vols.sort((a, b) => a.Name.localeCompare(b.Name));
    if (bool(p, 'quiet')) out(vols.map((v) => v.Name).join('\n'));
    else out(table(['DRIVER', 'VOLUME NAME'], vols.map((v) => [v.Driver, v.Name])));
    return 0;
  },
};

const inspect: Command = {
  kind: 'command',
  name: 'inspect',
  usage: 'ctrnet volume inspect [-f FORMAT] VOLUME...',
  flags: { format: { kind: 'string', short: 'f' } },
  async run(ctx, p) {
    if (!p.args.length) throw new UsageError('"volume inspect" requires at least 1 argument');
    const res: unknown[] = [];
    for (const n of p.args) res.push((await ctx.client.call('GET', `/volumes/${encodeURIComponent(n)}`)).data);
    printInspected(res, str(p, 'format'));
    return 0;
  },
};

const rm: Command = {
  kind: 'command',
  name: 'rm',
  aliases: ['remove'],
  usage: 'ctrnet volume rm [-f] VOLUME...',
  flags: { force: { kind: 'bool', short: 'f' } },
  async run(ctx, p) {
    if (!p.args.length) throw new UsageError('"volume rm" requires at least 1 argument');
    let failed = 0;
    for (const n of p.args) {
      try {
        await ctx.client.call('DELETE', `/volumes/${encodeURIComponent(n)}${bool(p, 'force') ? '?force=1' : ''}`);
        out(n);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        failed++;
        process.stderr.write(`Error response from daemon: ${e.message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};

const prune: Command = {
  kind: 'command',
  name: 'prune',
  usage: 'ctrnet volume prune [--filter label=K[=V]]',
  flags: { force: { kind: 'bool', short: 'f' }, filter: { kind: 'list' } },
  async run(ctx, p) {
    const f = list(p, 'filter');
    const r = (await ctx.client.call<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', `/volumes/prune${f.length ? `?filters=${filters(f)}` : ''}`)).data;
    if (r.VolumesDeleted?.length) out(`Deleted Volumes:\n${r.VolumesDeleted.join('\n')}\n`);
    out(`Total reclaimed space: ${r.SpaceReclaimed}B`);
    return 0;
  },
};

export const command: CommandGroup = {
  kind: 'group',
  name: 'volume',
  usage: 'ctrnet volume create|ls|inspect|rm|prune',
  subcommands: [create, ls, inspect, rm, prune],
  unknown: (sub) => (sub === undefined ? '"volume" requires a subcommand: create, ls, inspect, rm, prune' : `unknown volume command "${sub}"`),
};

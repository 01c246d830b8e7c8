/**
 * `ctrnet image import|ls|rm|tag|inspect|history|prune|pull|push|load|save`, and docker's short
 * forms `import`, `images`, `rmi`, `tag` (command-table.ts maps them here; pull, push, load, save
 * and history have modules of their own, shared with their top-level words).
 */
import { createReadStream } from 'node:fs';
import { bool, list, str, UsageError } from '../args';
import { Command, CommandGroup, out } from '../command';
import { printInspected } from './_inspected';
import { ago, table } from '../../view/table';
import { humanSize } from '../../view/progress';
import type { ImageDeleteItem, ImageImportResponse, ImageSummary } from '../wire';
import { imagePath, splitRef } from './_image-ref';
import { command as history } from './history';
import { command as load } from './load';
import { command as pull } from './pull';
import { command as push } from './push';
import { command as save } from './save';

const importCmd: Command = {
  kind: 'command',
  name: 'import',
  usage: 'ctrnet image import [-c INSTRUCTION]... [-m MESSAGE] [--platform OS/ARCH] FILE|- [NAME[:TAG]]',
  flags: { change: { kind: 'list', short: 'c' }, message: { kind: 'string', short: 'm' }, platform: { kind: 'string' } },
  async run(ctx, p) {
    const [file, name] = p.args;
    if (!file) throw new UsageError('"image import" requires a file (or - for stdin): ctrnet image import FILE|- [NAME[:TAG]]');
    const q = new URLSearchParams({ fromSrc: '-' });
    if (name) {
      const ref = splitRef(name);
      q.set('repo', ref.name);
      q.set('tag', ref.tag ?? 'latest');
    }
    for (const c of list(p, 'change')) q.append('changes', c);
    if (str(p, 'message')) q.set('message', str(p, 'message')!);
    if (str(p, 'platform')) q.set('platform', str(p, 'platform')!);
    const stream = file === '-' ? process.stdin : createReadStream(file);
    // A file that cannot be read fails here, before the request, with its name.
    await new Promise<void>((resolve, reject) => {
      stream.once('error', (e: Error) => reject(new Error(`cannot read ${file}: ${e.message}`)));
      stream.once('readable', () => resolve());
    });
    const r = await ctx.client.call<ImageImportResponse>('POST', `/images/create?${q}`, undefined, stream);
    out(r.data.status);
    return 0;
  },
};

const ls: Command = {
  kind: 'command',
  name: 'ls',
  aliases: ['list'],
  usage: 'ctrnet image ls [-q] [-a] [--digests] [--no-trunc]',
  flags: { quiet: { kind: 'bool', short: 'q' }, all: { kind: 'bool', short: 'a' }, digests: { kind: 'bool' }, 'no-trunc': { kind: 'bool' } },
  async run(ctx, p) {
    const imgs = (await ctx.client.call<(ImageSummary & { RepoDigests?: string[] | null })[]>('GET', '/images/json')).data;
    const id = (i: ImageSummary) => (bool(p, 'no-trunc') ? i.Id : i.Id.replace(/^sha256:/, '').slice(0, 12));
    if (bool(p, 'quiet')) {
      out([...new Set(imgs.map(id))].join('\n'));
      return 0;
    }
    const digests = bool(p, 'digests');
    const rows = imgs.flatMap((i) =>
      i.RepoTags.map((t) => {
        const at = t.lastIndexOf(':');
        const repo = t.slice(0, at);
        const digest = (i.RepoDigests ?? []).find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
        return [repo, t.slice(at + 1), ...(digests ? [digest] : []), id(i), ago(i.Created), humanSize(i.Size)];
      }),
    );
    out(table(['REPOSITORY', 'TAG', ...(digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE'], rows));
    return 0;
  },
};

const rm: Command = {
  kind: 'command',
  name: 'rm',
  usage: 'ctrnet image rm [-f] NAME...',
  flags: { force: { kind: 'bool', short: 'f' }, 'no-prune': { kind: 'bool' } },
  async run(ctx, p) {
    for (const n of p.args) {
      const r = await ctx.client.call<ImageDeleteItem[]>('DELETE', `/images/${imagePath(n)}${bool(p, 'force') ? '?force=1' : ''}`);
      for (const x of r.data) out(x.Untagged ? `Untagged: ${x.Untagged}` : `Deleted: ${x.Deleted}`);
    }
    return 0;
  },
};

const tag: Command = {
  kind: 'command',
  name: 'tag',
  usage: 'ctrnet tag SOURCE TARGET',
  flags: null,
  async run(ctx, p) {
    const [src, dst] = p.args;
    if (!src || !dst) throw new UsageError('"tag" requires 2 arguments: ctrnet tag SOURCE TARGET');
    const ref = splitRef(dst);
    await ctx.client.call('POST', `/images/${imagePath(src)}/tag?repo=${encodeURIComponent(ref.name)}&tag=${encodeURIComponent(ref.tag ?? 'latest')}`);
    return 0;
  },
};

const inspect: Command = {
  kind: 'command',
  name: 'inspect',
  usage: 'ctrnet image inspect [-f FORMAT] IMAGE...',
  flags: { format: { kind: 'string', short: 'f' } },
  async run(ctx, p) {
    if (!p.args.length) throw new UsageError('"image inspect" requires at least 1 argument');
    const found: unknown[] = [];
    for (const n of p.args) found.push((await ctx.client.call('GET', `/images/${imagePath(n)}/json`)).data);
    printInspected(found, str(p, 'format'));
    return 0;
  },
};

const prune: Command = {
  kind: 'command',
  name: 'prune',
  usage: 'ctrnet image prune [-a] [-f] [--filter K=V]',
  flags: { all: { kind: 'bool', short: 'a' }, force: { kind: 'bool', short: 'f' }, filter: { kind: 'list' } },
  async run(ctx, p) {
    const filters: Record<string, string[]> = {};
    for (const f of list(p, 'filter')) {
      const eq = f.indexOf('=');
      (filters[f.slice(0, eq)] ??= []).push(f.slice(eq + 1));
    }
    if (bool(p, 'all')) filters.dangling = ['false'];
    const r = await ctx.client.call<{ ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }>('POST', `/images/prune?filters=${encodeURIComponent(JSON.stringify(filters))}`);
    const del = r.data.ImagesDeleted ?? [];
    if (del.length) out(`Deleted Images:\n${del.map((x) => (x.Untagged ? `untagged: ${x.Untagged}` : `deleted: ${x.Deleted}`)).join('\n')}\n`);
    out(`Total reclaimed space: ${humanSize(r.data.SpaceReclaimed)}`);
    return 0;
  },
};

export const command: CommandGroup = {
  kind: 'group',
  name: 'image',
  usage: 'ctrnet image import|ls|rm|tag|inspect|history|prune|pull|push|load|save',
  subcommands: [importCmd, ls, rm, tag, inspect, history, prune, pull, push, load, save],
  unknown: (sub) => `unknown image command "${sub ?? ''}": use import, ls, rm, tag, inspect, history, prune, pull, push, load or save`,
};

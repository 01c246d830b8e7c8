/**
 * `ctrnet image import|ls|rm|tag`, and docker's short forms `import`, `images`, `rmi`, `tag`
 * (command-table.ts maps them here). Images come from tar files: ctrnet has no registry client.
 */
import { createReadStream } from 'node:fs';
import { bool, UsageError } from '../args';
import { Command, CommandGroup, out } from '../command';
import { ago, table } from '../../view/table';
import type { ImageDeleteItem, ImageImportResponse, ImageSummary } from '../wire';

/** `NAME[:TAG]` → repo and tag (`latest` when none); a colon before the last slash is a registry port. */
function splitRef(ref: string): { repo: string; tag: string } {
  const at = ref.lastIndexOf(':');
  return at > ref.lastIndexOf('/') ? { repo: ref.slice(0, at), tag: ref.slice(at + 1) } : { repo: ref, tag: 'latest' };
}

const importCmd: Command = {
  kind: 'command',
  name: 'import',
  usage: 'ctrnet image import FILE|- [NAME[:TAG]]',
  flags: null,
  async run(ctx, p) {
    const [file, name] = p.args;
    if (!file) throw new UsageError('"image import" requires a file (or - for stdin): ctrnet image import FILE|- [NAME[:TAG]]');
    const ref = name ? splitRef(name) : undefined;
    const q = `fromSrc=-${ref ? `&repo=${encodeURIComponent(ref.repo)}&tag=${encodeURIComponent(ref.tag)}` : ''}`;
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
  usage: 'ctrnet image ls',
  flags: null,
  async run(ctx) {
    const imgs = (await ctx.client.call<ImageSummary[]>('GET', '/images/json')).data;
    const rows = imgs.flatMap((i) =>
      i.RepoTags.map((t) => {
        const at = t.lastIndexOf(':');
        return [t.slice(0, at), t.slice(at + 1), i.Id.replace(/^sha256:/, '').slice(0, 12), ago(i.Created), `${(i.Size / 1e6).toFixed(2)}MB`];
      }),
    );
    out(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows));
    return 0;
  },
};

const rm: Command = {
  kind: 'command',
  name: 'rm',
  usage: 'ctrnet image rm [-f] NAME...',
  flags: { force: { kind: 'bool', short: 'f' } },
  async run(ctx, p) {
    for (const n of p.args) {
      const r = await ctx.client.call<ImageDeleteItem[]>('DELETE', `/images/${encodeURIComponent(n)}${bool(p, 'force') ? '?force=1' : ''}`);
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
    const at = dst.lastIndexOf(':') > dst.lastIndexOf('/') ? dst.lastIndexOf(':') : -1;
    const q = at > 0 ? `repo=${encodeURIComponent(dst.slice(0, at))}&tag=${encodeURIComponent(dst.slice(at + 1))}` : `repo=${encodeURIComponent(dst)}&tag=latest`;
    await ctx.client.call('POST', `/images/${encodeURIComponent(src)}/tag?${q}`);
    return 0;
  },
};

export const command: CommandGroup = {
  kind: 'group',
  name: 'image',
  usage: 'ctrnet image import FILE|- NAME | image ls | image rm NAME',
  subcommands: [importCmd, ls, rm, tag],
  unknown: (sub) => `unknown image command "${sub ?? ''}": use import, ls or rm`,
};

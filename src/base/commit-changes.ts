/**
 * `docker commit --change`: the Dockerfile instructions a commit may apply to the new image's
 * config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR, STOPSIGNAL), in JSON
 * (exec) form or shell form, as Docker parses them. Others are refused with Docker's words.
 */
import { CommitConfig } from './model';
import { EngineError } from './errors';

/** JSON form ["a","b"], or a shell form run with /bin/sh -c. */
function command(rest: string): string[] {
  const t = rest.trim();
  if (t.startsWith('[')) {
    try {
      const v = JSON.parse(t) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    } catch {
      // not JSON: Docker takes it as the shell form
    }
  }
  return ['/bin/sh', '-c', t];
}

/** KEY=VALUE pairs (quotes allowed), or the old "KEY VALUE" form. */
function pairs(rest: string, what: string): [string, string][] {
  const t = rest.trim();
  if (!t.includes('=')) {
    const sp = t.search(/\s/);
    if (sp < 0) throw new EngineError('INVALID_PARAMETER', `${what} needs a value`, { hint: `write ${what} KEY=VALUE` });
    return [[t.slice(0, sp), t.slice(sp).trim()]];
  }
  const out: [string, string][] = [];
  for (const m of t.matchAll(/([^\s=]+)=("((?:[^"\\]|\\.)*)"|'([^']*)'|(\S*))/g)) out.push([m[1], m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : (m[4] ?? m[5] ?? '')]);
  return out;
}

/** Applies `changes` (one instruction each) to a copy of `config`. */
export function applyChanges(config: CommitConfig, changes: string[]): CommitConfig {
  const c: CommitConfig = { ...config, env: [...config.env], exposedPorts: [...config.exposedPorts], labels: { ...config.labels }, volumes: [...config.volumes] };
  for (const line of changes.flatMap((x) => x.split('\n')).map((x) => x.trim()).filter(Boolean)) {
    const sp = line.search(/\s/);
    const word = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : line.slice(sp + 1);
    switch (word) {
      case 'cmd':
        c.cmd = command(rest);
        break;
      case 'entrypoint':
        c.entrypoint = command(rest);
        break;
      case 'env':
        for (const [k, v] of pairs(rest, 'ENV')) c.env = [...c.env.filter((e) => !e.startsWith(`${k}=`)), `${k}=${v}`];
        break;
      case 'label':
        for (const [k, v] of pairs(rest, 'LABEL')) c.labels[k] = v;
        break;
      case 'expose':
        for (const p of rest.trim().split(/\s+/).filter(Boolean)) c.exposedPorts.push(p.includes('/') ? p : `${p}/tcp`);
        break;
      case 'user':
        c.user = rest.trim();
        break;
      case 'workdir':
        c.workingDir = rest.trim();
        break;
      case 'volume':
        c.volumes.push(...(rest.trim().startsWith('[') ? command(rest) : rest.trim().split(/\s+/)));
        break;
      case 'stopsignal':
        c.stopSignal = rest.trim();
        break;
      default:
        throw new EngineError('INVALID_PARAMETER', `${word} is not a valid change command`, { hint: 'use CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME, WORKDIR or STOPSIGNAL' });
    }
  }
  return c;
}

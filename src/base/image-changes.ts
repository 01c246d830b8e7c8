/**
 * Docker's `--change` instructions (`docker import -c`, `docker commit -c`): the Dockerfile
 * instructions that only change an image's config, applied to an ImageConfig. JSON form
 * (`CMD ["a","b"]`) or shell form (`CMD a b`, run by /bin/sh -c), `ENV k=v …` or `ENV k v`,
 * `LABEL k=v …`, `EXPOSE 80 53/udp`, `VOLUME ["/a"]` or `VOLUME /a /b`.
 */
import { ImageConfig } from './image-config';
import { EngineError } from './errors';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

function bad(change: string, why: string): EngineError {
  return new EngineError('INVALID_PARAMETER', `invalid change "${change}": ${why}`, { hint: `use one of ${ALLOWED.join(', ')}, e.g. CMD ["sh"]` });
}

/** `["a","b"]` → list; otherwise undefined (shell form). */
function jsonList(s: string): string[] | undefined {
  if (!s.startsWith('[')) return undefined;
  try {
    const v = JSON.parse(s) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // not JSON: shell form, as Docker falls back
  }
  return undefined;
}

/** Words with "double", 'single' quotes and backslash escapes, as Dockerfile key=value pairs are split. */
function words(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '\\' && quote === '"' && i + 1 < s.length) cur += s[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      has = true;
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[++i];
      has = true;
    } else if (/\s/.test(c)) {
      if (cur || has) out.push(cur);
      cur = '';
      has = false;
    } else {
      cur += c;
      has = true;
    }
  }
  if (quote) throw new Error('unterminated quote');
  if (cur || has) out.push(cur);
  return out;
}

function pairs(change: string, rest: string, legacy: boolean): [string, string][] {
  let w: string[];
  try {
    w = words(rest);
  } catch (e) {
    throw bad(change, (e as Error).message);
  }
  if (w.length === 0) throw bad(change, 'needs at least one argument');
  if (legacy && !w[0].includes('=')) {
    // ENV key value (the old form: the rest of the line is the value)
    const key = rest.trim().split(/\s+/)[0];
    return [[key, rest.trim().slice(key.length).trim()]];
  }
  return w.map((x) => {
    const eq = x.indexOf('=');
    if (eq <= 0) throw bad(change, `"${x}" is not KEY=VALUE`);
    return [x.slice(0, eq), x.slice(eq + 1)];
  });
}

/** Applies `changes` to a copy of `config`. */
export function applyChanges(config: ImageConfig, changes: string[]): ImageConfig {
  const c: ImageConfig = { ...config, env: [...config.env], labels: { ...config.labels }, exposedPorts: [...config.exposedPorts], volumes: [...config.volumes], onBuild: [...config.onBuild] };
  for (const raw of changes.flatMap((x) => x.split('\n')).map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\w+)\s*(.*)$/s.exec(raw);
    if (!m) throw bad(raw, 'no instruction');
    const op = m[1].toUpperCase();
    const rest = m[2].trim();
    if (!ALLOWED.includes(op)) throw bad(raw, `${op.toLowerCase()} is not a valid change command`); // Docker's words
    const shell = (s: string) => jsonList(s) ?? ['/bin/sh', '-c', s];
    switch (op) {
      case 'CMD':
        c.cmd = shell(rest);
        break;
      case 'ENTRYPOINT':
        c.entrypoint = shell(rest);
        // As Docker: a new ENTRYPOINT drops an inherited CMD.
        if (!changes.some((x) => /^\s*CMD\b/i.test(x))) c.cmd = null;
        break;
      case 'ENV':
        for (const [k, v] of pairs(raw, rest, true)) {
          c.env = c.env.filter((e) => e.split('=')[0] !== k);
          c.env.push(`${k}=${v}`);
        }
        break;
      case 'LABEL':
        for (const [k, v] of pairs(raw, rest, false)) c.labels[k] = v;
        break;
      case 'EXPOSE':
        for (const p of rest.split(/\s+/).filter(Boolean)) {
          if (!/^\d{1,5}(\/(tcp|udp|sctp))?$/i.test(p)) throw bad(raw, `"${p}" is not PORT[/PROTO]`);
          const k = p.includes('/') ? p.toLowerCase() : `${p}/tcp`;
          if (!c.exposedPorts.includes(k)) c.exposedPorts.push(k);
        }
        break;
      case 'VOLUME':
        for (const v of jsonList(rest) ?? rest.split(/\s+/).filter(Boolean)) if (!c.volumes.includes(v)) c.volumes.push(v);
        break;
      case 'USER':
        c.user = rest;
        break;
      case 'WORKDIR':
        c.workingDir = rest.startsWith('/') ? rest : `${c.workingDir.replace(/\/$/, '') || ''}/${rest}`;
        break;
      case 'STOPSIGNAL':
        c.stopSignal = rest;
        break;
      case 'ONBUILD':
        c.onBuild.push(rest);
        break;
    }
  }
  return c;
}

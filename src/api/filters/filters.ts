/**
 * Docker's list filters (`?filters={"key":["v1","v2"]}`), parsed and matched with Docker's
 * semantics: several values of one key are alternatives (OR), several keys must all hold (AND);
 * `label` is the exception: every label given must be present (AND). Per key, a value is matched
 * as Docker does it: a regular expression searched anywhere in the text (`name`, `id`), an exact
 * value (`driver`, `scope`, `status`, ...), or `key` / `key=value` (labels). Each resource's module
 * (containers.ts, networks.ts, images.ts, volumes.ts) says which keys it accepts and how they
 * apply; an unknown key is refused in Docker's words ("Invalid filter 'x'").
 */
import { EngineError } from '../../base/errors';
import { parseFilters } from '../http';

export class Filters {
  private constructor(private readonly args: ReadonlyMap<string, string[]>) {}

  /** The `filters` query (JSON of key → list, or key → {value: true}), with only `accepted` keys. */
  static parse(raw: string | null, accepted: readonly string[]): Filters {
    const parsed = parseFilters(raw);
    const args = new Map<string, string[]>();
    for (const [k, v] of Object.entries(parsed)) {
      if (!accepted.includes(k)) throw new EngineError('INVALID_PARAMETER', `Invalid filter '${k}'`, { hint: `filters here: ${accepted.join(', ')}` });
      const values = Array.isArray(v) ? v : Object.keys(v).filter((x) => v[x]);
      args.set(k, values);
    }
    return new Filters(args);
  }

  /** Filters from a plain map (tests, and routes that add their own). */
  static of(args: Record<string, string[]>): Filters {
    return new Filters(new Map(Object.entries(args)));
  }

  /** Whether the key was given (with at least one value). */
  has(key: string): boolean {
    return (this.args.get(key)?.length ?? 0) > 0;
  }

  values(key: string): string[] {
    return this.args.get(key) ?? [];
  }

  /** Docker's Match: no values, or one of them found (as a regular expression) in `source`. */
  match(key: string, ...sources: string[]): boolean {
    const vs = this.values(key);
    if (!vs.length) return true;
    return vs.some((v) => sources.some((s) => search(v, s)));
  }

  /** Docker's ExactMatch: no values, or one of them equal to `source`. */
  exact(key: string, source: string): boolean {
    const vs = this.values(key);
    return !vs.length || vs.includes(source);
  }

  /** Docker's MatchKVList: every value ("key" or "key=value") present in `labels`. */
  labels(key: string, labels: Record<string, string>): boolean {
    return this.values(key).every((v) => {
      const i = v.indexOf('=');
      return i < 0 ? v in labels : labels[v.slice(0, i)] === v.slice(i + 1);
    });
  }

  /** A yes/no filter (`dangling`): undefined when absent; Docker's words for anything else. */
  bool(key: string): boolean | undefined {
    const vs = this.values(key);
    if (!vs.length) return undefined;
    if (vs.length > 1) throw new EngineError('INVALID_PARAMETER', `got more than one value for filter key "${key}"`);
    if (vs[0] === 'true' || vs[0] === '1') return true;
    if (vs[0] === 'false' || vs[0] === '0') return false;
    throw new EngineError('INVALID_PARAMETER', `invalid value for filter '${key}', must be "true" (or "1"), or "false" (or "0")`);
  }
}

const cache = new Map<string, RegExp | null>();

/** A value searched as a regular expression (Go's regexp.MatchString); one that does not compile matches nothing. */
function search(pattern: string, source: string): boolean {
  let re = cache.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern);
    } catch {
      re = null;
    }
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re !== null && re.test(source);
}

/** "80", "80/udp", "8000-8100", "79-91/udp" → the set of "PORT/PROTO" they name (Docker's portOp). */
export function portSet(key: string, values: string[]): Set<string> {
  const out = new Set<string>();
  for (const v of values) {
    if (v.includes(':')) throw new EngineError('INVALID_PARAMETER', `filter for '${key}' should not contain ':': ${v}`);
    const [ports, proto = 'tcp'] = v.split('/');
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(ports);
    const lo = m ? Number(m[1]) : NaN;
    const hi = m?.[2] ? Number(m[2]) : lo;
    if (!m || lo < 1 || hi > 65535 || hi < lo || (proto !== 'tcp' && proto !== 'udp')) {
      throw new EngineError('INVALID_PARAMETER', `error while looking up for ${key} ${v}: not a port or port range`, { hint: 'e.g. 80, 80/udp or 8000-8100' });
    }
    for (let p = lo; p <= hi; p++) out.add(`${p}/${proto}`);
  }
  return out;
}

/**
 * Docker-style argument parsing: flags before the positional arguments, combined short booleans
 * (-it, -dit), "--flag=value" and "--flag value", repeated list flags (-e, -p).
 */

export type FlagKind = 'bool' | 'string' | 'list';
export interface FlagDef {
  kind: FlagKind;
  short?: string;
}

export interface Parsed {
  flags: Record<string, boolean | string | string[]>;
  args: string[];
}

export class UsageError extends Error {}

/**
 * Parses argv against defs. With `interspersed` false (run, exec), parsing stops at the first
 * positional argument: the rest is the container's command, flags included.
 */
export function parseArgs(argv: string[], defs: Record<string, FlagDef>, interspersed = true): Parsed {
  const flags: Parsed['flags'] = {};
  const args: string[] = [];
  const byShort = new Map(Object.entries(defs).filter(([, d]) => d.short).map(([n, d]) => [d.short!, n]));
  const set = (name: string, value: string | true) => {
    const d = defs[name];
    if (d.kind === 'list') flags[name] = [...((flags[name] as string[]) ?? []), value as string];
    else flags[name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const d = Object.hasOwn(defs, name) ? defs[name] : undefined;
      if (!d) throw new UsageError(`unknown flag: --${name}`);
      if (d.kind === 'bool') flags[name] = eq > 0 ? a.slice(eq + 1) !== 'false' : true;
      else if (eq > 0) set(name, a.slice(eq + 1));
      else if (i + 1 < argv.length) set(name, argv[++i]);
      else throw new UsageError(`flag needs an argument: --${name}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = byShort.get(a[j]);
        if (!name) throw new UsageError(`unknown shorthand flag: '${a[j]}' in ${a}`);
        if (defs[name].kind === 'bool') {
          set(name, true);
          continue;
        }
        const rest = a.slice(j + 1).replace(/^=/, '');
        if (rest) set(name, rest);
        else if (i + 1 < argv.length) set(name, argv[++i]);
        else throw new UsageError(`flag needs an argument: '${a[j]}' in ${a}`);
        break;
      }
      continue;
    }
    if (!interspersed) {
      args.push(...argv.slice(i));
      break;
    }
    args.push(a);
  }
  return { flags, args };
}

export const str = (p: Parsed, k: string): string | undefined => p.flags[k] as string | undefined;
export const bool = (p: Parsed, k: string): boolean => p.flags[k] === true;
export const list = (p: Parsed, k: string): string[] => (p.flags[k] as string[]) ?? [];

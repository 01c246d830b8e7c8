/**
 * Build step (`npm run build`, after tsc): the ctrnet CLI as one file with a V8 code cache, so a
 * command starts without resolving, reading and compiling some forty modules one by one.
 *
 *   build/ctrnet-cli.js     every module reachable from dist/src/cli/main.js through relative
 *                           require() calls with literal paths, each kept as a function that runs
 *                           only when first required (the command table's lazy loading stays lazy)
 *   build/ctrnet-cli.cache  V8's code cache of that file (vm.Script#createCachedData), made after
 *                           every module was evaluated once, so their top-level code is in it too
 *
 * bin/ctrnet loads the bundle with the cache when both exist and falls back to dist/ otherwise;
 * V8 checks the cache against its version and flags and ignores a cache it cannot use.
 * Nothing is downloaded: the bundle format is the few lines of loader below.
 *
 * Limitations: a require() whose path is not a string literal, or that leaves dist/src, is left
 * to Node's own require (resolved against build/), so the CLI must not have one; the build fails
 * when it finds one of the first kind.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';

const REPO = path.resolve(__dirname, '..', '..');
const DIST = path.join(REPO, 'dist');
const OUT = path.join(REPO, 'build');
export const ENTRY = 'src/cli/main.js';

/** Module id (path under dist/, e.g. src/cli/args.js) → its compiled code. */
export function collect(entry: string, read: (id: string) => string): Map<string, string> {
  const mods = new Map<string, string>();
  const todo = [entry];
  while (todo.length) {
    const id = todo.pop()!;
    if (mods.has(id)) continue;
    const code = read(id);
    mods.set(id, code);
    for (const m of code.matchAll(/\brequire\(([^)]*)\)/g)) {
      const arg = m[1].trim();
      const lit = /^(["'])([^"']+)\1$/.exec(arg);
      if (!lit) throw new Error(`${id}: require(${arg}) has no literal path: the CLI bundle cannot follow it`);
      const spec = lit[2];
      if (spec.startsWith('.')) todo.push(resolveId(id, spec));
    }
  }
  return mods;
}

/** The id a relative require in module `from` names (tsc emits paths without the .js). */
export function resolveId(from: string, spec: string): string {
  const p = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  return p.endsWith('.js') ? p : `${p}.js`;
}

/** The bundle's text: an expression that, given Node's require, returns the entry's exports. */
export function render(entry: string, mods: Map<string, string>): string {
  const defs = [...mods].map(([id, code]) => `${JSON.stringify(id)}: function (exports, require, module) {\n${code.replace(/^#!.*\n/, '')}\n}`);
  return [
    '(function (nodeRequire) {',
    '"use strict";',
    `const defs = {\n${defs.join(',\n')}\n};`,
    'const done = Object.create(null);',
    'function dirOf(id) { const i = id.lastIndexOf("/"); return i < 0 ? "" : id.slice(0, i); }',
    'function norm(parts) { const out = []; for (const p of parts) { if (p === "..") out.pop(); else if (p !== "." && p !== "") out.push(p); } return out.join("/"); }',
    'function load(id) {',
    '  const seen = done[id];',
    '  if (seen) return seen.exports;',
    '  const module = { exports: {} };',
    '  done[id] = module;',
    '  const req = (spec) => {',
    '    if (!spec.startsWith(".")) return nodeRequire(spec);',
    '    let to = norm((dirOf(id) + "/" + spec).split("/"));',
    '    if (!to.endsWith(".js")) to += ".js";',
    '    if (!(to in defs)) return nodeRequire(spec);',
    '    return load(to);',
    '  };',
    '  defs[id].call(module.exports, module.exports, req, module);',
    '  return module.exports;',
    '}',
    `const api = load(${JSON.stringify(entry)});`,
    '/* for the build: evaluates every module once, so that the code cache holds them all */',
    'api.__loadAll = () => { for (const id of Object.keys(defs)) load(id); };',
    'return api;',
    '})',
  ].join('\n');
}

function main(): void {
  const mods = collect(ENTRY, (id) => readFileSync(path.join(DIST, id), 'utf8'));
  const text = render(ENTRY, mods);
  mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, 'ctrnet-cli.js');
  const cacheFile = path.join(OUT, 'ctrnet-cli.cache');
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
  // The same filename and source as bin/ctrnet gives vm.Script, or V8 rejects the cache.
  const script = new vm.Script(text, { filename: file });
  const api = (script.runInThisContext() as (r: NodeRequire) => { __loadAll(): void })(require);
  api.__loadAll();
  writeFileSync(`${cacheFile}.tmp`, script.createCachedData());
  renameSync(`${cacheFile}.tmp`, cacheFile);
  process.stdout.write(`bundle-cli: ${mods.size} modules, ${(text.length / 1024).toFixed(0)} KiB → build/ctrnet-cli.js (+ code cache)\n`);
}

if (require.main === module) main();

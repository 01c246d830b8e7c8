/**
 * The floors of the house (docs/architecture.md): a folder of src/ imports only folders on lower
 * floors, never one on its own floor or above; core/ sees the floors below through their ports
 * only. Rooms with stricter rules: cli/ talks to the daemon over HTTP only, so it imports base/,
 * view/ and itself; view/ imports base/ only; ui/ imports view/, base/, api/http-errors and core's
 * types (never its code: the daemon hands it its sources). Read from the sources, so a new import
 * that breaks the shape fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

// Compiled tests run from dist/test/unit/; the sources stay in the tree.
const SRC = path.resolve(__dirname, '../../../src');

/** floor of each top-level folder of src/ */
const FLOORS: Record<string, number> = {
  base: 0,
  kernel: 1, ipam: 1, state: 1, view: 1,
  firewall: 2, dns: 2, runtime: 2, images: 2,
  drivers: 3,
  core: 4,
  api: 5,
  cli: 6, ui: 6, cni: 6,
  daemon: 7,
};

/** The modules of lower floors that core/ may import: their ports and pure helpers, no adapters. */
const CORE_MAY_IMPORT = [/^base\//, /^kernel\/kernel$/, /^kernel\/fast-path$/, /^ipam\//, /^state\/repos$/, /^firewall\/firewall$/, /^dns\/resolver$/, /^runtime\/runtime$/, /^runtime\/storage$/, /^images\/image-store$/, /^drivers\/driver$/];

interface Import {
  file: string;
  /** the imported module, relative to src/ (`base/frames`), or `node:…` */
  target: string;
  typeOnly: boolean;
  /** a module of ours (a relative path), not a package or node builtin */
  local: boolean;
}

function sources(dir: string): string[] {
  return fs.readdirSync(path.join(SRC, dir), { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sources(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
  );
}

/** Static imports, re-exports, require() and import() of every .ts file under src/DIR. */
function importsOf(dir: string): Import[] {
  const out: Import[] = [];
  for (const file of sources(dir)) {
    const text = fs.readFileSync(path.join(SRC, file), 'utf8');
    const found: [string, boolean][] = [
      ...[...text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?\bfrom\s+'([^']+)'/gm)].map((m): [string, boolean] => [m[3], !!m[2]]),
      ...[...text.matchAll(/\b(?:require|import)\(\s*'([^']+)'\s*\)/g)].map((m): [string, boolean] => [m[1], false]),
    ];
    for (const [spec, typeOnly] of found) {
      const target = spec.startsWith('.') ? path.relative(SRC, path.resolve(SRC, path.dirname(file), spec)).replace(/\.js$/, '') : spec;
      out.push({ file, target, typeOnly, local: spec.startsWith('.') });
    }
  }
  return out;
}

const builtin = (t: string) => t.startsWith('node:');
const folderOf = (t: string): string => t.split('/')[0];
const ours = (i: Import) => i.local;
const all = (): Import[] => fs.readdirSync(SRC).filter((n) => fs.statSync(path.join(SRC, n)).isDirectory()).flatMap(importsOf);

test('every folder of src/ has a floor', () => {
  const folders = fs.readdirSync(SRC).filter((n) => fs.statSync(path.join(SRC, n)).isDirectory());
  assert.deepEqual(folders.filter((f) => !(f in FLOORS)), [], 'add new folders to FLOORS and docs/architecture.md');
});

test('no folder imports one on its own floor or above (imports run one way)', () => {
  const bad = all().filter((i) => ours(i) && folderOf(i.file) !== folderOf(i.target) && FLOORS[folderOf(i.target)] >= FLOORS[folderOf(i.file)]);
  assert.deepEqual(bad.map((i) => `${i.file} → ${i.target}`), []);
});

test('base/ imports nothing of ours but itself', () => {
  const bad = importsOf('base').filter((i) => ours(i) && folderOf(i.target) !== 'base');
  assert.deepEqual(bad.map((i) => `${i.file} → ${i.target}`), []);
});

test('core/ sees lower floors through their ports only (no adapter classes)', () => {
  const bad = importsOf('core').filter((i) => ours(i) && folderOf(i.target) !== 'core' && !CORE_MAY_IMPORT.some((re) => re.test(i.target)));
  assert.deepEqual(bad.map((i) => `${i.file} → ${i.target}`), []);
});

test('the import scanner sees imports (it cannot pass by finding nothing)', () => {
  const edges = all();
  assert.ok(edges.some((e) => e.file === 'daemon/main.ts' && e.target === 'core/networks'));
  assert.ok(edges.filter(ours).length > 200, `only ${edges.length} imports found`);
});

test('cli/ imports only base/, view/, itself and node builtins', () => {
  const bad = importsOf('cli').filter((i) => !builtin(i.target) && !/^(cli|base|view)\//.test(i.target));
  assert.deepEqual(bad, []);
  assert.ok(importsOf('cli').some((i) => i.target.startsWith('view/')), 'the scan finds imports');
});

test('cni/ (the CNI plugin) imports only base/ types, itself and node builtins: a client of the daemon like the CLI', () => {
  const bad = importsOf('cni').filter((i) => !builtin(i.target) && !/^cni\//.test(i.target) && !(i.typeOnly && i.target.startsWith('base/')));
  assert.deepEqual(bad, []);
  assert.ok(importsOf('cni').some((i) => i.target === 'cni/plugin'), 'the scan finds imports');
});

test('view/ imports only base/ and itself, and no node builtin (pure presentation)', () => {
  const bad = importsOf('view').filter((i) => !/^(base|view)\//.test(i.target));
  assert.deepEqual(bad, []);
});

test('ui/ imports view/, base/, api/http-errors, the types of core/, and node builtins', () => {
  const bad = importsOf('ui').filter((i) => !builtin(i.target) && !/^(view|base)\//.test(i.target) && i.target !== 'api/http-errors' && !(i.typeOnly && i.target.startsWith('core/')));
  assert.deepEqual(bad, []);
});

test('base/explanation.ts and base/topology.ts hold types only', () => {
  for (const f of ['base/explanation.ts', 'base/topology.ts']) {
    const code = fs.readFileSync(path.join(SRC, f), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
    const statements = code.split('\n').filter((l) => /^export\s/.test(l));
    assert.ok(statements.length > 0, f);
    for (const s of statements) assert.match(s, /^export (interface|type) /, `${f}: ${s}`);
    assert.doesNotMatch(code.replace(/^import type [^;]*'\.\/[\w-]+';$/gm, ''), /^import /m, `${f} imports more than types of base/`);
  }
});

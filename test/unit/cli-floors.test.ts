/**
 * The rooms of the CLI, the web UI and the presentation they share keep their imports (stricter
 * than the floors of docs/architecture.md): cli/ talks to the daemon over HTTP only, so it imports
 * base/, view/ and itself; view/ imports base/ only; ui/ imports view/, base/, api/http-errors and
 * core's types (never its code: the daemon hands it its sources).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

// Compiled tests run from dist/test/unit/; the sources stay in the tree.
const SRC = path.resolve(__dirname, '../../../src');

interface Import {
  file: string;
  /** the imported module, relative to src/ (`base/frames`), or `node:…` */
  target: string;
  typeOnly: boolean;
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
      out.push({ file, target, typeOnly });
    }
  }
  return out;
}

const builtin = (t: string) => t.startsWith('node:');

test('cli/ imports only base/, view/, itself and node builtins', () => {
  const bad = importsOf('cli').filter((i) => !builtin(i.target) && !/^(cli|base|view)\//.test(i.target));
  assert.deepEqual(bad, []);
  assert.ok(importsOf('cli').some((i) => i.target.startsWith('view/')), 'the scan finds imports');
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
    assert.doesNotMatch(code, /^import /m, `${f} imports`);
  }
});

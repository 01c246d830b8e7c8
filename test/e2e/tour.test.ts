/** The README's first command, the tour, in both languages: it must pass every step and clean up. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { sh } from '../../scripts/lab';

const TOUR = path.resolve(__dirname, '../../scripts/tour.js');

/** Lab objects of any run (the tour runs in its own process, with its own run id). */
function labObjects(): string[] {
  const ns = spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n').filter((l) => /-lab[12]-/.test(l));
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m) => m && /-lab[12]-/.test(m));
  const procs = spawnSync('ps', ['-eo', 'args=']).stdout.toString().split('\n').filter((l) => /-lab[12]-/.test(l));
  return [...ns, ...mounts, ...procs];
}

describe('the tour', () => {
  for (const [lang, done] of [['en', /All (\d+) steps passed/], ['zh', /全部 (\d+) 步通过/]] as const) {
    it(`runs every step in ${lang}, with progress, and leaves nothing behind`, async () => {
      const before = labObjects();
      const r = await sh([process.execPath, TOUR, '--lang', lang], { timeoutMs: 180_000 });
      assert.equal(r.code, 0, r.stdout.slice(-3000) + r.stderr);
      const m = done.exec(r.stdout);
      assert.ok(m, r.stdout.slice(-500));
      assert.match(r.stdout, new RegExp(`\\[1/${m[1]}\\]`));
      assert.match(r.stdout, new RegExp(`\\[${m[1]}/${m[1]}\\]`));
      for (const section of lang === 'en' ? ['Bridge mode', 'Host mode', 'Container (join) mode', 'None mode', 'Overlay'] : ['Bridge 桥接式', 'Host 开放式', 'Container 联合挂载式', 'None 封闭式', 'Overlay 网络模式']) {
        assert.ok(r.stdout.includes(section), section);
      }
      assert.deepEqual(labObjects(), before);
    });
  }
});

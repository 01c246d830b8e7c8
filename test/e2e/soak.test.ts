/** A short soak (45 s; `npm run soak` runs the full 10 minutes): no error, no leak, flat RSS and open files. */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { soak } from '../../scripts/soak';

it('8 clients doing run/rm cycles for 45 s: no error, nothing left, RSS and open files flat', async () => {
  const r = await soak(45, (m) => console.log(m.split('\n').map((l) => `# ${l}`).join('\n')));
  assert.ok(r.ok, r.report);
});

/**
 * Runs the network sections of the benchmark on their own: `node dist/bench/net-main.js [4] [5]`
 * (both by default). Prints the rows as a table and as JSON, and checks nothing was left behind.
 */
import { Row } from './common';
import { leftovers } from '../scripts/lab';
import { dataplane } from './dataplane';
import { overlayConvergence } from './overlay';

async function main(): Promise<void> {
  const which = process.argv.slice(2);
  const all = which.length === 0;
  const rows: Row[] = [];
  let failed = false;
  const section = async (name: string, fn: () => Promise<Row[]>) => {
    try {
      rows.push(...(await fn()));
    } catch (e) {
      failed = true;
      rows.push({ section: name, what: 'error', value: 'failed', note: (e as Error).stack ?? String(e) });
    }
  };
  if (all || which.includes('4')) await section('4. Data plane', dataplane);
  if (all || which.includes('5')) await section('5. Overlay convergence', overlayConvergence);
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? 'met' : 'MISSED';
    console.log(`${r.section.padEnd(24)} ${r.what.padEnd(64)} ${r.value.padStart(14)}  ${(r.target ?? '').padEnd(16)} ${met.padEnd(6)} ${r.note ?? ''}`);
  }
  console.log(JSON.stringify(rows, null, 1));
  const left = leftovers();
  if (left.length) {
    console.error(`left behind: ${left.join(', ')}`);
    failed = true;
  } else console.error('nothing left behind');
  process.exitCode = failed ? 1 : 0;
}

void main();

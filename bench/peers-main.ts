/**
 * Runs the peer measurements alone (for developing them): node dist/bench/peers-main.js [netavark|cni|ctrnet-cni|docker|all] [n] [--no-keep-bridge]
 */
import { cniEndpoint, dockerStart, netavarkEndpoint } from './peers';
import { ctrnetCniEndpoint } from './ctrnet-cni';
import { median, ms, percentile } from './common';
import { leftovers } from '../scripts/lab';

const fmt = (xs: number[]) => `median ${ms(median(xs))}, p90 ${ms(percentile(xs, 90))} (n=${xs.length})`;

async function main(): Promise<void> {
  const which = process.argv[2] ?? 'all';
  const n = process.argv[3] ? Number(process.argv[3]) : undefined;
  const keep = !process.argv.includes('--no-keep-bridge');
  if (which === 'netavark' || which === 'all') {
    const r = await netavarkEndpoint(n ?? 50, { keepBridge: keep });
    console.log(`${r.version}${keep ? '' : ' (first on its network)'}: setup ${fmt(r.setup)}; teardown ${fmt(r.teardown)}`);
  }
  if (which === 'cni' || which === 'all') {
    const r = await cniEndpoint(n ?? 50, { keepBridge: keep });
    console.log(`${r.version}${keep ? '' : ' (first on its network)'}: setup ${fmt(r.setup)}; teardown ${fmt(r.teardown)}`);
  }
  if (which === 'ctrnet-cni' || which === 'cni' || which === 'all') {
    const r = await ctrnetCniEndpoint(n ?? 50);
    console.log(`${r.version}: ADD ${fmt(r.setup)}; DEL ${fmt(r.teardown)}`);
  }
  if (which === 'docker' || which === 'all') {
    const r = await dockerStart(n ?? 10);
    if ('skipped' in r) console.log(`docker skipped: ${r.skipped}`);
    else for (const [mode, xs] of Object.entries(r.modes)) console.log(`${r.version} ${mode}: ${fmt(xs)}`);
  }
  const left = leftovers();
  if (left.length) {
    console.error(`LEFTOVERS:\n${left.join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

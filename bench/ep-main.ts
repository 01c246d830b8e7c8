import { ctrnetEndpoint } from './endpoint';
import { median, ms } from './common';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 50);
  if (process.argv[3] === 'keep') {
    const t = await ctrnetEndpoint(n, 'native', { ports: 5, keep: true });
    const first = median(t.setup.slice(0, 20));
    const last = median(t.setup.slice(-20));
    console.log('keep', n, 'first20', ms(first), 'last20', ms(last), 'ratio', (last / first).toFixed(2), 'teardown', ms(median(t.teardown)));
    return;
  }
  if (process.argv[3] === 'dual') {
    for (const [what, opts] of [['v4 (host IPv6 off)', {}], ['v4 (host IPv6 on)', { ipv6Host: true }], ['dual (host IPv6 on)', { ipv6Host: true, dual: true }]] as const) {
      const t = await ctrnetEndpoint(n, 'native', opts);
      console.log(what, 'setup', ms(median(t.setup)), 'teardown', ms(median(t.teardown)));
    }
    return;
  }
  for (const mode of ['native', 'ip'] as const) {
    const t = await ctrnetEndpoint(n, mode);
    console.log(mode, 'setup', ms(median(t.setup)), 'teardown', ms(median(t.teardown)));
  }
}
void main();

import { ctrnetEndpoint } from './endpoint';
import { median, ms } from './common';

async function main(): Promise<void> {
  for (const mode of ['native', 'ip'] as const) {
    const t = await ctrnetEndpoint(Number(process.argv[2] ?? 50), mode);
    console.log(mode, 'setup', ms(median(t.setup)), 'teardown', ms(median(t.teardown)));
  }
}
void main();

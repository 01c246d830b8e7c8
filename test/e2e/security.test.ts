/**
 * Attacks from inside a container, and the API socket: what the kernel can prevent, it does.
 * Test host "a" runs ctrnetd.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { LabHost, must } from '../../scripts/lab';
import { assertNoLeftovers } from './_util';

let a: LabHost;

before(async () => {
  a = await LabHost.create('sec');
  await a.startDaemon();
  // The attacker's image: busybox and a small program that forges ARP replies (test/helpers/garp.c).
  const root = `${a.dir}/attacker`;
  mkdirSync(`${root}/bin`, { recursive: true });
  for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(`${root}/${d}`);
  copyFileSync('/bin/busybox', `${root}/bin/busybox`);
  symlinkSync('busybox', `${root}/bin/sh`);
  symlinkSync('busybox', `${root}/bin/sleep`);
  await must(['gcc', '-static', '-O2', '-o', `${root}/garp`, path.resolve(__dirname, '../../../test/helpers/garp.c')]);
  await must(['tar', '-C', root, '-cf', `${a.dir}/attacker.tar`, '.']);
  await a.ctl(['image', 'import', `${a.dir}/attacker.tar`, 'attacker:1']);
});

after(async () => {
  await a?.destroy();
  assertNoLeftovers([a].filter(Boolean));
});

describe('security', () => {
  it('the API socket is mode 0660, owned by root, and invisible from containers', async () => {
    const st = statSync(a.socket);
    assert.equal(st.mode & 0o777, 0o660);
    assert.equal(st.uid, 0);
    const r = await a.cli(['run', '--rm', 'busybox', 'ls', a.execRoot]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr + r.stdout, /No such file or directory/);
  });

  it('a container cannot take the gateway address by ARP; the attempt is counted and dropped', async () => {
    await a.ctl(['run', '-d', '--name', 'victim', 'busybox', 'sleep', '300']);
    await a.ctl(['run', '-d', '--name', 'attacker', 'attacker:1', 'sleep', '300']);
    assert.equal((await a.cli(['exec', 'victim', 'ping', '-c1', '-W2', '172.17.0.1'])).code, 0);
    const neighBefore = await a.ctl(['exec', 'victim', 'ip', 'neigh', 'show', '172.17.0.1']);
    assert.match(neighBefore, /02:42:ac:11:00:01/);
    // Gratuitous ARP replies claiming 172.17.0.1, from a raw socket (CAP_NET_RAW, which containers have).
    assert.match(await a.ctl(['exec', 'attacker', '/garp', 'eth0', '172.17.0.1', '5']), /sent 5 gratuitous ARP replies/);
    assert.match(await a.ctl(['exec', 'victim', 'ip', 'neigh', 'show', '172.17.0.1']), /02:42:ac:11:00:01/, 'the victim still knows the real gateway');
    const table = await a.run(['nft', 'list', 'table', 'bridge', 'ctrnet']);
    const dropped = Number(/counter packets (\d+) bytes \d+ drop comment "spoofed ARP sender"/.exec(table)?.[1] ?? 0);
    assert.ok(dropped >= 3, table);
    assert.equal((await a.cli(['exec', 'victim', 'ping', '-c1', '-W2', '172.17.0.1'])).code, 0);
    await a.ctl(['rm', '-f', 'victim', 'attacker']);
    assert.doesNotMatch(await a.run(['nft', 'list', 'table', 'bridge', 'ctrnet']), /veth/, 'ports leave the sets with their containers');
  });
});

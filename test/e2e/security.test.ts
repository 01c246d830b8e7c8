/**
 * Attacks from inside a container, and the API socket: what the kernel can prevent, it does; and
 * the admin's own filter (the user chain). Test host "a" runs ctrnetd; test hosts "ca" (10.212.0.2)
 * and "cb" (10.213.0.2) are clients, each joined to "a" by its own link.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { LabHost, linkHosts, must } from '../../scripts/lab';
import { assertNoLeftovers, PAGE, until, wget } from './_util';

let a: LabHost;
let ca: LabHost;
let cb: LabHost;

before(async () => {
  a = await LabHost.create('sec');
  ca = await LabHost.create('ca');
  cb = await LabHost.create('cb');
  await linkHosts(ca, a, '10.212.0.2', '10.212.0.1');
  await linkHosts(cb, a, '10.213.0.2', '10.213.0.1');
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
  await ca?.destroy();
  await cb?.destroy();
  assertNoLeftovers([a, ca, cb].filter(Boolean));
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

describe('the user chain (DOCKER-USER for nftables)', () => {
  const url = 'http://10.212.0.1:8080/';
  const urlB = 'http://10.213.0.1:8080/';
  const userChain = async () => a.run(['nft', 'list', 'chain', 'ip', 'ctrnet', 'user']);
  /** Client ca is refused by the admin's rule, client cb is served, and the rule counts ca's attempts. */
  const filtered = async (when: string) => {
    assert.match(await userChain(), /ip saddr 10\.212\.0\.2 .*drop/, `${when}: the admin's rule is still there`);
    const before = Number(/counter packets (\d+)/.exec(await userChain())?.[1]);
    assert.notEqual((await wget(ca, url)).code, 0, `${when}: ca is refused`);
    assert.match((await wget(cb, urlB)).body, PAGE, `${when}: cb is served`);
    assert.ok(Number(/counter packets (\d+)/.exec(await userChain())?.[1]) > before, `${when}: the rule counted ca's attempt`);
  };

  it("an admin's rule in chain user filters a published port by source address, and survives every re-render", async () => {
    await a.ctl(['run', '-d', '--name', 'web', '-p', '8080:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    for (const [c, u] of [[ca, url], [cb, urlB]] as const) await until(async () => PAGE.test((await wget(c, u)).body), 10_000, `${c.ns} served before the rule`);
    assert.match(await a.run(['nft', 'list', 'chain', 'ip', 'ctrnet', 'forward']), /policy accept;\n\s+jump user\n/, 'forward jumps to user first');
    // After DNAT the destination port is the container's (80): the published one is the original.
    await a.run(['nft', 'add', 'rule', 'ip', 'ctrnet', 'user', 'ip', 'saddr', '10.212.0.2', 'meta', 'l4proto', 'tcp', 'ct', 'original', 'proto-dst', '8080', 'counter', 'drop']);
    await filtered('rule added');

    await a.ctl(['network', 'create', 'n2']);
    await filtered('after network create');
    await a.ctl(['run', '-d', '--name', 'other', '-p', '8090:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await until(async () => PAGE.test((await wget(ca, 'http://10.212.0.1:8090/')).body), 10_000, 'ca served on another published port');
    await a.ctl(['rm', '-f', 'other']);
    await a.ctl(['network', 'rm', 'n2']);
    await filtered('after network rm');
    assert.match(await a.ctl(['system', 'reload']), /reloaded/);
    await filtered('after system reload');
    // Someone removes parts of ctrnet's table: reload puts them back around the admin's chain.
    await a.run(['nft', 'delete', 'chain', 'ip', 'ctrnet', 'forward']);
    await a.run(['nft', 'delete', 'chain', 'ip', 'ctrnet', 'prerouting']);
    assert.match(await a.ctl(['system', 'reload']), /reloaded/);
    await filtered('after a partial deletion and a reload');
    await a.stopDaemon();
    await a.startDaemon();
    await filtered('after a daemon restart');
  });

  it('a removed table comes back with an empty user chain: its rules went with it', async () => {
    await a.run(['nft', 'delete', 'table', 'ip', 'ctrnet']);
    await until(async () => (await a.exec(['nft', 'list', 'chain', 'ip', 'ctrnet', 'forward'])).code === 0, 5000, 'table restored');
    assert.doesNotMatch(await userChain(), /drop/);
    await until(async () => PAGE.test((await wget(ca, url)).body), 10_000, 'ca served again');
    await a.ctl(['rm', '-f', 'web']);
  });
});

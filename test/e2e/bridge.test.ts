/**
 * The default bridge network end to end: ctrnetd in a test host "a", a second test host "b" joined
 * to it by a veth (a: 10.210.0.1, b: 10.210.0.2, uplink MTU 1400), containers driven with the CLI,
 * everything observed with independent tools (ip, nft, wget, ping).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, copyFileSync, mkdirSync, symlinkSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { CTRNET, LabHost, linkHosts, must } from '../../scripts/lab';
import { assertNoLeftovers, ipOf, PAGE, snapshot, until, wget } from './_util';

let a: LabHost;
let b: LabHost;

before(async () => {
  a = await LabHost.create('br');
  b = await LabHost.create('cl');
  await linkHosts(a, b, '10.210.0.1', '10.210.0.2', 1400);
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

describe('default bridge network', () => {
  it('run --rm busybox ip addr: eth0 172.17.0.x/16, MAC derived from the address, MTU of the uplink', async () => {
    const out = await a.ctl(['run', '--rm', 'busybox', 'ip', 'addr', 'show', 'eth0']);
    const m = /inet 172\.17\.0\.(\d+)\/16/.exec(out);
    assert.ok(m, out);
    const last = Number(m[1]).toString(16).padStart(2, '0');
    assert.match(out, new RegExp(`link/ether 02:42:ac:11:00:${last}`));
    assert.match(out, /mtu 1400/);
    assert.doesNotMatch(out, /inet6/, 'IPv6 is off in an IPv4-only network');
  });

  it('the default route goes via the gateway 172.17.0.1', async () => {
    const out = await a.ctl(['run', '--rm', 'busybox', 'ip', 'route']);
    assert.match(out, /default via 172\.17\.0\.1 dev eth0/);
  });

  it('--dns and --mac-address set the name server and the MAC of eth0', async () => {
    const out = await a.ctl(['run', '--rm', '--dns', '10.0.0.53', '--mac-address', '02:42:0a:00:00:09', 'busybox', 'sh', '-c', 'cat /etc/resolv.conf; ip link show eth0']);
    assert.match(out, /^nameserver 10\.0\.0\.53$/m);
    assert.match(out, /link\/ether 02:42:0a:00:00:09/);
  });

  it('containers reach each other and the gateway; addresses are distinct', async () => {
    await a.ctl(['run', '-d', '--name', 'p1', 'busybox', 'sleep', '300']);
    await a.ctl(['run', '-d', '--name', 'p2', 'busybox', 'sleep', '300']);
    const ip1 = await ipOf(a, 'p1');
    const ip2 = await ipOf(a, 'p2');
    assert.notEqual(ip1, ip2);
    assert.equal((await a.cli(['exec', 'p2', 'ping', '-c1', '-W2', ip1])).code, 0);
    assert.equal((await a.cli(['exec', 'p1', 'ping', '-c1', '-W2', '172.17.0.1'])).code, 0);
    await a.ctl(['rm', '-f', 'p1', 'p2']);
  });

  it('-p 8080:80 serves httpd to another host, to the host itself and to containers (hairpin), with the real client address', async () => {
    await a.ctl(['run', '-d', '--name', 'web', '-p', '8080:80', 'busybox', 'httpd', '-f', '-v', '-p', '80', '-h', '/var/www']);
    await until(async () => PAGE.test((await wget(b, 'http://10.210.0.1:8080/')).body));
    assert.match((await wget(a, 'http://127.0.0.1:8080/')).body, PAGE);
    assert.match((await wget(a, 'http://10.210.0.1:8080/')).body, PAGE);
    const hairpin = await a.cli(['run', '--rm', 'busybox', 'timeout', '5', 'wget', '-qO-', 'http://10.210.0.1:8080/']);
    assert.match(hairpin.stdout, PAGE);
    // busybox httpd -v logs each client: the one from host b keeps its own address (no proxy).
    const logs = await a.cli(['logs', 'web']);
    assert.match(logs.stderr, /10\.210\.0\.2/);
    assert.match(await a.ctl(['port', 'web']), /80\/tcp -> 0\.0\.0\.0:8080/);
  });

  it('the host end of the veth is a port of ctrnet0, and the nftables masquerade and DNAT rules exist', async () => {
    const ports = JSON.parse(await a.run(['ip', '-j', 'link', 'show', 'master', 'ctrnet0'])) as { ifname: string }[];
    assert.ok(ports.some((p) => /^veth[0-9a-f]{7}$/.test(p.ifname)), JSON.stringify(ports));
    const [bridge] = JSON.parse(await a.run(['ip', '-j', 'link', 'show', 'ctrnet0'])) as { address: string }[];
    assert.equal(bridge.address, '02:42:ac:11:00:01', 'the bridge keeps its own MAC whatever its ports');
    const table = await a.run(['nft', 'list', 'table', 'ip', 'ctrnet']);
    assert.match(table, /ip saddr 172\.17\.0\.0\/16 oifname != "ctrnet0" counter packets \d+ bytes \d+ masquerade/);
    assert.match(table, /tcp \. 8080 counter packets \d+ bytes \d+ : 172\.17\.0\.\d+ \. 80/);
  });

  it('a port published on 127.0.0.1 answers on the host only, never from another host', async () => {
    await a.ctl(['run', '-d', '--name', 'local', '-p', '127.0.0.1:8081:80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    await until(async () => PAGE.test((await wget(a, 'http://127.0.0.1:8081/')).body));
    assert.notEqual((await wget(b, 'http://10.210.0.1:8081/')).code, 0);
    assert.notEqual((await wget(a, 'http://10.210.0.1:8081/')).code, 0);
    await a.ctl(['rm', '-f', 'local']);
  });

  it('-p CONTAINER_PORT picks a free host port from the ephemeral range', async () => {
    await a.ctl(['run', '-d', '--name', 'eph', '-p', '80', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    const port = Number((await a.ctl(['port', 'eph', '80'])).trim().split(':')[1]);
    assert.ok(port >= 32768 && port <= 60999, String(port));
    await until(async () => PAGE.test((await wget(b, `http://10.210.0.1:${port}/`)).body));
    await a.ctl(['rm', '-f', 'eph']);
  });

  it('explain says, from the kernel, what gives web its network, in English, Chinese and JSON; a tampered veth is a mismatch', async () => {
    const veth = (JSON.parse(await a.run(['ip', '-j', 'link', 'show', 'master', 'ctrnet0'])) as { ifname: string }[]).map((l) => l.ifname);
    const en = await a.cli(['explain', 'web']);
    assert.equal(en.code, 0, en.stderr);
    assert.match(en.stdout, /bridge mode/);
    assert.match(en.stdout, /eth0: 172\.17\.0\.\d+\/16, MAC 02:42:ac:11:00:\w\w, MTU 1400, up/);
    assert.ok(veth.some((v) => en.stdout.includes(`the other end, ${v} on the host, is a port of the bridge ctrnet0`)), en.stdout);
    assert.match(en.stdout, /default via 172\.17\.0\.1 dev eth0/);
    assert.match(en.stdout, /counter packets \d+ bytes \d+ masquerade/);
    assert.match(en.stdout, /published 0\.0\.0\.0:8080\/tcp → 172\.17\.0\.\d+:80 \(DNAT\), [1-9]\d* connection/);
    assert.match(en.stdout, /Kernel and state agree/);
    const zh = await a.ctl(['explain', '--lang', 'zh', 'web']);
    assert.match(zh, /veth pair 的一端/);
    assert.match(zh, /网桥 ctrnet0/);
    const json = JSON.parse(await a.ctl(['explain', '--json', 'web']));
    assert.equal(json.interfaces.find((i: { name: string }) => i.name === 'eth0').mtu, 1400);
    const mine = json.interfaces.find((i: { name: string }) => i.name === 'eth0').hostPeer.name as string;
    await a.run(['ip', 'link', 'set', mine, 'nomaster']);
    const bad = await a.cli(['explain', 'web']);
    assert.equal(bad.code, 3);
    assert.match(bad.stdout, new RegExp(`MISMATCH[\\s\\S]*${mine} should be a port of ctrnet0, it is on no bridge`));
    await a.run(['ip', 'link', 'set', mine, 'master', 'ctrnet0']);
    assert.equal((await a.cli(['explain', 'web'])).code, 0);
  });

  it('a restarted daemon finds the running container, keeps it reachable and repairs a deleted veth and table', async () => {
    await a.stopDaemon('SIGKILL');
    assert.match((await wget(b, 'http://10.210.0.1:8080/')).body, PAGE, 'served while the daemon is down');
    const veth = (JSON.parse(await a.run(['ip', '-j', 'link', 'show', 'master', 'ctrnet0'])) as { ifname: string }[])[0].ifname;
    await a.run(['ip', 'link', 'del', veth]);
    await a.run(['nft', 'delete', 'table', 'ip', 'ctrnet']);
    assert.notEqual((await wget(b, 'http://10.210.0.1:8080/')).code, 0, 'broken by hand');
    await a.startDaemon();
    assert.match(await a.ctl(['ps']), /web/);
    await until(async () => PAGE.test((await wget(b, 'http://10.210.0.1:8080/')).body));
    assert.match(await a.ctl(['exec', 'web', 'ip', 'addr', 'show', 'eth0']), /172\.17\.0\.\d+\/16/);
  });

  it('nft flush ruleset (in the test host) is undone within a second, without a restart; system reload re-applies', async () => {
    for (const wipe of [['nft', 'flush', 'ruleset'], ['nft', 'delete', 'table', 'ip', 'ctrnet']]) {
      await a.run(wipe);
      const t0 = Date.now();
      await until(async () => (await a.exec(['nft', 'list', 'table', 'ip', 'ctrnet'])).code === 0, 1000);
      assert.ok(Date.now() - t0 <= 1000, `${wipe.join(' ')}: restored after ${Date.now() - t0} ms`);
      assert.match((await wget(b, 'http://10.210.0.1:8080/')).body, PAGE);
    }
    assert.match(await a.ctl(['system', 'reload']), /reloaded/);
    assert.match(await a.run(['nft', 'list', 'table', 'ip', 'ctrnet']), /tcp \. 8080/);
  });

  it('rm removes the veth, the namespace and the published port', async () => {
    const before = await snapshot(a);
    assert.ok(before.elements.some((e) => e.includes('8080')));
    await a.ctl(['rm', '-f', 'web']);
    const now = await snapshot(a);
    assert.ok(!now.elements.some((e) => e.includes('8080')), now.elements.join());
    assert.ok(!now.links.some((l) => l.startsWith('veth')), now.links.join());
    assert.deepEqual(now.netns, []);
    assert.deepEqual(now.mounts, []);
  });
});

describe('host changes', () => {
  it("a new default-route interface and a smaller uplink MTU do not break a running container's way out", async () => {
    const www = `${b.dir}/www`;
    mkdirSync(www, { recursive: true });
    writeFileSync(`${www}/big`, Buffer.alloc(512 * 1024, 7));
    const server = spawn('nsenter', [`--net=${b.netnsPath}`, 'busybox', 'httpd', '-f', '-p', '8099', '-h', www], { stdio: 'ignore' });
    try {
      await a.ctl(['run', '-d', '--name', 'out', 'busybox', 'sleep', '300']);
      const fetch = async (ip: string) => (await a.cli(['exec', 'out', 'sh', '-c', `timeout 10 wget -qO- http://${ip}:8099/big | wc -c`])).stdout.trim();
      await until(async () => (await fetch('10.210.0.2')) === '524288');
      // A second uplink takes the default route; the first one shrinks to MTU 1300.
      await must(['ip', 'link', 'add', 'up9', 'netns', a.ns, 'type', 'veth', 'peer', 'name', 'dn9', 'netns', b.ns]);
      await a.run(['ip', 'addr', 'add', '10.219.0.1/24', 'dev', 'up9']);
      await a.run(['ip', 'link', 'set', 'up9', 'up']);
      await b.run(['ip', 'addr', 'add', '10.219.0.2/24', 'dev', 'dn9']);
      await b.run(['ip', 'link', 'set', 'dn9', 'up']);
      await a.run(['ip', 'route', 'replace', 'default', 'via', '10.219.0.2', 'dev', 'up9']);
      assert.equal(await fetch('10.219.0.2'), '524288', 'through the new default-route interface');
      const uplink = (await a.run(['ip', '-o', 'addr', 'show', 'to', '10.210.0.1'])).split(/\s+/)[1];
      await a.run(['ip', 'link', 'set', uplink, 'mtu', '1300']);
      await b.run(['ip', 'link', 'set', (await b.run(['ip', '-o', 'addr', 'show', 'to', '10.210.0.2'])).split(/\s+/)[1], 'mtu', '1300']);
      assert.equal(await fetch('10.210.0.2'), '524288', 'full-size transfers over the smaller MTU (path MTU discovery)');
      await a.ctl(['rm', '-f', 'out']);
    } finally {
      server.kill();
    }
  });
});

describe('failures are clear and leave nothing behind', () => {
  it('a host port published by another container, held by a host process, a malformed -p, an unknown image, a missing command', async () => {
    await a.ctl(['run', '-d', '--name', 'holder', '-p', '8082:80', 'busybox', 'sleep', '300']);
    const listener = spawn('nsenter', [`--net=${a.netnsPath}`, 'busybox', 'nc', '-l', '-p', '8083'], { stdio: 'ignore' });
    try {
      await until(async () => /:8083/.test((await a.run(['ss', '-ltn'])).toString()));
      const base = await snapshot(a);
      const cases: [string[], RegExp, number][] = [
        [['run', '--rm', '-p', '8082:80', 'busybox', 'true'], /8082.*already allocated.*holder/, 125],
        [['run', '--rm', '-p', '8083:80', 'busybox', 'true'], /8083.*in use by a process on the host/, 125],
        [['run', '--rm', '-p', '80:99999', 'busybox', 'true'], /invalid port specification "80:99999"/, 125],
        [['run', '--rm', '-p', 'x:80', 'busybox', 'true'], /invalid port specification/, 125],
        // --pull never: no registry is reachable from a test host (a pull would wait for DNS to time out).
        [['run', '--rm', '--pull', 'never', 'nosuchimage', 'true'], /No such image: nosuchimage:latest/, 125],
        [['run', '--rm', 'busybox', '/no/such/command'], /no such file or directory|not found/, 127],
        [['run', '--name', 'failed', 'busybox', 'nosuchcommand'], /executable file not found/, 127],
      ];
      for (const [args, msg, code] of cases) {
        const r = await a.cli(args);
        assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, msg, args.join(' '));
      }
      await a.ctl(['rm', 'failed']);
      assert.deepEqual(await snapshot(a), base);
    } finally {
      listener.kill();
      await a.ctl(['rm', '-f', 'holder']);
    }
  });
});

describe('container lifecycle through the CLI', () => {
  it('exit codes propagate from run and exec; stdin reaches the container with -i', async () => {
    assert.equal((await a.cli(['run', '--rm', 'busybox', 'sh', '-c', 'exit 3'])).code, 3);
    const cat = await a.cli(['run', '--rm', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], { input: 'hello\n' });
    assert.equal(cat.stdout, 'hello\ndone\n');
    await a.ctl(['run', '-d', '--name', 'life', '-e', 'GREETING=hi', '-w', '/tmp', '--hostname', 'box1', 'busybox', 'sleep', '300']);
    assert.equal((await a.cli(['exec', 'life', 'sh', '-c', 'exit 7'])).code, 7);
    assert.equal(await a.ctl(['exec', 'life', 'sh', '-c', 'echo $GREETING $(pwd) $(hostname)']), 'hi /tmp box1\n');
    assert.equal(await a.ctl(['exec', '-i', 'life', 'cat'], { input: 'piped\n' }), 'piped\n');
    // As Docker 20.10 to 27 record an exec that cannot start: 126, found or not (a run's start failure is 127).
    assert.equal((await a.cli(['exec', 'life', 'nosuchcmd'])).code, 126);
  });

  it('logs keep stdout and stderr apart, --tail works', async () => {
    await a.ctl(['run', '--name', 'talk', 'busybox', 'sh', '-c', 'echo one; echo two >&2; sleep 0.2; echo three']);
    const r = await a.cli(['logs', 'talk']);
    assert.equal(r.stdout, 'one\nthree\n');
    assert.equal(r.stderr, 'two\n');
    assert.equal((await a.cli(['logs', '--tail', '1', 'talk'])).stdout, 'three\n');
    assert.match(await a.ctl(['ps', '-a']), /Exited \(0\).*talk/);
    await a.ctl(['rm', 'talk']);
  });

  it('-it gives the process a terminal', async () => {
    const env = `CTRNET_HOST=unix://${a.socket}`;
    const r = await must(['script', '-eqc', `env ${env} ${process.execPath} ${CTRNET} run -it --rm busybox sh -c 'tty; exit 4'`, '/dev/null'], { timeoutMs: 20_000 }).catch((e: Error) => e.message);
    assert.match(r, /\/dev\/pts\/0/);
    assert.match(r, /exited 4/);
  });

  it('stop sends SIGTERM then SIGKILL after -t; rm of a running container needs -f', async () => {
    const rm = await a.cli(['rm', 'life']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /cannot remove a running container/);
    await a.ctl(['stop', '-t', '1', 'life']);
    assert.match(await a.ctl(['ps', '-a']), /Exited \(137\).*life/);
    assert.equal(await a.ctl(['inspect', '-f', '{{.State.Status}} {{.NetworkSettings.SandboxKey}}', 'life']), 'exited \n');
    await a.ctl(['start', 'life']);
    assert.match(await a.ctl(['ps']), /Up .*life/);
    await a.ctl(['rm', '-f', 'life']);
  });

  it('image import, ls, run and rm', async () => {
    const dir = mkdtempSync('/tmp/ctrnet-img-');
    try {
      mkdirSync(`${dir}/rootfs/bin`, { recursive: true });
      copyFileSync('/bin/busybox', `${dir}/rootfs/bin/busybox`);
      symlinkSync('busybox', `${dir}/rootfs/bin/sh`);
      symlinkSync('busybox', `${dir}/rootfs/bin/echo`);
      for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(`${dir}/rootfs/${d}`);
      await must(['tar', '-C', `${dir}/rootfs`, '-cf', `${dir}/img.tar`, '.']);
      assert.match(await a.ctl(['image', 'import', `${dir}/img.tar`, 'mybox:1']), /^sha256:[0-9a-f]{64}$/m);
      assert.match(await a.ctl(['image', 'ls']), /mybox\s+1\s+[0-9a-f]{12}/);
      assert.equal(await a.ctl(['run', '--rm', 'mybox:1', 'echo', 'from mybox']), 'from mybox\n');
      assert.match(await a.ctl(['image', 'rm', 'mybox:1']), /Untagged: mybox:1\nDeleted: sha256:/);
      assert.doesNotMatch(await a.ctl(['image', 'ls']), /mybox/);
      assert.equal((await a.cli(['image', 'import', `${dir}/missing.tar`, 'x'])).code, 125);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the busybox image exists from the start', async () => {
    assert.ok(existsSync(`${a.root}/images`));
    assert.match(await a.ctl(['images']), /busybox\s+latest/);
  });
});

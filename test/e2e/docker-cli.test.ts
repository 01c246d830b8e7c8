/**
 * The real docker CLI (28, on PATH) and dockerode drive ctrnetd unchanged: DOCKER_HOST points at a
 * daemon in test host "a"; test host "b" is another machine on a's uplink (a: 10.215.0.1, b: .2).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, mkdirSync, symlinkSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { LabHost, linkHosts, must } from '../../scripts/lab';
import { assertNoLeftovers, dockerOn, PAGE, until, wget } from './_util';

let a: LabHost;
let b: LabHost;

const { docker, ok } = dockerOn(() => a);

before(async () => {
  assert.equal(spawnSync('docker', ['--version']).status, 0, 'the docker CLI must be on PATH for these tests');
  a = await LabHost.create('dk');
  b = await LabHost.create('dc');
  await linkHosts(a, b, '10.215.0.1', '10.215.0.2');
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  await b?.destroy();
  assertNoLeftovers([a, b].filter(Boolean));
});

describe('docker CLI against ctrnetd', () => {
  it('version and info', async () => {
    assert.match(await ok(['version']), /Server:[\s\S]*API version:\s+1\.51 \(minimum version 1\.24\)/);
    const info = await docker(['info']);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /Server Version: 0\.1\.0/);
    assert.doesNotMatch(info.stderr, /error/i);
  });

  it('run: output streams, exit codes, stdin, env, workdir, hostname, TTY', async () => {
    assert.equal(await ok(['run', '--rm', 'busybox', 'echo', 'hi']), 'hi\n');
    const r = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 7']);
    assert.deepEqual([r.code, r.stdout, r.stderr], [7, 'out\n', 'err\n']);
    assert.equal(await ok(['run', '--rm', '-i', 'busybox', 'cat'], { input: 'hello-stdin\n' }), 'hello-stdin\n');
    assert.equal(await ok(['run', '--rm', '-e', 'X=1', '-w', '/tmp', '--hostname', 'hh', 'busybox', 'sh', '-c', 'echo $X $(pwd) $(hostname)']), '1 /tmp hh\n');
    assert.equal(await ok(['run', '--rm', '-t', 'busybox', 'echo', 'tty-no-stdin']), 'tty-no-stdin\r\n');
    const it = spawnSync('script', ['-eqc', `docker run -it --rm busybox sh -c 'tty; exit 4'`, '/dev/null'], { env: { ...process.env, DOCKER_HOST: `unix://${a.socket}` }, timeout: 30_000 });
    assert.equal(it.status, 4, it.stderr?.toString());
    assert.match(it.stdout.toString(), /\/dev\/pts\/0/);
  });

  it('run: a missing image and a missing command fail as Docker fails them, and --rm still removes', async () => {
    // --pull never: no registry is reachable from a test host (images.test.ts has the CLI's pull on a 404).
    const img = await docker(['run', '--rm', '--pull', 'never', 'nosuchimage']);
    assert.equal(img.code, 125);
    assert.match(img.stderr, /No such image: nosuchimage:latest/);
    const cmd = await docker(['run', '--rm', '--name', 'nocmd', 'busybox', 'nosuchcmd'], { timeoutMs: 20_000 });
    assert.equal(cmd.code, 127, cmd.stderr);
    assert.match(cmd.stderr, /executable file not found/);
    assert.doesNotMatch(await ok(['ps', '-a']), /nocmd/);
  });

  it('run -d with every -p form; port, ps, ps -q, ps --filter; reachable from another host', async () => {
    const id = (await ok(['run', '-d', '--name', 'web', '-p', '8080:80', '-p', '127.0.0.1:8081:80', '-p', '80', '-p', '8082:80/tcp', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www'])).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const port = await ok(['port', 'web']);
    assert.match(port, /80\/tcp -> 0\.0\.0\.0:8080/);
    assert.match(port, /80\/tcp -> 127\.0\.0\.1:8081/);
    assert.match(port, /80\/tcp -> 0\.0\.0\.0:8082/);
    const eph = /80\/tcp -> 0\.0\.0\.0:(3\d{4}|[4-5]\d{4}|60\d{3})/.exec(port);
    assert.ok(eph, port);
    await until(async () => PAGE.test((await wget(b, 'http://10.215.0.1:8080/')).body));
    assert.match((await wget(b, `http://10.215.0.1:${eph[1]}/`)).body, PAGE);
    assert.match((await wget(a, 'http://127.0.0.1:8081/')).body, PAGE);
    assert.match(await ok(['ps']), /web/);
    assert.equal((await ok(['ps', '-q'])).trim(), id.slice(0, 12));
    assert.match(await ok(['ps', '--filter', 'name=web']), /0\.0\.0\.0:8080->80\/tcp/);
    assert.doesNotMatch(await ok(['ps', '--filter', 'name=nomatch']), /web/);
  });

  it('network modes and user networks through docker run', async () => {
    assert.match(await ok(['run', '--rm', '--network', 'host', 'busybox', 'ip', 'link']), /ctrnet0/);
    assert.doesNotMatch(await ok(['run', '--rm', '--network', 'none', 'busybox', 'ip', 'link']), /eth0/);
    assert.match(await ok(['run', '--rm', '--network', 'container:web', 'busybox', 'wget', '-qO-', 'http://127.0.0.1/']), PAGE);
    assert.match(await ok(['network', 'create', '--subnet', '172.28.0.0/16', '--gateway', '172.28.0.1', 'net2']), /^[0-9a-f]{64}$/m);
    await ok(['run', '-d', '--name', 'svc', '--network', 'net2', '--ip', '172.28.0.10', '--network-alias', 'api', 'busybox', 'httpd', '-f', '-p', '80', '-h', '/var/www']);
    assert.match(await ok(['run', '--rm', '--network', 'net2', 'busybox', 'wget', '-qO-', 'http://api/']), PAGE);
    assert.equal((await ok(['inspect', '-f', '{{.NetworkSettings.Networks.net2.IPAddress}}', 'svc'])).trim(), '172.28.0.10');
  });

  it('network ls, inspect, connect, disconnect, rm, prune', async () => {
    const ls = await ok(['network', 'ls']);
    for (const n of ['bridge', 'host', 'none', 'net2']) assert.match(ls, new RegExp(`\\s${n}\\s`));
    assert.match(await ok(['network', 'inspect', 'net2']), /"Subnet": "172\.28\.0\.0\/16"/);
    await ok(['network', 'connect', 'net2', 'web']);
    assert.match(await ok(['exec', 'web', 'ip', 'addr', 'show', 'eth1']), /inet 172\.28\./);
    await ok(['network', 'disconnect', 'net2', 'web']);
    assert.equal((await docker(['exec', 'web', 'ip', 'addr', 'show', 'eth1'])).code, 1);
    await ok(['network', 'create', 'unused']);
    const rm = await docker(['network', 'rm', 'net2']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /active endpoints/);
    assert.match(await ok(['network', 'prune', '-f']), /unused/);
  });

  it('exec (-i, -t, -d), logs (--tail, -t, -f), inspect, wait, rename, start -a, stop, kill, restart, rm', async () => {
    assert.equal(await ok(['exec', 'web', 'echo', 'in-web']), 'in-web\n');
    assert.equal((await docker(['exec', 'web', 'sh', '-c', 'exit 4'])).code, 4);
    assert.equal(await ok(['exec', '-i', 'web', 'cat'], { input: 'exec-stdin\n' }), 'exec-stdin\n');
    assert.equal(await ok(['exec', '-t', 'web', 'echo', 'x']), 'x\r\n');
    await ok(['exec', '-d', 'web', 'touch', '/tmp/detached']);
    await until(async () => (await docker(['exec', 'web', 'test', '-f', '/tmp/detached'])).code === 0);

    await ok(['run', '--name', 'chatty', 'busybox', 'sh', '-c', 'echo one; echo two']);
    assert.equal(await ok(['logs', '--tail', '1', 'chatty']), 'two\n');
    assert.match(await ok(['logs', '-t', 'chatty']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z one$/m);
    await ok(['run', '-d', '--name', 'ticker', 'busybox', 'sh', '-c', 'echo first; sleep 1; echo second; sleep 300']);
    const follow = await docker(['logs', '-f', 'ticker'], { timeoutMs: 4000 });
    assert.match(follow.stdout, /first\nsecond\n/);

    const inspect = JSON.parse(await ok(['inspect', 'web']));
    assert.equal(inspect[0].Name, '/web');
    assert.equal(inspect[0].State.Running, true);
    const none = await docker(['inspect', 'nosuchobject']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /No such object: nosuchobject/);

    await ok(['create', '--name', 'c1', 'busybox', 'echo', 'hi-from-c1']);
    assert.equal(await ok(['start', '-a', 'c1']), 'hi-from-c1\n');
    assert.equal((await ok(['wait', 'c1'])).trim(), '0');
    await ok(['rename', 'c1', 'c1renamed']);
    assert.match(await ok(['ps', '-a']), /c1renamed/);

    assert.equal((await ok(['stop', '-t', '1', 'ticker'])).trim(), 'ticker');
    assert.match(await ok(['ps', '-a', '--filter', 'name=ticker']), /Exited \(137\)/);
    await ok(['restart', '-t', '1', 'ticker']);
    assert.match(await ok(['ps', '--filter', 'name=ticker']), /Up/);
    await ok(['kill', 'ticker']);
    const running = await docker(['rm', 'web']);
    assert.equal(running.code, 1);
    assert.match(running.stderr, /cannot remove a running container/);
    assert.equal((await docker(['rm', '-f', 'nosuchctr'])).code, 0);
    await ok(['rm', '-f', '-v', 'web', 'svc', 'ticker', 'chatty', 'c1renamed']);
    await ok(['network', 'rm', 'net2']);
    assert.equal((await ok(['ps', '-aq'])).trim(), '');
  });

  it('import, images, tag, rmi', async () => {
    const dir = mkdtempSync('/tmp/ctrnet-dk-');
    try {
      mkdirSync(`${dir}/rootfs/bin`, { recursive: true });
      copyFileSync('/bin/busybox', `${dir}/rootfs/bin/busybox`);
      symlinkSync('busybox', `${dir}/rootfs/bin/sh`);
      for (const d of ['proc', 'sys', 'dev', 'etc', 'tmp']) mkdirSync(`${dir}/rootfs/${d}`);
      await must(['tar', '-C', `${dir}/rootfs`, '-cf', `${dir}/bb.tar`, '.']);
      assert.match(await ok(['import', `${dir}/bb.tar`, 'test:1']), /^sha256:[0-9a-f]{64}$/m);
      await ok(['tag', 'test:1', 'test:2']);
      assert.match(await ok(['images']), /test\s+1[\s\S]*test\s+2|test\s+2[\s\S]*test\s+1/);
      assert.equal(await ok(['run', '--rm', 'test:2', 'sh', '-c', 'echo imported']), 'imported\n');
      assert.equal(await ok(['rmi', 'test:2']), 'Untagged: test:2\n');
      assert.match(await ok(['rmi', 'test:1']), /Untagged: test:1\nDeleted: sha256:/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('documented commands ctrnet does not support answer clearly, without hanging', async () => {
    await ok(['run', '-d', '--name', 'idle', 'busybox', 'sleep', '300']);
    const cases: string[][] = [['cp', 'idle:/etc/hosts', `${a.dir}/hosts`], ['plugin', 'install', 'x/y'], ['swarm', 'join', '--token', 'SWMTKN-1-x', '10.9.9.9:2377']];
    for (const args of cases) {
      const r = await docker(args, { timeoutMs: 15_000 });
      assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail`);
      assert.match(r.stderr, /not supported by ctrnet|ctrnet cannot join a swarm/, `docker ${args.join(' ')}: ${r.stderr}`);
    }
    await ok(['rm', '-f', 'idle']);
  });
});

describe('dockerode against ctrnetd', () => {
  it('creates, starts, waits, reads logs, inspects and removes a container; lists networks and images', async () => {
    const d = new Docker({ socketPath: a.socket });
    assert.equal((await d.version()).ApiVersion, '1.51');
    const c = await d.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo from-dockerode; exit 3'], HostConfig: { NetworkMode: 'bridge' } });
    await c.start();
    assert.equal((await c.wait()).StatusCode, 3);
    const logs = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
    assert.match(logs.toString('latin1'), /from-dockerode/);
    const info = await c.inspect();
    assert.equal(info.State.ExitCode, 3);
    await c.remove();
    await assert.rejects(c.inspect(), (e: { statusCode?: number }) => e.statusCode === 404);

    const web = await d.createContainer({ Image: 'busybox', name: 'dweb', Cmd: ['httpd', '-f', '-p', '80', '-h', '/var/www'], ExposedPorts: { '80/tcp': {} }, HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '8090' }] } } });
    await web.start();
    await until(async () => PAGE.test((await wget(b, 'http://10.215.0.1:8090/')).body));
    const exec = await web.exec({ Cmd: ['sh', '-c', 'echo $((6*7))'], AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const out = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      stream.on('data', (x: Buffer) => chunks.push(x));
      stream.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    });
    assert.match(out, /42/);
    assert.equal((await exec.inspect()).ExitCode, 0);
    assert.ok((await d.listContainers()).some((x) => x.Names.includes('/dweb')));
    const nets = await d.listNetworks();
    assert.deepEqual(nets.map((n) => n.Name).sort(), ['bridge', 'host', 'none']);
    const net = await d.createNetwork({ Name: 'dnet', Driver: 'bridge' });
    await net.connect({ Container: 'dweb' });
    assert.ok(Object.keys((await web.inspect()).NetworkSettings.Networks).includes('dnet'));
    await net.disconnect({ Container: 'dweb' });
    await net.remove();
    assert.ok((await d.listImages()).some((i) => i.RepoTags?.includes('busybox:latest')));
    await web.remove({ force: true });
  });
});


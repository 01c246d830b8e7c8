/**
 * Volumes and mounts as a user sees them, through the real docker CLI (and docker-compose 1.29)
 * against ctrnetd in test host "a": a named volume's data outlives its containers and the
 * daemon, a new volume is filled from the image, bind mounts show the host's files and `:ro`
 * refuses writes, `local` volumes with options are mounted on the host while used, anonymous
 * volumes go with `rm -v` and `--rm`, a compose project waits for its database to be healthy.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { LabHost, sh } from '../../scripts/lab';
import { assertNoLeftovers, dockerOn, until } from './_util';

let a: LabHost;

const { env, docker, ok } = dockerOn(() => a);

const mounted = (path: string): boolean => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === path);

before(async () => {
  assert.equal(spawnSync('docker', ['--version']).status, 0, 'the docker CLI must be on PATH for these tests');
  a = await LabHost.create('vol');
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  assertNoLeftovers([a].filter(Boolean));
});

describe('volumes and mounts', () => {
  it('a named volume: filled from the image on first use, its data kept across rm, new containers and a daemon restart', async () => {
    // busybox has /var/www/index.html: a new volume mounted there gets it.
    assert.match(await ok(['run', '--rm', '-v', 'site:/var/www', 'busybox', 'cat', '/var/www/index.html']), /It works!/);
    assert.match(await ok(['volume', 'ls', '--format', '{{.Name}} {{.Driver}}']), /^site local$/m, 'made on first use');
    await ok(['run', '--name', 'writer', '-v', 'site:/data', 'busybox', 'sh', '-c', 'echo kept > /data/note']);
    const rm = await docker(['volume', 'rm', 'site']);
    assert.equal(rm.code, 1);
    assert.match(rm.stderr, /remove site: volume is in use - \[[0-9a-f]{64}\]/, 'Docker\'s words, while a container refers to it');
    await ok(['rm', 'writer']);
    await a.stopDaemon('SIGKILL');
    await a.startDaemon();
    assert.equal(await ok(['run', '--rm', '-v', 'site:/data:ro', 'busybox', 'cat', '/data/note']), 'kept\n');
    const ro = await docker(['run', '--rm', '-v', 'site:/data:ro', 'busybox', 'sh', '-c', 'echo x > /data/note']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    const info = JSON.parse(await ok(['volume', 'inspect', 'site']))[0];
    assert.equal(info.Mountpoint, `${a.root}/volumes/site/_data`);
    assert.equal(readFileSync(`${info.Mountpoint}/note`, 'utf8'), 'kept\n', 'the data is on the host, under the daemon root');
    assert.equal((await ok(['volume', 'rm', 'site'])).trim(), 'site');
    assert.equal(existsSync(`${a.root}/volumes/site`), false, 'removed with its data');
    const bad = await docker(['volume', 'create', 'bad/name']);
    assert.match(bad.stderr, /includes invalid characters for a local volume name/);
  });

  it('bind mounts show the host\'s files, :ro refuses writes, -v makes a missing host path and --mount does not', async () => {
    const dir = `${a.dir}/host-files`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/hello.txt`, 'from the host\n');
    assert.equal(await ok(['run', '--rm', '-v', `${dir}:/h`, 'busybox', 'cat', '/h/hello.txt']), 'from the host\n');
    await ok(['run', '--rm', '-v', `${dir}:/h`, 'busybox', 'sh', '-c', 'echo back > /h/written']);
    assert.equal(readFileSync(`${dir}/written`, 'utf8'), 'back\n', 'writes reach the host');
    const ro = await docker(['run', '--rm', '-v', `${dir}:/h:ro`, 'busybox', 'sh', '-c', 'echo x > /h/hello.txt']);
    assert.notEqual(ro.code, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.equal(readFileSync(`${dir}/hello.txt`, 'utf8'), 'from the host\n');
    await ok(['run', '--rm', '-v', `${a.dir}/made/by/run:/m`, 'busybox', 'true']);
    assert.ok(existsSync(`${a.dir}/made/by/run`), '-v makes the host directory');
    const m = await docker(['run', '--rm', '--mount', `type=bind,source=${a.dir}/missing,target=/m`, 'busybox', 'true']);
    assert.equal(m.code, 125);
    assert.match(m.stderr, new RegExp(`invalid mount config for type "bind": bind source path does not exist: ${a.dir}/missing`));
    assert.equal(await ok(['run', '--rm', '--mount', `type=bind,source=${dir},target=/h,readonly`, 'busybox', 'cat', '/h/hello.txt']), 'from the host\n');
    // --read-only with a --tmpfs to write in
    const rofs = await docker(['run', '--rm', '--read-only', '--tmpfs', '/scratch:size=1m', 'busybox', 'sh', '-c', 'touch /x 2>&1; echo y > /scratch/y && cat /scratch/y; grep " /scratch " /proc/mounts']);
    assert.match(rofs.stdout, /Read-only file system/);
    assert.match(rofs.stdout, /^y$/m);
    assert.match(rofs.stdout, /tmpfs \/scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k/);
  });

  it('a local volume with options is mounted on the host while a container uses it: tmpfs and a bind of a host directory', async () => {
    await ok(['volume', 'create', '-d', 'local', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=10m,mode=700', 'scratch']);
    const data = `${a.root}/volumes/scratch/_data`;
    assert.equal(mounted(data), false, 'not before a container uses it');
    await ok(['run', '-d', '--name', 't1', '-v', 'scratch:/s', 'busybox', 'sh', '-c', 'echo in-tmpfs > /s/f; sleep 600']);
    await until(async () => existsSync(`${data}/f`), 5000, 'the file in the tmpfs');
    assert.ok(mounted(data));
    assert.match(readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === data)!, /tmpfs tmpfs rw,size=10240k,mode=700/);
    assert.equal(await ok(['run', '--rm', '-v', 'scratch:/s', 'busybox', 'cat', '/s/f']), 'in-tmpfs\n', 'two containers share it');
    assert.ok(mounted(data), 'still used by t1');
    await ok(['rm', '-f', 't1']);
    assert.equal(mounted(data), false, 'unmounted with its last user');
    // Its last user ends while no daemon runs: the next daemon unmounts it.
    await ok(['run', '-d', '--name', 't2', '-v', 'scratch:/s', 'busybox', 'sleep', '600']);
    const t2 = JSON.parse(await ok(['inspect', 't2']))[0];
    assert.ok(mounted(data));
    await a.stopDaemon('SIGKILL');
    assert.ok(readFileSync(`/proc/${t2.State.Pid}/cgroup`, 'utf8').includes(`/ctrnet/${t2.Id}`));
    process.kill(t2.State.Pid, 'SIGKILL');
    await a.startDaemon();
    assert.equal(mounted(data), false, 'unmounted by the next daemon');
    await ok(['rm', 't2']);
    const dir = `${a.dir}/device-dir`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/f`, 'device\n');
    await ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${dir}`, 'devvol']);
    assert.equal(await ok(['run', '--rm', '-v', 'devvol:/d', 'busybox', 'cat', '/d/f']), 'device\n');
    await ok(['volume', 'rm', 'scratch', 'devvol']);
    assert.equal(readFileSync(`${dir}/f`, 'utf8'), 'device\n', 'removing a bind volume leaves the host directory alone');
    // prune leaves volumes with options alone, as Docker 20.10: the data may be the user's
    await ok(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${dir}`, 'devvol2']);
    await ok(['volume', 'create', 'plain']);
    const pruned = await ok(['volume', 'prune', '-f']);
    assert.match(pruned, /^plain$/m);
    assert.doesNotMatch(pruned, /devvol2/);
    await ok(['volume', 'rm', 'devvol2']);
  });

  it('anonymous volumes (-v /path) go with rm -v and run --rm; --volumes-from shares a container\'s mounts', async () => {
    await ok(['run', '-d', '--name', 'src', '-v', '/anon', '-v', 'named:/named', 'busybox', 'sh', '-c', 'echo a > /anon/a; echo n > /named/n; sleep 600']);
    const mounts = JSON.parse(await ok(['inspect', '-f', '{{json .Mounts}}', 'src'])) as { Name: string; Destination: string; RW: boolean }[];
    const anon = mounts.find((m) => m.Destination === '/anon')!.Name;
    assert.match(anon, /^[0-9a-f]{64}$/);
    await until(async () => (await docker(['exec', 'src', 'cat', '/anon/a'])).code === 0, 5000, 'the files');
    const shared = await docker(['run', '--rm', '--volumes-from', 'src:ro', 'busybox', 'sh', '-c', 'cat /anon/a /named/n; touch /named/x']);
    assert.equal(shared.stdout, 'a\nn\n');
    assert.match(shared.stderr, /Read-only file system/, ':ro makes them read-only');
    await ok(['rm', '-f', '-v', 'src']);
    const names = (await ok(['volume', 'ls', '-q'])).split('\n');
    assert.ok(!names.includes(anon), 'the anonymous volume went with rm -v');
    assert.ok(names.includes('named'), 'a named one stays');
    const out = await ok(['run', '--rm', '-v', '/tmpdata', 'busybox', 'sh', '-c', 'echo x > /tmpdata/x']);
    assert.equal(out, '');
    assert.deepEqual((await ok(['volume', 'ls', '-q'])).split('\n').filter(Boolean), ['named'], '--rm removes its anonymous volume');
    await ok(['volume', 'rm', 'named']);
  });

  it('ctrnet\'s CLI: volume create/ls/inspect/rm and run -v', async () => {
    assert.equal((await a.ctl(['volume', 'create', '--label', 'team=db', 'cv1'])).trim(), 'cv1');
    assert.match(await a.ctl(['volume', 'ls', '-f', 'label=team=db']), /local\s+cv1/);
    assert.equal((await a.ctl(['volume', 'inspect', '-f', '{{.Mountpoint}}', 'cv1'])).trim(), `${a.root}/volumes/cv1/_data`);
    assert.equal((await a.ctl(['run', '--rm', '-v', 'cv1:/x', 'busybox', 'sh', '-c', 'echo 1 > /x/y; cat /x/y'])).trim(), '1');
    assert.equal((await a.ctl(['volume', 'rm', 'cv1'])).trim(), 'cv1');
  });

  it('docker-compose: depends_on service_healthy starts the app after the database is healthy; down keeps the volume, down -v removes it', async () => {
    assert.equal(spawnSync('docker-compose', ['version']).status, 0, 'docker-compose must be installed (scripts/bootstrap)');
    const dir = `${a.dir}/compose`;
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/docker-compose.yml`, COMPOSE);
    const compose = (project: string, file: string, args: string[]) => sh(['docker-compose', '-p', project, '-f', `${dir}/${file}`, ...args], { env: env(), timeoutMs: 120_000 });
    const dc = (args: string[]) => compose('hv', 'docker-compose.yml', args);
    {
      const up = await dc(['up', '-d']);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /Creating volume "hv_dbdata" with default driver/);
      const db = JSON.parse(await ok(['inspect', 'hv_db_1']))[0];
      const app = JSON.parse(await ok(['inspect', 'hv_app_1']))[0];
      assert.equal(db.State.Health.Status, 'healthy');
      assert.ok(Date.parse(app.State.StartedAt) - Date.parse(db.State.StartedAt) >= 2500, `the app started ${Date.parse(app.State.StartedAt) - Date.parse(db.State.StartedAt)} ms after the db: only once it was healthy`);
      assert.equal(await ok(['logs', 'hv_app_1']), 'READY-AT-START\n');
      assert.match((await dc(['ps'])).stdout, /hv_db_1 .*Up \(healthy\)/);
      assert.equal((await dc(['down', '-t', '1'])).code, 0);
      assert.match(await ok(['volume', 'ls', '-q']), /^hv_dbdata$/m);
      assert.equal((await dc(['up', '-d'])).code, 0);
      assert.equal((await ok(['exec', 'hv_db_1', 'cat', '/data/boots'])).trim(), '2', 'the second up found the data of the first');
      const down = await dc(['down', '-v', '-t', '1']);
      assert.match(down.stderr, /Removing volume hv_dbdata/);
      assert.doesNotMatch(await ok(['volume', 'ls', '-q']), /hv_dbdata/);
      // a dependency that never becomes healthy: up fails and the dependent is never started
      writeFileSync(`${dir}/sick.yml`, SICK);
      const sick = await compose('hs', 'sick.yml', ['up', '-d']);
      assert.equal(sick.code, 1);
      assert.match(sick.stderr, /is unhealthy/);
      assert.doesNotMatch(await ok(['ps', '-a', '--format', '{{.Names}}']), /hs_waiter_1/);
      await compose('hs', 'sick.yml', ['down', '-t', '1']);
    }
  });
});

// The research project (research/compose/projects/h_volumes), on the default bridge: compose's own
// networks are issue 14's.
const COMPOSE = `version: "2.4"
services:
  db:
    image: busybox
    network_mode: bridge
    command: ["sh", "-c", "rm -f /data/ready; n=$$(cat /data/boots 2>/dev/null || echo 0); echo $$((n+1)) > /data/boots; sleep 3; touch /data/ready; trap 'exit 0' TERM; while :; do sleep 1; done"]
    volumes:
      - dbdata:/data
    healthcheck:
      test: ["CMD", "test", "-f", "/data/ready"]
      interval: 500ms
      timeout: 1s
      retries: 30
  app:
    image: busybox
    network_mode: bridge
    depends_on:
      db:
        condition: service_healthy
    volumes:
      - dbdata:/data:ro
    command: ["sh", "-c", "if test -f /data/ready; then echo READY-AT-START; else echo NOT-READY-AT-START; fi; trap 'exit 0' TERM; while :; do sleep 1; done"]
volumes:
  dbdata: {}
`;

const SICK = `version: "2.4"
services:
  sick:
    image: busybox
    network_mode: bridge
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 500ms
      retries: 2
  waiter:
    image: busybox
    network_mode: bridge
    depends_on:
      sick:
        condition: service_healthy
    command: ["sleep", "1"]
`;

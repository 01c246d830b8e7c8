/**
 * Attach and exec as Docker clients use them: detach keys (ctrl-p ctrl-q, or the client's own)
 * end a TTY client's stream and leave the process running, and pass through without a TTY;
 * exec streams framed or raw as the start asks, a command that cannot run exits 126 with the
 * runtime's words on stdout, a start without Upgrade streams its output as the answer; attach
 * with logs replays what was written; logs stop at `until`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { LabHost, sh } from '../../scripts/lab';
import { assertNoLeftovers, until } from './_util';
import { api, apiJson, docker, dockerOk, frames, hijack, readAll } from './_docker';

let h: LabHost;

before(async () => {
  h = await LabHost.create('att');
  await h.startDaemon();
});

after(async () => {
  await h?.destroy();
  assertNoLeftovers([h].filter(Boolean));
});

type J = Record<string, unknown>;
const CTRL = (c: string) => Buffer.from([c.charCodeAt(0) - 96]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function running(name: string): Promise<boolean> {
  return ((await apiJson<J>(h, 'GET', `/containers/${name}/json`)).State as J).Running === true;
}

describe('detach keys', () => {
  it('ctrl-p ctrl-q (one key at a time) detaches a TTY attach: the stream ends, the container runs on', async () => {
    await dockerOk(h, ['run', '-d', '-it', '--name', 'tty1', 'busybox', 'cat']);
    const { sock, rest } = await hijack(h, '/containers/tty1/attach?stdin=1&stdout=1&stream=1');
    const got = readAll(sock, rest);
    sock.write('before\n');
    await sleep(200);
    sock.write(CTRL('p'));
    await sleep(300);
    sock.write(CTRL('q'));
    const { data, ended } = await got;
    assert.ok(ended, 'the daemon closed the stream');
    assert.match(data.toString(), /before/);
    assert.ok(await running('tty1'));
    // A key that breaks the sequence off is passed on with the held one: ctrl-p then x reach cat.
    const again = await hijack(h, '/containers/tty1/attach?stdin=1&stdout=1&stream=1');
    const out = readAll(again.sock, again.rest, 1500);
    again.sock.write(Buffer.concat([CTRL('p'), Buffer.from('x\n')]));
    assert.match((await out).data.toString(), /\^Px/, 'the TTY echoes ctrl-p as ^P');
    again.sock.destroy();
  });

  it('the client\'s own keys (detachKeys, as the CLI sends --detach-keys or its config file\'s) replace the default', async () => {
    const { sock, rest } = await hijack(h, '/containers/tty1/attach?stdin=1&stdout=1&stream=1&detachKeys=ctrl-x');
    const got = readAll(sock, rest, 3000);
    sock.write(Buffer.concat([CTRL('p'), CTRL('q'), Buffer.from('still\n')]));
    await sleep(300);
    sock.write(CTRL('x'));
    const { data, ended } = await got;
    assert.ok(ended);
    assert.match(data.toString(), /still/, 'ctrl-p ctrl-q passed through to cat');
    assert.ok(await running('tty1'));
    const bad = await api(h, 'POST', '/containers/tty1/attach?stdin=1&stream=1&detachKeys=nonsense', undefined, { Connection: 'Upgrade', Upgrade: 'tcp' });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /Invalid detach keys \(nonsense\) provided/);
    // The docker CLI, its config file naming the keys: `docker attach` detaches with them, the container runs on.
    mkdirSync(`${h.dir}/cfg`, { recursive: true });
    writeFileSync(`${h.dir}/cfg/config.json`, JSON.stringify({ detachKeys: 'ctrl-x' }));
    const input = "sleep 1; printf 'typed\\n'; sleep 0.5; printf '\\030'; sleep 3";
    const cli = await sh(['sh', '-c', `(${input}) | timeout 20 script -qec 'docker attach tty1' /dev/null`], { env: { ...process.env, DOCKER_HOST: `unix://${h.socket}`, DOCKER_CONFIG: `${h.dir}/cfg` }, timeoutMs: 30_000 });
    assert.match(cli.stdout, /typed/);
    assert.match(cli.stdout, /read escape sequence/);
    assert.ok(await running('tty1'));
  });

  it('without a TTY the keys are data: they reach the process', async () => {
    await dockerOk(h, ['run', '-d', '-i', '--name', 'plain1', 'busybox', 'cat']);
    const { sock, rest } = await hijack(h, '/containers/plain1/attach?stdin=1&stdout=1&stream=1');
    const got = readAll(sock, rest, 1500);
    sock.write(Buffer.concat([CTRL('p'), CTRL('q'), Buffer.from('\n')]));
    const text = frames((await got).data).map(([, t]) => t).join('');
    assert.equal(text, '\x10\x11\n');
    sock.destroy();
    await dockerOk(h, ['rm', '-f', 'plain1']);
  });

  it('a TTY exec detaches with its DetachKeys and goes on running', async () => {
    const x = (await apiJson<J>(h, 'POST', '/containers/tty1/exec', { Cmd: ['sh', '-c', 'cat; echo done > /tmp/after'], Tty: true, AttachStdin: true, AttachStdout: true, detachKeys: 'ctrl-a' })).Id as string;
    assert.equal((await apiJson<J>(h, 'GET', `/exec/${x}/json`)).DetachKeys, 'ctrl-a');
    const { sock, rest } = await hijack(h, `/exec/${x}/start`, JSON.stringify({ Detach: false, Tty: true }));
    const got = readAll(sock, rest);
    await sleep(200);
    sock.write(CTRL('a'));
    assert.ok((await got).ended);
    assert.equal((await apiJson<J>(h, 'GET', `/exec/${x}/json`)).Running, true, 'the exec runs on after the detach');
    await dockerOk(h, ['rm', '-f', 'tty1']);
  });
});

describe('exec and attach streams', () => {
  it('a TTY exec streams raw when started with Tty, in stdout frames when started without (nothing lost)', async () => {
    await dockerOk(h, ['run', '-d', '--name', 'ex', 'busybox', 'sleep', '300']);
    const cmd = ['sh', '-c', 'echo hello out; echo hello err >&2'];
    const run = async (startTty: boolean) => {
      const x = (await apiJson<J>(h, 'POST', '/containers/ex/exec', { Cmd: cmd, Tty: true, AttachStdout: true, AttachStderr: true })).Id as string;
      const { sock, rest } = await hijack(h, `/exec/${x}/start`, JSON.stringify({ Detach: false, Tty: startTty }));
      return (await readAll(sock, rest)).data;
    };
    assert.equal((await run(true)).toString(), 'hello out\r\nhello err\r\n');
    const f = frames(await run(false));
    assert.deepEqual([...new Set(f.map(([s]) => s))], [1]);
    assert.equal(f.map(([, t]) => t).join(''), 'hello out\r\nhello err\r\n');
  });

  it('a command that cannot run exits 126, the runtime\'s words on stdout; the CLI exits 126 too', async () => {
    for (const [cmd, words] of [[['nosuchcmd'], /executable file not found/], [['/etc/hosts'], /permission denied/]] as const) {
      const x = (await apiJson<J>(h, 'POST', '/containers/ex/exec', { Cmd: cmd, AttachStdout: true, AttachStderr: true })).Id as string;
      const { sock, rest } = await hijack(h, `/exec/${x}/start`, JSON.stringify({ Detach: false, Tty: false }));
      const f = frames((await readAll(sock, rest)).data);
      assert.equal(f[0][0], 1, 'on stdout, as Docker writes it');
      assert.match(f[0][1], /^OCI runtime exec failed: /);
      assert.match(f[0][1], words);
      assert.match(f[0][1], /\r\n$/);
      const info = await apiJson<J>(h, 'GET', `/exec/${x}/json`);
      assert.deepEqual([info.ExitCode, info.Running], [126, false]);
    }
    assert.equal((await docker(h, ['exec', 'ex', 'nosuchcmd'])).code, 126);
  });

  it('exec -u runs the command as that user (uid:gid, or a name of the container\'s /etc/passwd); without it, as the container\'s', async () => {
    assert.equal(await dockerOk(h, ['exec', '-u', '1000:1001', 'ex', 'id', '-u']), '1000\n');
    assert.equal(await dockerOk(h, ['exec', '-u', '1000:1001', 'ex', 'id', '-g']), '1001\n');
    assert.equal(await dockerOk(h, ['exec', 'ex', 'id', '-u']), '0\n');
    const x = (await apiJson<J>(h, 'POST', '/containers/ex/exec', { Cmd: ['true'], User: '1000' })).Id as string;
    assert.equal(((await apiJson<J>(h, 'GET', `/exec/${x}/json`)).ProcessConfig as J).user, '1000');
  });

  it('an exec started without Upgrade streams its output as the answer, and one started twice is refused', async () => {
    const x = (await apiJson<J>(h, 'POST', '/containers/ex/exec', { Cmd: ['echo', 'plain'], AttachStdout: true })).Id as string;
    const r = await api(h, 'POST', `/exec/${x}/start`, { Detach: false, Tty: false });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/vnd.docker.raw-stream');
    assert.deepEqual(frames(Buffer.from(r.body, 'latin1')), [[1, 'plain\n']]);
    const again = await api(h, 'POST', `/exec/${x}/start`, { Detach: true });
    assert.equal(again.status, 409);
  });

  it('attach with logs replays what a container wrote (stream=0: only that), before and after it ran', async () => {
    const id = (await apiJson<J>(h, 'POST', '/containers/create?name=said', { Image: 'busybox', Cmd: ['sh', '-c', 'echo one; echo two >&2'] })).Id as string;
    // Attached with logs before the start: the stream from the first byte.
    const { sock, rest } = await hijack(h, `/containers/${id}/attach?logs=1&stream=1&stdout=1&stderr=1`);
    const live = readAll(sock, rest);
    await apiJson(h, 'POST', `/containers/${id}/start`);
    assert.deepEqual(frames((await live).data), [[1, 'one\n'], [2, 'two\n']]);
    await apiJson(h, 'POST', `/containers/${id}/wait`);
    const past = await hijack(h, `/containers/${id}/attach?logs=1&stream=0&stdout=1`);
    const { data, ended } = await readAll(past.sock, past.rest);
    assert.ok(ended);
    assert.deepEqual(frames(data), [[1, 'one\n']]);
    await dockerOk(h, ['rm', id]);
  });

  it('logs --until stops at that time, also while following', async () => {
    await dockerOk(h, ['run', '-d', '--name', 'ticks', 'busybox', 'sh', '-c', 'echo early; sleep 2; echo late; sleep 300']);
    await until(async () => (await dockerOk(h, ['logs', 'ticks'])).includes('late'), 10_000, 'the late line');
    const lines = (await dockerOk(h, ['logs', '-t', 'ticks'])).trim().split('\n');
    const early = Date.parse(lines[0].split(' ')[0]);
    const cut = ((early + 1000) / 1000).toFixed(3);
    assert.equal(await dockerOk(h, ['logs', '--until', cut, 'ticks']), 'early\n');
    const t0 = Date.now();
    assert.equal(await dockerOk(h, ['logs', '-f', '--until', ((Date.now() + 1000) / 1000).toFixed(3), 'ticks']), 'early\nlate\n');
    assert.ok(Date.now() - t0 < 5000, 'the follow stream ended at until');
    await dockerOk(h, ['rm', '-f', 'ticks', 'ex']);
  });

  it('logs -f of a container writing fast gives every line once, in order (the log read up to where the stream began)', async () => {
    await dockerOk(h, ['run', '-d', '--name', 'fast', 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 4000 ]; do echo $i; i=$((i+1)); done; sleep 300']);
    // Follow while it writes: what the log held then and what the stream brought meet exactly.
    await until(async () => (await dockerOk(h, ['logs', 'fast'])).length > 0, 10_000, 'the first lines');
    const got = await dockerOk(h, ['logs', '-f', '--until', ((Date.now() + 3000) / 1000).toFixed(3), 'fast']);
    const nums = got.trim().split('\n').map(Number);
    assert.equal(nums.length, 4000, `4000 lines, got ${nums.length}`);
    assert.ok(nums.every((n, i) => n === i), 'each line once, in order');
    await dockerOk(h, ['rm', '-f', 'fast']);
  });
});

/**
 * What a Docker user does with running containers beyond start and stop, through the real
 * docker CLI, observed independently where it can be: top and stats (the counters move with
 * real traffic and processes), pause (the cgroup freezer holds the processes), diff and commit
 * (a deleted file stays deleted in the committed image), prune with filters, system df, events
 * (a window of the past, a live stream, filters), legacy link removal, an image name with a
 * slash, and the namespace modes --pid, --uts, --ipc and --init.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { LabHost } from '../../scripts/lab';
import { assertNoLeftovers, until } from './_util';
import { api, apiJson, docker, dockerOk } from './_docker';

let h: LabHost;

before(async () => {
  h = await LabHost.create('ops');
  await h.startDaemon();
});

after(async () => {
  await h?.destroy();
  assertNoLeftovers([h].filter(Boolean));
});

type J = Record<string, unknown>;

/** The container's cgroup v1 freezer state, read from the host (FROZEN while paused). */
function freezerState(id: string): string {
  return readFileSync(`/sys/fs/cgroup/freezer/ctrnet/${id}/freezer.state`, 'utf8').trim();
}

describe('docker top, stats, pause, diff, commit', () => {
  it('top lists the container\'s processes with ps options; stats counts its traffic, memory and pids', async () => {
    const id = (await dockerOk(h, ['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'sleep 300 & sleep 301; true'])).trim();
    const top = await dockerOk(h, ['top', 'busy']);
    assert.match(top, /^UID\s+PID\s+PPID/);
    assert.match(top, /sleep 300/);
    assert.match(top, /sleep 301/);
    const custom = await dockerOk(h, ['top', 'busy', '-o', 'pid,args']);
    assert.match(custom, /^PID\s+COMMAND\n/);
    assert.equal(custom.trim().split('\n').length, 4, 'sh and the two sleeps');
    assert.match((await docker(h, ['top', 'busy', '-o', 'args'])).stderr, /Couldn't find PID field in ps output/);
    // Traffic from the host to the container shows in its eth0 counters, read in its namespace.
    const ip = (await dockerOk(h, ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', 'busy'])).trim();
    const before = (await apiJson<J>(h, 'GET', '/containers/busy/stats?stream=0&one-shot=1')).networks as Record<string, J>;
    await h.run(['ping', '-c', '5', '-i', '0.2', '-s', '1000', ip]);
    const s = await apiJson<J>(h, 'GET', '/containers/busy/stats?stream=0&one-shot=1');
    const eth0 = (s.networks as Record<string, J>).eth0;
    assert.ok((eth0.rx_bytes as number) >= (before.eth0.rx_bytes as number) + 5 * 1000, JSON.stringify({ before: before.eth0, now: eth0 }));
    assert.ok((eth0.tx_packets as number) >= (before.eth0.tx_packets as number) + 5);
    assert.equal((s.pids_stats as J).current, 3);
    assert.ok(((s.memory_stats as J).usage as number) > 0);
    assert.ok((((s.cpu_stats as J).cpu_usage as J).total_usage as number) > 0);
    assert.equal(s.preread, '0001-01-01T00:00:00Z', 'one-shot: no earlier sample');
    // Without one-shot, a second sample a second later, with the first as precpu.
    const two = await apiJson<J>(h, 'GET', '/containers/busy/stats?stream=0');
    assert.ok(Date.parse(two.read as string) - Date.parse(two.preread as string) >= 900);
    assert.ok('system_cpu_usage' in (two.precpu_stats as J));
    // The CLI's table.
    assert.match(await dockerOk(h, ['stats', '--no-stream', 'busy']), /busy\s+\d+\.\d+%\s+\S+ \/ \S+/);
    // A stream: one object a second.
    const stream = spawn('docker', ['stats', '--format', '{{.Name}} {{.PIDs}}', 'busy'], { env: { ...process.env, DOCKER_HOST: `unix://${h.socket}` } });
    let out = '';
    stream.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await until(async () => (out.match(/busy 3/g) ?? []).length >= 2, 10_000, 'two stats frames');
    stream.kill('SIGKILL');
    assert.equal(id.length, 64);
  });

  it('pause freezes the processes (cgroup freezer) and unpause thaws them; a paused container is refused exec', async () => {
    const id = (await dockerOk(h, ['inspect', '-f', '{{.Id}}', 'busy'])).trim();
    await dockerOk(h, ['pause', 'busy']);
    assert.equal(freezerState(id), 'FROZEN');
    assert.match(await dockerOk(h, ['ps', '--filter', 'name=busy']), /Up .* \(Paused\)/);
    const st = (await apiJson<J>(h, 'GET', '/containers/busy/json')).State as J;
    assert.deepEqual([st.Status, st.Running, st.Paused], ['paused', true, true]);
    assert.match((await docker(h, ['exec', 'busy', 'true'])).stderr, /is paused, unpause the container before exec/);
    assert.match((await docker(h, ['pause', 'busy'])).stderr, /is already paused/);
    assert.match((await docker(h, ['rm', 'busy'])).stderr, /cannot remove a paused container/);
    await dockerOk(h, ['unpause', 'busy']);
    assert.equal(freezerState(id), 'THAWED');
    assert.equal(await dockerOk(h, ['exec', 'busy', 'echo', 'awake']), 'awake\n');
    assert.match((await docker(h, ['unpause', 'busy'])).stderr, /is not paused/);
    // Killing a paused container works: SIGKILL thaws it.
    await dockerOk(h, ['pause', 'busy']);
    await dockerOk(h, ['kill', 'busy']);
    assert.equal(((await apiJson<J>(h, 'GET', '/containers/busy/json')).State as J).Status, 'exited');
    await dockerOk(h, ['rm', 'busy']);
  });

  it('diff shows added, changed and deleted paths; commit makes an image of them on top of the container\'s', async () => {
    await dockerOk(h, ['run', '-d', '--name', 'chg', '--label', 'x=1', 'busybox', 'sh', '-c', 'echo data > /tmp/new; mkdir -p /made/sub; rm /bin/ping; echo more >> /etc/passwd; sleep 300']);
    await until(async () => (await dockerOk(h, ['diff', 'chg'])).includes('/made/sub'), 5000, 'the changes');
    const diff = (await dockerOk(h, ['diff', 'chg'])).trim().split('\n');
    for (const line of ['C /bin', 'D /bin/ping', 'C /etc/passwd', 'A /made', 'A /made/sub', 'C /tmp', 'A /tmp/new']) assert.ok(diff.includes(line), `${line} in\n${diff.join('\n')}`);
    assert.ok(!diff.some((l) => /\/etc\/(hosts|hostname|resolv\.conf)|\/proc|\/sys|\/dev/.test(l)), `mount points are no changes:\n${diff.join('\n')}`);
    const imgId = (await dockerOk(h, ['commit', '-m', 'a note', '-a', 'me', '-c', 'ENV COMMITTED=yes', '-c', 'CMD ["cat","/tmp/new"]', 'chg', 'acc/snap:v1'])).trim();
    assert.match(imgId, /^sha256:[0-9a-f]{64}$/);
    // The image: the container's files, what it deleted still gone, the config changed.
    assert.equal(await dockerOk(h, ['run', '--rm', 'acc/snap:v1']), 'data\n');
    assert.equal((await docker(h, ['run', '--rm', 'acc/snap:v1', 'ls', '/bin/ping'])).code, 1);
    assert.equal(await dockerOk(h, ['run', '--rm', 'acc/snap:v1', 'sh', '-c', 'echo $COMMITTED; tail -1 /etc/passwd']), 'yes\nmore\n');
    const img = await apiJson<J>(h, 'GET', '/v1.41/images/acc/snap:v1/json');
    const busybox = await apiJson<J>(h, 'GET', '/images/busybox/json');
    assert.deepEqual([img.Comment, img.Author, img.Parent, ((img.RootFS as J).Layers as string[]).length], ['a note', 'me', busybox.Id, 2]);
    assert.deepEqual((img.Config as J).Labels, { x: '1' });
    assert.ok(((img.ContainerConfig as J).Cmd as string[]).includes('sh'), 'ContainerConfig is the container\'s');
    assert.match((await docker(h, ['commit', '-c', 'NOSUCH x', 'chg'])).stderr, /nosuch is not a valid change command/);
    // A name with a slash: tag, inspect and rmi find it.
    await dockerOk(h, ['tag', 'acc/snap:v1', 'acc/bb:tagged']);
    assert.equal(await dockerOk(h, ['rmi', 'acc/bb:tagged']), 'Untagged: acc/bb:tagged\n');
    assert.match((await docker(h, ['rmi', 'busybox'])).stderr, /conflict|image has dependent child images|is using/);
    await dockerOk(h, ['rm', '-f', 'chg']);
    assert.match(await dockerOk(h, ['rmi', 'acc/snap:v1']), /Untagged: acc\/snap:v1\nDeleted: sha256:/);
    assert.equal((await api(h, 'GET', '/images/acc/snap:v1/json')).status, 404);
  });
});

describe('prune, system df, events, links, namespaces', () => {
  it('container, image and network prune take until and label filters; system df counts what there is', async () => {
    await dockerOk(h, ['create', '--name', 'keep1', '--label', 'keep=yes', 'busybox', 'true']);
    await dockerOk(h, ['create', '--name', 'drop1', '--label', 'keep=no', 'busybox', 'true']);
    await dockerOk(h, ['run', '-d', '--name', 'runs', '--label', 'keep=no', 'busybox', 'sleep', '300']);
    assert.match((await docker(h, ['container', 'prune', '-f', '--filter', 'status=exited'])).stderr, /Invalid filter 'status'/);
    assert.equal((await dockerOk(h, ['container', 'prune', '-f', '--filter', 'until=1h'])).trim(), 'Total reclaimed space: 0B', 'nothing older than an hour');
    const pruned = await dockerOk(h, ['container', 'prune', '-f', '--filter', 'label=keep=no']);
    assert.match(pruned, /Deleted Containers:\n[0-9a-f]{64}\n/);
    const left = await dockerOk(h, ['ps', '-a', '--format', '{{.Names}}']);
    assert.match(left, /keep1/);
    assert.match(left, /runs/, 'a running container is never pruned');
    assert.doesNotMatch(left, /drop1/);
    await dockerOk(h, ['container', 'prune', '-f', '--filter', 'label!=keep=no']);
    assert.doesNotMatch(await dockerOk(h, ['ps', '-a', '--format', '{{.Names}}']), /keep1/);
    // Images: a dangling commit goes, a tagged one only without the dangling filter and with its label.
    await dockerOk(h, ['commit', 'runs']);
    await dockerOk(h, ['commit', '-c', 'LABEL prune=yes', 'runs', 'pimg:1']);
    const df = await apiJson<J>(h, 'GET', '/system/df');
    assert.equal((df.Images as unknown[]).length, 3);
    const runs = (df.Containers as J[]).find((c) => (c.Names as string[])[0] === '/runs')!;
    assert.equal(typeof runs.SizeRw, 'number');
    assert.ok((runs.SizeRootFs as number) >= ((await apiJson<J>(h, 'GET', '/images/busybox/json')).Size as number));
    assert.match(await dockerOk(h, ['system', 'df']), /Images\s+3\s+1/);
    const dangling = await apiJson<J>(h, 'POST', '/images/prune');
    assert.equal((dangling.ImagesDeleted as unknown[]).length, 1);
    assert.equal((await dockerOk(h, ['image', 'prune', '-f', '-a', '--filter', 'label=other'])).trim(), 'Total reclaimed space: 0B');
    assert.match(await dockerOk(h, ['image', 'prune', '-f', '-a', '--filter', 'label=prune=yes']), /untagged: pimg:1/);
    assert.match((await docker(h, ['image', 'prune', '-f', '--filter', 'reference=x'])).stderr, /Invalid filter 'reference'/);
    // Networks: by label; one in use stays.
    await dockerOk(h, ['network', 'create', '--label', 'a=1', 'pn1']);
    await dockerOk(h, ['network', 'create', 'pn2']);
    assert.deepEqual((await apiJson<J>(h, 'POST', `/networks/prune?filters=${encodeURIComponent('{"label":["a=1"]}')}`)).NetworksDeleted, ['pn1']);
    assert.deepEqual((await apiJson<J>(h, 'POST', `/networks/prune?filters=${encodeURIComponent('{"until":["1h"]}')}`)).NetworksDeleted, null);
    assert.equal((await api(h, 'POST', `/networks/prune?filters=${encodeURIComponent('{"driver":["bridge"]}')}`)).status, 400);
    await dockerOk(h, ['network', 'prune', '-f']);
    assert.doesNotMatch(await dockerOk(h, ['network', 'ls']), /pn2/);
    await dockerOk(h, ['rm', '-f', 'runs']);
  });

  it('events: a window of the past with Docker\'s shapes and filters, and a live stream', async () => {
    const since = (Date.now() / 1000).toFixed(3);
    await dockerOk(h, ['network', 'create', 'evnet']);
    const id = (await dockerOk(h, ['run', '-d', '--name', 'ev1', '--network', 'evnet', '--label', 'ev=1', 'busybox', 'sleep', '300'])).trim();
    assert.equal((await docker(h, ['exec', 'ev1', 'sh', '-c', 'exit 3'])).code, 3);
    await dockerOk(h, ['rename', 'ev1', 'ev2']);
    await dockerOk(h, ['rm', '-f', 'ev2']);
    await dockerOk(h, ['network', 'rm', 'evnet']);
    const untilT = (Date.now() / 1000 + 0.001).toFixed(3);
    const window = async (filters?: J) => (await api(h, 'GET', `/v1.41/events?since=${since}&until=${untilT}${filters ? `&filters=${encodeURIComponent(JSON.stringify(filters))}` : ''}`)).body.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as J);
    const all = await window();
    const seq = all.map((e) => `${e.Type} ${(e.Action as string).split(':')[0]}`);
    assert.deepEqual(seq, ['network create', 'container create', 'network connect', 'container start', 'container exec_create', 'container exec_start', 'container exec_die',
      'container rename', 'container kill', 'container die', 'network disconnect', 'container destroy', 'network destroy']);
    const start = all.find((e) => e.Action === 'start')!;
    assert.deepEqual([start.status, start.id, start.from, start.scope, (start.Actor as J).ID], ['start', id, 'busybox', 'local', id]);
    assert.deepEqual((start.Actor as J).Attributes, { ev: '1', image: 'busybox', name: 'ev1' });
    assert.equal(String(start.timeNano).slice(0, 10), String(start.time));
    assert.deepEqual((all.find((e) => e.Action === 'exec_die')!.Actor as J).Attributes, { ev: '1', execID: ((all.find((e) => e.Action === 'exec_die')!.Actor as J).Attributes as J).execID, exitCode: '3', image: 'busybox', name: 'ev1' });
    assert.equal(((all.find((e) => e.Action === 'kill')!.Actor as J).Attributes as J).signal, '9');
    assert.equal(((all.find((e) => e.Action === 'rename')!.Actor as J).Attributes as J).oldName, '/ev1');
    // Filters: keys AND, values OR; a container by its old name; the action prefix of exec events.
    assert.deepEqual((await window({ type: ['network'], event: ['connect', 'disconnect'] })).map((e) => e.Action), ['connect', 'disconnect']);
    assert.equal((await window({ container: ['ev1'] })).length, 5, 'the events from when it had that name');
    assert.equal((await window({ event: ['exec_start'] })).length, 1);
    assert.equal((await window({ label: ['ev=1'], event: ['die'] })).length, 1);
    assert.equal((await window({ image: ['busybox'] })).length, 9, 'the container events (the image of each)');
    // 1.52 drops status/id/from: ctrnet answers 1.51 clients with them, and the CLI prints the window.
    assert.match(await dockerOk(h, ['events', '--since', since, '--until', untilT, '--filter', 'event=destroy']), /container destroy [0-9a-f]{64} \(ev=1, image=busybox, name=ev2\)/);
    assert.match((await api(h, 'GET', `/events?since=${untilT}&until=${since}`)).body, /cannot be after `until` time/);
    // Live: a stream without until gets new events as they happen.
    const live = spawn('docker', ['events', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}', '--filter', 'type=container'], { env: { ...process.env, DOCKER_HOST: `unix://${h.socket}` } });
    let out = '';
    live.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((r) => setTimeout(r, 300));
    await dockerOk(h, ['run', '--rm', '--name', 'evlive', 'busybox', 'true']);
    await until(async () => /container destroy evlive/.test(out), 10_000, 'the live destroy event');
    live.kill('SIGKILL');
    assert.match(out, /container create evlive\ncontainer attach evlive\ncontainer start evlive\ncontainer die evlive\ncontainer destroy evlive/);
    // A daemon event: ctrnet's reload (of its firewall rules) is Docker's daemon reload.
    const t = (Date.now() / 1000).toFixed(3);
    await h.ctl(['system', 'reload']);
    const d = await api(h, 'GET', `/events?since=${t}&until=${(Date.now() / 1000 + 0.001).toFixed(3)}&filters=${encodeURIComponent('{"type":["daemon"]}')}`);
    assert.match(d.body, /^\{"Type":"daemon","Action":"reload","Actor":\{"ID":"ctrnet","Attributes":\{"name":"[^"]+"\}\},"scope":"local"/);
  });

  it('legacy links: kept, shown in inspect, removed with rm --link; a missing target is refused', async () => {
    await dockerOk(h, ['run', '-d', '--name', 'target', 'busybox', 'sleep', '300']);
    await dockerOk(h, ['create', '--name', 'linker', '--link', 'target:tl', 'busybox', 'sleep', '300']);
    assert.deepEqual(JSON.parse(await dockerOk(h, ['inspect', '-f', '{{json .HostConfig.Links}}', 'linker'])), ['/target:/linker/tl']);
    assert.equal((await dockerOk(h, ['rm', '--link', 'linker/tl'])).trim(), 'linker/tl');
    assert.equal((await dockerOk(h, ['inspect', '-f', '{{json .HostConfig.Links}}', 'linker'])).trim(), 'null');
    assert.match((await docker(h, ['rm', '--link', 'linker/tl'])).stderr, /No such container: linker\/tl/);
    assert.match((await docker(h, ['create', '--link', 'nosuch:x', 'busybox', 'true'])).stderr, /could not get container for nosuch/);
    await dockerOk(h, ['rm', '-f', 'linker']);
  });

  it('--ipc shareable and container:, --uts host, --init', async () => {
    await dockerOk(h, ['run', '-d', '--name', 'donor', '--ipc', 'shareable', 'busybox', 'sh', '-c', 'echo shared > /dev/shm/f; sleep 300']);
    await until(async () => (await docker(h, ['exec', 'donor', 'cat', '/dev/shm/f'])).code === 0, 5000, 'the donor\'s file');
    assert.equal(await dockerOk(h, ['run', '--rm', '--ipc', 'container:donor', 'busybox', 'cat', '/dev/shm/f']), 'shared\n');
    // Same IPC namespace: the joiner's and the donor's ipc namespace links are one.
    const ns = async (args: string[]) => (await dockerOk(h, args)).trim();
    assert.equal(await ns(['run', '--rm', '--ipc', 'container:donor', 'busybox', 'readlink', '/proc/self/ns/ipc']), await ns(['exec', 'donor', 'readlink', '/proc/self/ns/ipc']));
    assert.notEqual(await ns(['run', '--rm', 'busybox', 'readlink', '/proc/self/ns/ipc']), await ns(['exec', 'donor', 'readlink', '/proc/self/ns/ipc']));
    assert.match((await docker(h, ['run', '--rm', '--ipc', 'container:target', 'busybox', 'true'])).stderr, /non-shareable IPC/);
    assert.equal(await ns(['inspect', '-f', '{{.HostConfig.IpcMode}}', 'donor']), 'shareable');
    assert.equal(await dockerOk(h, ['run', '--rm', '--uts', 'host', 'busybox', 'hostname']), `${(await h.run(['hostname'])).trim()}\n`);
    const init = await dockerOk(h, ['run', '--rm', '--init', 'busybox', 'ps', '-o', 'pid,args']);
    assert.match(init, /^\s+1 \/sbin\/docker-init -- ps -o pid,args$/m);
    // The donor's /dev/shm is a tmpfs of its own on the host, gone with it.
    const donor = await ns(['inspect', '-f', '{{.Id}}', 'donor']);
    assert.ok(readFileSync('/proc/self/mountinfo', 'utf8').includes(`/containers/${donor}/shm`));
    await dockerOk(h, ['rm', '-f', 'donor', 'target']);
    assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(`/containers/${donor}/shm`));
  });
});

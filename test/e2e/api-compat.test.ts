/**
 * ctrnetd as Docker clients find it: swarm endpoints answered as an engine outside a swarm
 * answers them, no documented endpoint left at 501, inspect's fields as Docker fills them (and
 * honoured: stop signal and timeout, the /etc files), and the API versions: the newest one
 * advertised, older clients answered in their version's shapes, versions outside the range refused;
 * duplicate network names as Docker 20.10 makes them for clients older than 1.44.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { LabHost } from '../../scripts/lab';
import { assertNoLeftovers } from './_util';
import { api, apiJson, docker, dockerOk, hijack, readAll } from './_docker';

let h: LabHost;

before(async () => {
  h = await LabHost.create('api');
  await h.startDaemon();
});

after(async () => {
  await h?.destroy();
  assertNoLeftovers([h].filter(Boolean));
});

type J = Record<string, unknown>;

describe('API compatibility', () => {
  it('swarm, node, service, task, secret and config endpoints answer as an unswarmed Docker: 503 with its words', async () => {
    const notManager = /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join"/;
    for (const [m, p] of [['GET', '/swarm'], ['GET', '/nodes'], ['GET', '/nodes/x'], ['GET', '/services'], ['GET', '/services/x'], ['GET', '/tasks'], ['GET', '/secrets'], ['GET', '/configs/x'], ['DELETE', '/services/x'], ['GET', '/swarm/unlockkey']]) {
      const r = await api(h, m, `/v1.41${p}`);
      assert.equal(r.status, 503, `${m} ${p}`);
      assert.match((r.json as J).message as string, notManager, `${m} ${p}`);
    }
    const leave = await api(h, 'POST', '/v1.41/swarm/leave?force=1');
    assert.deepEqual([leave.status, (leave.json as J).message], [503, 'This node is not part of a swarm']);
    assert.equal((await api(h, 'POST', '/v1.41/services/create', '{')).status, 400, 'a malformed body is refused first');
    assert.match((await api(h, 'POST', '/v1.41/swarm/update?version=1')).body, /got EOF while reading request body/);
    // Joining another engine's swarm is refused, naming ctrnet's way of joining hosts (swarm.test.ts: init).
    const join = await api(h, 'POST', '/v1.41/swarm/join', { ListenAddr: '0.0.0.0:2377', RemoteAddrs: ['10.9.9.9:2377'], JoinToken: 'SWMTKN-1-x' });
    assert.equal(join.status, 503);
    assert.match(join.body, /ctrnet cannot join a swarm.*--cluster-store etcd:/);
    // The docker CLI: the same words, and `info` says the node is inactive.
    assert.match((await docker(h, ['swarm', 'leave'])).stderr, /Error response from daemon: This node is not part of a swarm/);
    assert.match((await docker(h, ['node', 'ls'])).stderr, /This node is not a swarm manager/);
    assert.match(await dockerOk(h, ['info']), /Swarm: inactive/);
    assert.equal((await api(h, 'HEAD', '/_ping')).headers.swarm, 'inactive');
  });

  it('documented endpoints never answer 501; plugins are an empty list; a path Docker does not have is "page not found"', async () => {
    const c = (await apiJson<J>(h, 'POST', '/containers/create?name=doc501', { Image: 'busybox', Cmd: ['true'] })).Id as string;
    const documented: [string, string][] = [
      ['POST', '/build'], ['POST', '/build/prune'], ['GET', '/images/search?term=x'], ['POST', '/images/busybox/push'], ['GET', '/images/busybox/get'],
      ['GET', '/images/get?names=busybox'], ['POST', '/images/load'], ['GET', '/images/busybox/history'], ['GET', '/distribution/busybox/json'], ['POST', '/auth'],
      ['GET', `/containers/${c}/export`], ['GET', `/containers/${c}/archive?path=/`], ['PUT', `/containers/${c}/archive?path=/`], ['HEAD', `/containers/${c}/archive?path=/`],
      ['POST', `/containers/${c}/update`], ['GET', `/containers/${c}/attach/ws`], ['GET', `/containers/${c}/changes`], ['GET', `/containers/${c}/top`],
      ['GET', `/containers/${c}/stats?stream=0`], ['POST', `/containers/${c}/pause`], ['POST', `/containers/${c}/unpause`], ['POST', '/containers/prune'],
      ['POST', '/images/prune'], ['POST', '/networks/prune'], ['POST', `/commit?container=${c}`], ['GET', '/system/df'], ['GET', '/events?since=0&until=1'],
      ['GET', '/volumes'], ['POST', '/volumes/create'], ['GET', '/volumes/x'], ['DELETE', '/volumes/x'], ['POST', '/volumes/prune'], ['POST', '/session'],
      ['GET', '/plugins'], ['GET', '/plugins/privileges?remote=x'], ['POST', '/plugins/pull?remote=x'], ['GET', '/plugins/x/json'], ['DELETE', '/plugins/x'],
      ['POST', '/plugins/x/enable'], ['POST', '/plugins/create?name=x'], ['POST', '/swarm/join'], ['POST', '/swarm/unlock'], ['POST', '/nodes/x/update'],
      ['POST', '/secrets/create'], ['POST', '/configs/x/update'], ['GET', '/tasks/x/logs'], ['GET', '/services/x/logs'],
    ];
    for (const [m, p] of documented) {
      const r = await api(h, m, `/v1.41${p}`, m === 'POST' || m === 'PUT' ? {} : undefined);
      assert.notEqual(r.status, 501, `${m} ${p} → 501 ${r.body}`);
      if (r.status >= 400 && m !== 'HEAD') assert.match(r.body, /"message":"[^"]+/, `${m} ${p}`);
    }
    assert.deepEqual(await apiJson(h, 'GET', '/v1.41/plugins'), []);
    const build = await api(h, 'POST', '/v1.41/build', {});
    assert.deepEqual([build.status, (build.json as J).message], [400, 'building images (POST /build) is not supported by ctrnet (build elsewhere and `docker save | docker load` or import the root filesystem)']);
    for (const p of ['/v1.41/nosuchthing', '/nosuchthing', '/v1.x/version']) assert.deepEqual([(await api(h, 'GET', p)).status, (await api(h, 'GET', p)).json], [404, { message: 'page not found' }], p);
    assert.equal((await api(h, 'PUT', '/v1.41/containers/json')).status, 404, 'a method the endpoint does not have');
    assert.equal((await api(h, 'GET', `/containers/${c}/json`)).status, 404, 'the container prune above removed it');
  });

  it('inspect has every HostConfig field Docker 20.10 shows, with its zero values, and the ones given are honoured', async () => {
    const id = (await apiJson<J>(h, 'POST', '/v1.41/containers/create?name=fields', {
      Image: 'busybox', Cmd: ['sh', '-c', "trap 'exit 7' USR1; while true; do sleep 0.1; done"], StopSignal: 'SIGUSR1', StopTimeout: 5,
      HostConfig: { PidMode: 'host', UTSMode: 'host', VolumeDriver: 'vd', LogConfig: { Type: 'json-file', Config: { 'max-size': '1m' } } },
    })).Id as string;
    const created = await apiJson<J>(h, 'GET', `/v1.41/containers/${id}/json`);
    // Docker leaves the paths empty until the first start.
    assert.deepEqual([created.ResolvConfPath, created.HostnamePath, created.HostsPath, created.LogPath], ['', '', '', '']);
    await apiJson(h, 'POST', `/containers/${id}/start`);
    const c = await apiJson<J>(h, 'GET', `/v1.41/containers/${id}/json`);
    const hc = c.HostConfig as J;
    // Every key of Docker 20.10's HostConfig for such a container, in its order.
    const docker2010 = ['Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'VolumeDriver', 'VolumesFrom', 'CapAdd', 'CapDrop',
      'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links', 'OomScoreAdj', 'PidMode', 'Privileged', 'PublishAllPorts',
      'ReadonlyRootfs', 'SecurityOpt', 'UTSMode', 'UsernsMode', 'ShmSize', 'Runtime', 'ConsoleSize', 'Isolation', 'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent',
      'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps', 'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota',
      'CpuRealtimePeriod', 'CpuRealtimeRuntime', 'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP',
      'MemoryReservation', 'MemorySwap', 'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth',
      'MaskedPaths', 'ReadonlyPaths'];
    assert.deepEqual(Object.keys(hc), docker2010);
    assert.deepEqual([hc.LogConfig, hc.PidMode, hc.UTSMode, hc.IpcMode, hc.VolumeDriver, hc.CpuShares, hc.ShmSize, hc.MemorySwappiness, hc.PidsLimit, hc.Ulimits],
      [{ Type: 'json-file', Config: { 'max-size': '1m' } }, 'host', 'host', 'private', 'vd', 0, 67108864, null, null, []]);
    assert.deepEqual([(c.Config as J).StopSignal, (c.Config as J).StopTimeout, c.Driver, (c.GraphDriver as J).Name], ['SIGUSR1', 5, 'overlay2', 'overlay2']);
    // The paths are real: the files the container sees, its writable layer.
    assert.match(readFileSync(c.HostsPath as string, 'utf8'), /127\.0\.0\.1\tlocalhost/);
    assert.ok(existsSync(c.ResolvConfPath as string) && existsSync(c.HostnamePath as string));
    assert.ok(statSync(((c.GraphDriver as J).Data as J).UpperDir as string).isDirectory());
    // Host PID and UTS namespaces: the host's processes and hostname.
    const ps = await dockerOk(h, ['exec', id, 'ps', '-o', 'pid']);
    assert.ok(ps.split('\n').length > 20, `--pid host sees the host's processes:\n${ps}`);
    assert.equal((await dockerOk(h, ['exec', id, 'hostname'])).trim(), (await h.run(['hostname'])).trim());
    // The stop signal is sent first: the trap exits 7, before the timeout.
    const t0 = Date.now();
    await dockerOk(h, ['stop', id]);
    assert.ok(Date.now() - t0 < 4000, 'stopped by SIGUSR1, not after the timeout');
    assert.equal(((await apiJson<J>(h, 'GET', `/containers/${id}/json`)).State as J).ExitCode, 7);
    // A process that ignores the stop signal is killed after StopTimeout (here 1 s), not 10.
    const ignoring = (await apiJson<J>(h, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sh', '-c', "trap '' TERM; while true; do sleep 0.1; done"], StopTimeout: 1 })).Id as string;
    await apiJson(h, 'POST', `/containers/${ignoring}/start`);
    const t1 = Date.now();
    await dockerOk(h, ['stop', ignoring]);
    const took = Date.now() - t1;
    assert.ok(took >= 900 && took < 5000, `stop took ${took} ms`);
    assert.equal(((await apiJson<J>(h, 'GET', `/containers/${ignoring}/json`)).State as J).ExitCode, 137);
    await dockerOk(h, ['rm', id, ignoring]);
  });

  it('image inspect has RootFS, GraphDriver, ContainerConfig and RepoDigests as Docker shows them, in each version\'s shape', async () => {
    const at141 = await apiJson<J>(h, 'GET', '/v1.41/images/busybox/json');
    assert.deepEqual([at141.RepoDigests, (at141.RootFS as J).Type, ((at141.RootFS as J).Layers as string[]).length, (at141.GraphDriver as J).Name], [[], 'layers', 1, 'overlay2']);
    assert.match(((at141.RootFS as J).Layers as string[])[0], /^sha256:[0-9a-f]{64}$/);
    assert.ok('ContainerConfig' in at141 && 'VirtualSize' in at141 && 'Hostname' in (at141.Config as J));
    const now = await apiJson<J>(h, 'GET', '/images/busybox/json');
    assert.ok(!('Container' in now) && !('VirtualSize' in now), '1.44 dropped VirtualSize, 1.45 Container');
    assert.ok('ContainerConfig' in now, 'ContainerConfig is kept in every version: docker-compose 1.x reads it on recreate');
    assert.ok(!('Hostname' in (now.Config as J)), '1.50 dropped the container fields of an image config');
  });

  it('the API version: 1.51 advertised, the CLI negotiates, a client pinned to 1.41 still works, versions outside the range are refused', async () => {
    assert.match(await dockerOk(h, ['version']), /Server:[\s\S]*API version:\s+1\.51 \(minimum version 1\.24\)[\s\S]*Git commit:\s+ctrnet/);
    assert.equal((await api(h, 'HEAD', '/_ping')).headers['api-version'], '1.51');
    assert.equal(await dockerOk(h, ['run', '--rm', 'busybox', 'echo', 'pinned'], { env: { DOCKER_API_VERSION: '1.41' } }), 'pinned\n');
    assert.equal(await dockerOk(h, ['run', '--rm', 'busybox', 'echo', 'newest']), 'newest\n');
    assert.deepEqual([(await api(h, 'GET', '/v1.52/version')).status, (await api(h, 'GET', '/v1.52/version')).json], [400, { message: 'client version 1.52 is too new. Maximum supported API version is 1.51' }]);
    assert.match((await api(h, 'GET', '/v1.23/version')).body, /client version 1\.23 is too old\. Minimum supported API version is 1\.24/);
    // A hijacked stream says what it carries from 1.42 on (the CLI reads it), raw-stream before.
    const id = (await apiJson<J>(h, 'POST', '/containers/create', { Image: 'busybox', Cmd: ['sleep', '30'] })).Id as string;
    await apiJson(h, 'POST', `/containers/${id}/start`);
    for (const [v, type] of [['1.41', 'application/vnd.docker.raw-stream'], ['1.51', 'application/vnd.docker.multiplexed-stream']]) {
      const x = (await apiJson<J>(h, 'POST', `/v${v}/containers/${id}/exec`, { Cmd: ['echo', 'x'], AttachStdout: true })).Id as string;
      const { sock, head, rest } = await hijack(h, `/v${v}/exec/${x}/start`, JSON.stringify({ Detach: false, Tty: false }));
      assert.match(head, new RegExp(`Content-Type: ${type.replace(/\./g, '\\.')}`), v);
      await readAll(sock, rest);
    }
    // Two networks at create: refused before 1.44 (Docker's words), honoured since, the default
    // route on the endpoint with the highest GwPriority (1.48).
    await dockerOk(h, ['network', 'create', '--subnet', '10.231.0.0/24', 'gw-a']);
    await dockerOk(h, ['network', 'create', '--subnet', '10.232.0.0/24', 'gw-b']);
    const body = { Image: 'busybox', Cmd: ['sleep', '30'], HostConfig: { NetworkMode: 'gw-a' }, NetworkingConfig: { EndpointsConfig: { 'gw-a': {}, 'gw-b': { GwPriority: 10 } } } };
    const old = await api(h, 'POST', '/v1.41/containers/create', body);
    assert.equal(old.status, 400);
    assert.match(old.body, /Container cannot be connected to network endpoints: gw-a, gw-b/);
    const two = (await apiJson<J>(h, 'POST', '/v1.51/containers/create?name=twonets', body)).Id as string;
    await apiJson(h, 'POST', `/containers/${two}/start`);
    assert.match(await dockerOk(h, ['exec', two, 'ip', 'route']), /^default via 10\.232\.0\.1 dev eth1/m);
    const nets = ((await apiJson<J>(h, 'GET', `/containers/${two}/json`)).NetworkSettings as J).Networks as Record<string, J>;
    assert.deepEqual(Object.keys(nets).sort(), ['gw-a', 'gw-b']);
    // 1.44 DNSNames; the short id is an alias only for clients older than 1.45.
    assert.deepEqual(nets['gw-a'].DNSNames, ['twonets', two.slice(0, 12)]);
    assert.equal(nets['gw-a'].Aliases, null);
    const at141 = ((await apiJson<J>(h, 'GET', `/v1.41/containers/${two}/json`)).NetworkSettings as J).Networks as Record<string, J>;
    assert.deepEqual(at141['gw-a'].Aliases, [two.slice(0, 12)]);
    assert.ok(!('DNSNames' in at141['gw-a']));
    await dockerOk(h, ['rm', '-f', id, two]);
    await dockerOk(h, ['network', 'rm', 'gw-a', 'gw-b']);
  });

  it('duplicate network names as Docker 20.10 has them: API < 1.44 without CheckDuplicate makes a second network; a shared name is ambiguous, ids work, both carry packets and survive a restart', async () => {
    const create = (v: string, body: J) => api(h, 'POST', `/v${v}/networks/create`, { Name: 'dupnet', ...body });
    const first = await create('1.41', {});
    // A container that joined by the name while it was unique keeps that network after it is shared.
    await dockerOk(h, ['run', '-d', '--name', 'dup0', '--network', 'dupnet', 'busybox', 'sleep', '600']);
    const second = await create('1.41', { CheckDuplicate: false });
    assert.deepEqual([first.status, second.status], [201, 201], `${first.body} ${second.body}`);
    const [id1, id2] = [(first.json as J).Id as string, (second.json as J).Id as string];
    assert.notEqual(id1, id2);
    // Docker's words first (the hint follows in parentheses, as on every ctrnet error).
    for (const [v, body] of [['1.41', { CheckDuplicate: true }], ['1.44', {}], ['1.51', { CheckDuplicate: false }]] as const) {
      const r = await create(v, body);
      assert.equal(r.status, 409, `v${v} ${JSON.stringify(body)}`);
      assert.match((r.json as J).message as string, /^network with name dupnet already exists\b/);
    }
    const cli = await docker(h, ['network', 'create', 'dupnet']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /Error response from daemon: network with name dupnet already exists/);
    const cli41 = await docker(h, ['network', 'create', 'dupnet'], { env: { DOCKER_API_VERSION: '1.41' } });
    assert.match(cli41.stderr, /network with name dupnet already exists/, 'the CLI sends CheckDuplicate at 1.41 too');
    // Listed, and found by a name filter, both; by the shared name: Docker's ambiguity, 400.
    const both = [id1, id2].sort();
    assert.deepEqual(lines(await dockerOk(h, ['network', 'ls', '-q', '--no-trunc', '--filter', 'name=dupnet'])).sort(), both);
    assert.deepEqual((await apiJson<J[]>(h, 'GET', '/v1.41/networks')).filter((n) => n.Name === 'dupnet').map((n) => n.Id).sort(), both);
    for (const [m, p] of [['GET', '/v1.41/networks/dupnet'], ['DELETE', '/v1.41/networks/dupnet'], ['GET', '/networks/dupnet']]) {
      const r = await api(h, m, p);
      assert.equal(r.status, 400, `${m} ${p}`);
      assert.match((r.json as J).message as string, /^network dupnet is ambiguous \(2 matches found on name\)/, `${m} ${p}`);
    }
    assert.match((await docker(h, ['network', 'inspect', 'dupnet'])).stderr, /network dupnet is ambiguous \(2 matches found on name\)/);
    const byId = await Promise.all([id1, id2].map((id) => apiJson<J>(h, 'GET', `/v1.41/networks/${id}`)));
    assert.deepEqual(byId.map((n) => [n.Id, n.Name]), [[id1, 'dupnet'], [id2, 'dupnet']]);
    // Bridges are named after ids: both exist, on their own subnets.
    const subnets = byId.map((n) => ((n.IPAM as J).Config as J[])[0].Subnet as string);
    assert.notEqual(subnets[0], subnets[1]);
    const links = await h.run(['ip', '-o', 'link', 'show']);
    for (const id of [id1, id2]) assert.match(links, new RegExp(`br-${id.slice(0, 12)}`));
    // Two containers on each network (by id), packets between them on each.
    const run = async (name: string, net: string) => {
      const c = (await apiJson<J>(h, 'POST', `/v1.41/containers/create?name=${name}`, { Image: 'busybox', Cmd: ['sleep', '600'], HostConfig: { NetworkMode: net } })).Id as string;
      await apiJson(h, 'POST', `/v1.41/containers/${c}/start`);
      const nets = ((await apiJson<J>(h, 'GET', `/v1.41/containers/${c}/json`)).NetworkSettings as J).Networks as Record<string, J>;
      const [only] = Object.values(nets);
      assert.equal(only.NetworkID, net, name);
      return only.IPAddress as string;
    };
    const pings = async () => {
      for (const [from, to] of [['dup1a', ip1b], ['dup2a', ip2b], ['dup0', ip1b]]) assert.match(await dockerOk(h, ['exec', from, 'ping', '-c', '1', '-W', '2', to]), / 0% packet loss/, `${from} → ${to}`);
    };
    await run('dup1a', id1);
    const ip1b = await run('dup1b', id1);
    await run('dup2a', id2);
    const ip2b = await run('dup2b', id2);
    await pings();
    // A container's networks are keyed by name: a second network of that name is refused, with the fix.
    const twice = await api(h, 'POST', `/v1.41/networks/${id2}/connect`, { Container: 'dup1a' });
    assert.equal(twice.status, 400);
    assert.match((twice.json as J).message as string, /cannot be connected to two networks named dupnet/);
    // The restarted daemon restores both networks and the containers on them.
    await h.stopDaemon();
    await h.startDaemon();
    assert.deepEqual(lines(await dockerOk(h, ['network', 'ls', '-q', '--no-trunc', '--filter', 'name=dupnet'])).sort(), both);
    await pings();
    assert.equal(await dockerOk(h, ['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.NetworkID}}{{end}}', 'dup0']), `${id1}\n`);
    await dockerOk(h, ['rm', '-f', 'dup0', 'dup1a', 'dup1b', 'dup2a', 'dup2b']);
    for (const id of [id1, id2]) assert.equal((await api(h, 'DELETE', `/v1.41/networks/${id}`)).status, 204);
    assert.doesNotMatch(await h.run(['ip', '-o', 'link', 'show']), new RegExp(`br-(${id1.slice(0, 12)}|${id2.slice(0, 12)})`));
  });
});

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

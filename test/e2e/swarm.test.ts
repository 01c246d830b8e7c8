/**
 * A one-node swarm, as Docker users' network workflows drive it with the docker CLI: `swarm init`,
 * `info`, the ingress network, attachable swarm-scoped overlay networks that `docker run`
 * containers reach each other on by name, `?scope=` lookups, leaving (refused without --force,
 * Docker's words), a second init refused, the swarm surviving a daemon restart, and no services.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LabHost } from '../../scripts/lab';
import { assertNoLeftovers, dockerOn } from './_util';
import { api, apiJson } from './_docker';

let h: LabHost;
const { docker, ok } = dockerOn(() => h, { timeoutMs: 30_000 });
type J = Record<string, any>;

before(async () => {
  h = await LabHost.create('swarm');
  await h.startDaemon();
});

after(async () => {
  await h?.destroy();
  assertNoLeftovers([h].filter(Boolean));
});

describe('a one-node swarm', () => {
  it('overlay networks need a swarm first: without one, create keeps its NO_CLUSTER_STORE refusal, naming swarm init', async () => {
    const r = await docker(['network', 'create', '-d', 'overlay', 'early']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /overlay networks need a cluster store.*docker swarm init/);
    assert.match(await ok(['info', '--format', '{{.Swarm.LocalNodeState}}']), /^inactive/);
  });

  it('swarm init answers the node id; info, GET /swarm and the node list show this engine as the one manager; a second init is refused', async () => {
    const out = await ok(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    const nodeId = /current node \(([0-9a-z]{25})\) is now a manager/.exec(out)?.[1];
    assert.ok(nodeId, out);
    assert.match(out, /docker swarm join --token SWMTKN-1-\S+ 127\.0\.0\.1:2377/);
    const info = (await apiJson(h, 'GET', '/v1.41/info')).Swarm as J;
    assert.deepEqual([info.LocalNodeState, info.NodeID, info.NodeAddr, info.ControlAvailable, info.Nodes, info.Managers], ['active', nodeId, '127.0.0.1', true, 1, 1]);
    assert.equal(info.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit, 5);
    assert.match(await ok(['info']), /Swarm: active\n\s+NodeID: [0-9a-z]{25}\n\s+Is Manager: true/);
    const sw = await apiJson<J>(h, 'GET', '/v1.41/swarm');
    assert.deepEqual([sw.DataPathPort, sw.SubnetSize, sw.DefaultAddrPool, sw.Spec.Raft.ElectionTick], [4789, 24, ['10.0.0.0/8'], 10]);
    assert.match(sw.JoinTokens.Worker, /^SWMTKN-1-/);
    assert.match(await ok(['node', 'ls']), new RegExp(`${nodeId} \\*\\s+\\S+\\s+Ready\\s+Active\\s+Leader`));
    assert.equal((await api(h, 'HEAD', '/_ping')).headers.swarm, 'active/manager');

    const again = await api(h, 'POST', '/v1.41/swarm/init', { AdvertiseAddr: '127.0.0.1', ListenAddr: '0.0.0.0:2377' });
    assert.deepEqual([again.status, (again.json as J).message], [503, 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.']);
  });

  it('init made the ingress network (overlay, swarm scope, 10.0.0.0/24); it is removable, and a second ingress network is refused', async () => {
    const ing = await apiJson<J>(h, 'GET', '/v1.41/networks/ingress');
    assert.deepEqual([ing.Driver, ing.Scope, ing.Ingress, ing.IPAM.Config[0].Subnet, ing.IPAM.Config[0].Gateway], ['overlay', 'swarm', true, '10.0.0.0/24', '10.0.0.1']);
    const second = await api(h, 'POST', '/v1.41/networks/create', { Name: 'ingress2', Driver: 'overlay', Ingress: true });
    assert.equal(second.status, 409);
    assert.match((second.json as J).message, /ingress network ingress .* is already present/);
    assert.equal((await api(h, 'DELETE', '/v1.41/networks/ingress')).status, 204);
    assert.equal((await api(h, 'GET', '/v1.41/networks/ingress')).status, 404);
    const made = await api(h, 'POST', '/v1.41/networks/create', { Name: 'ingress2', Driver: 'overlay', Ingress: true });
    assert.equal(made.status, 201, made.body);
    assert.equal((await apiJson<J>(h, 'GET', '/v1.41/networks/ingress2')).Ingress, true);
  });

  it('an attachable overlay network is swarm-scoped; ?scope= finds a network only in its own scope', async () => {
    await ok(['network', 'create', '-d', 'overlay', '--attachable', 'mesh']);
    const n = JSON.parse(await ok(['network', 'inspect', 'mesh']))[0];
    assert.deepEqual([n.Driver, n.Scope, n.Attachable, n.Ingress], ['overlay', 'swarm', true, false]);
    await ok(['network', 'create', 'plain']);
    assert.equal((await apiJson<J>(h, 'GET', '/v1.41/networks/plain?scope=local')).Scope, 'local');
    for (const [name, wrong] of [['plain', 'swarm'], ['plain', 'global'], ['mesh', 'local']]) {
      const r = await api(h, 'GET', `/v1.41/networks/${name}?scope=${wrong}&verbose=true`);
      assert.deepEqual([r.status, (r.json as J).message], [404, `network ${name} not found`], `${name} ?scope=${wrong}`);
    }
    assert.equal((await apiJson<J>(h, 'GET', '/v1.41/networks/mesh?scope=swarm&verbose=true')).Name, 'mesh');
    const wrongScope = await api(h, 'POST', '/v1.41/networks/create', { Name: 'badscope', Driver: 'bridge', Scope: 'swarm' });
    assert.equal(wrongScope.status, 400);
    assert.match(await ok(['network', 'ls', '--filter', 'scope=swarm', '--format', '{{.Name}}']), /^(ingress2\nmesh|mesh\ningress2)\n$/);
  });

  it('two containers on the attachable overlay reach each other by name', async () => {
    await ok(['run', '-d', '--name', 'a1', '--network', 'mesh', 'busybox', 'sleep', '300']);
    await ok(['run', '-d', '--name', 'a2', '--network', 'mesh', 'busybox', 'sleep', '300']);
    const ip = (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.mesh.IPAddress}}', 'a2'])).trim();
    assert.match(ip, /^10\.0\.\d+\.\d+$/);
    assert.match(await ok(['exec', 'a1', 'ping', '-c', '1', '-W', '2', 'a2']), new RegExp(`1 packets received`));
    assert.match(await ok(['exec', 'a2', 'nslookup', 'a1', '127.0.0.11']), /Address: 10\.0\./);
  });

  it('services, tasks, secrets and configs: none listed, creation refused clearly; joining is refused naming --cluster-store', async () => {
    for (const k of ['services', 'tasks', 'secrets', 'configs']) assert.deepEqual(await apiJson(h, 'GET', `/v1.41/${k}`), [], k);
    assert.equal((await ok(['service', 'ls', '-q'])).trim(), '');
    const svc = await docker(['service', 'create', '--name', 'web', 'busybox', 'sleep', '1']);
    assert.notEqual(svc.code, 0);
    assert.match(svc.stderr, /ctrnet runs no services/);
    assert.match((await docker(['swarm', 'join', '--token', 'SWMTKN-1-x', '10.9.9.9:2377'])).stderr, /already part of a swarm/);
  });

  it('the swarm, its networks and their containers survive a daemon restart', async () => {
    const before = await apiJson<J>(h, 'GET', '/v1.41/swarm');
    await h.stopDaemon();
    await h.startDaemon();
    const after = await apiJson<J>(h, 'GET', '/v1.41/swarm');
    assert.deepEqual([after.ID, after.JoinTokens], [before.ID, before.JoinTokens]);
    assert.equal((await apiJson<J>(h, 'GET', '/v1.41/info')).Swarm.LocalNodeState, 'active');
    assert.equal((await apiJson<J>(h, 'GET', '/v1.41/networks/mesh')).Attachable, true);
    assert.match(await ok(['exec', 'a1', 'ping', '-c', '1', '-W', '2', 'a2']), /1 packets received/);
    // A third container after the restart gets a fresh address, not one of the two running.
    await ok(['run', '-d', '--name', 'a3', '--network', 'mesh', 'busybox', 'sleep', '300']);
    const ips = await Promise.all(['a1', 'a2', 'a3'].map(async (c) => (await ok(['inspect', '-f', '{{.NetworkSettings.Networks.mesh.IPAddress}}', c])).trim()));
    assert.equal(new Set(ips).size, 3, ips.join(' '));
    assert.match(await ok(['exec', 'a3', 'ping', '-c', '1', '-W', '2', 'a1']), /1 packets received/);
  });

  it('leave is refused without --force (Docker\'s words), and with containers attached; leave --force removes the swarm networks', async () => {
    const plain = await docker(['swarm', 'leave']);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr, /You are attempting to leave the swarm on a node that is participating as a manager\. Removing the last manager erases all current state of the swarm\. Use `--force` to ignore this message\./);
    const busy = await docker(['swarm', 'leave', '--force']);
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /cannot leave the swarm: its network mesh has active endpoints \((a\d, ){2}a\d\)/);
    assert.equal((await apiJson<J>(h, 'GET', '/v1.41/info')).Swarm.LocalNodeState, 'active', 'nothing was undone');
    await ok(['rm', '-f', 'a1', 'a2', 'a3']);
    assert.match(await ok(['swarm', 'leave', '--force']), /Node left the swarm/);
    assert.equal((await apiJson<J>(h, 'GET', '/v1.41/info')).Swarm.LocalNodeState, 'inactive');
    const names = (await ok(['network', 'ls', '--format', '{{.Name}}'])).trim().split('\n').sort();
    // The overlay's way out stays, as Docker keeps docker_gwbridge.
    assert.deepEqual(names, ['bridge', 'ctrnet_gwbridge', 'host', 'none', 'plain']);
    const links = await h.run(['ip', '-o', 'link', 'show']);
    assert.doesNotMatch(links, /\b(ov|vx)-/, 'the overlay devices are gone');
    assert.equal((await api(h, 'GET', '/v1.41/swarm')).status, 503);
    assert.equal((await api(h, 'POST', '/v1.41/swarm/leave?force=1')).status, 503);
    await ok(['network', 'rm', 'plain']);
  });
});

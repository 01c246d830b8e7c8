/** ctrnet-cni's logic (cni/plugin.ts): the spec's environment and stdin in, the request to ctrnetd and the answer out, against a fake daemon. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AttachResult } from '../../src/base/attachment';
import { Answer, Call, Unreachable } from '../../src/cni/client';
import { parseCniArgs, runPlugin, toCniResult } from '../../src/cni/plugin';

interface Seen {
  method: string;
  path: string;
  body: unknown;
}

const RESULT: AttachResult = {
  id: 'a1', network: 'web',
  interfaces: [{ name: 'vethabc', mac: '' }, { name: 'eth0', mac: '02:42:0a:4d:00:02', sandbox: '/run/netns/x' }],
  ips: [{ address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 1 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }], nameservers: ['10.77.0.1'], ports: [],
};

/** A daemon that records the calls and answers `answer` (or is unreachable). */
function daemon(answer: (s: Seen) => Answer | 'down'): { seen: Seen[]; connect: (socket: string) => Call } {
  const seen: Seen[] = [];
  return {
    seen,
    connect: (socket) => async (method, path, body) => {
      const s = { method, path, body };
      seen.push(s);
      const a = answer(s);
      if (a === 'down') throw new Unreachable(socket.replace('unix://', ''), new Error('connect ENOENT'));
      return a;
    },
  };
}

const conf = (extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.0.0', name: 'ctr', type: 'ctrnet-cni', network: 'web', ...extra });
const env = (cmd: string, extra: Record<string, string> = {}) => ({ CNI_COMMAND: cmd, CNI_CONTAINERID: 'cid1', CNI_NETNS: '/run/netns/x', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin', ...extra });
const parse = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

test('runPlugin() ADD sends the capabilities, CNI_ARGS and the key to ctrnetd, and answers the spec result in the configuration\'s version', async () => {
  const d = daemon(() => ({ status: 201, body: RESULT }));
  const stdin = conf({
    runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }, { hostPort: 53, containerPort: 53, protocol: 'udp', hostIP: '127.0.0.1' }], ips: ['10.77.0.9/24'], mac: '02:00:00:00:00:09', aliases: { ctr: ['web1'], other: ['no'] } },
  });
  const out = await runPlugin({ env: env('ADD', { CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAME=pod1;IP=10.77.0.5' }), stdin }, d.connect);
  assert.equal(out.code, 0, out.stdout);
  assert.deepEqual(d.seen, [{
    method: 'POST', path: '/ctrnet/attachments',
    body: {
      kind: 'cni', ref: 'cid1', scope: 'ctr', ifName: 'eth0', network: 'web', netns: '/run/netns/x', name: 'pod1', aliases: ['web1'], ip: '10.77.0.9', mac: '02:00:00:00:00:09',
      ports: [{ proto: 'tcp', hostPort: 8080, containerPort: 80, hostIp: '' }, { proto: 'udp', hostPort: 53, containerPort: 53, hostIp: '127.0.0.1' }],
    },
  }]);
  assert.deepEqual(parse(out.stdout), {
    cniVersion: '1.0.0',
    interfaces: [{ name: 'vethabc' }, { name: 'eth0', mac: '02:42:0a:4d:00:02', sandbox: '/run/netns/x' }],
    ips: [{ address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 1 }],
    routes: [{ dst: '0.0.0.0/0', gw: '10.77.0.1' }],
    dns: { nameservers: ['10.77.0.1'] },
  });
});

test('toCniResult() appends to a prevResult: interface indexes shifted, routes and name servers kept', () => {
  const prev = { cniVersion: '1.1.0', interfaces: [{ name: 'lo0' }, { name: 'x', sandbox: '/n' }], ips: [{ address: '192.0.2.2/24', interface: 1 }], routes: [{ dst: '192.0.2.0/24' }], dns: { nameservers: ['192.0.2.53'], search: ['lab'] } };
  const r = toCniResult('1.1.0', RESULT, prev);
  assert.deepEqual(r.interfaces!.map((i) => i.name), ['lo0', 'x', 'vethabc', 'eth0']);
  assert.deepEqual(r.ips, [{ address: '192.0.2.2/24', interface: 1 }, { address: '10.77.0.2/24', gateway: '10.77.0.1', interface: 3 }]);
  assert.deepEqual(r.routes, [{ dst: '192.0.2.0/24' }, { dst: '0.0.0.0/0', gw: '10.77.0.1' }]);
  assert.deepEqual(r.dns, { nameservers: ['10.77.0.1', '192.0.2.53'], search: ['lab'] });
  // The dns capability: the runtime's servers after ctrnet's resolver, its search domains and options passed on.
  const asked = toCniResult('1.1.0', RESULT, undefined, { servers: ['192.0.2.9'], searches: ['corp'], options: ['ndots:1'] });
  assert.deepEqual(asked.dns, { nameservers: ['10.77.0.1', '192.0.2.9'], search: ['corp'], options: ['ndots:1'] });
});

test('runPlugin() DEL is best effort: no CNI_NETNS and no prevResult still detach by the key', async () => {
  const d = daemon(() => ({ status: 200, body: { removed: false } }));
  const out = await runPlugin({ env: { ...env('DEL'), CNI_NETNS: '' }, stdin: conf() }, d.connect);
  assert.deepEqual(out, { stdout: '', code: 0 });
  assert.deepEqual(d.seen[0].body, { kind: 'cni', ref: 'cid1', scope: 'ctr', ifName: 'eth0' });
});

test('runPlugin() STATUS: code 50 when ctrnetd does not answer, success when it has the network; ADD: 11 (try again) when it does not answer', async () => {
  const down = daemon(() => 'down');
  const st = parse((await runPlugin({ env: { CNI_COMMAND: 'STATUS' }, stdin: conf({ cniVersion: '1.1.0' }) }, down.connect)).stdout);
  assert.equal(st.code, 50);
  assert.match(String(st.msg), /ctrnetd does not answer on \/run\/ctrnet\/ctrnet\.sock/);
  assert.match(String(st.details), /start ctrnetd/);
  const up = daemon(() => ({ status: 200, body: {} }));
  assert.deepEqual(await runPlugin({ env: { CNI_COMMAND: 'STATUS' }, stdin: conf({ cniVersion: '1.1.0' }) }, up.connect), { stdout: '', code: 0 });
  assert.deepEqual(up.seen[0], { method: 'GET', path: '/networks/web', body: undefined });
  const none = daemon(() => ({ status: 404, body: { message: 'network web not found' } }));
  assert.equal(parse((await runPlugin({ env: { CNI_COMMAND: 'STATUS' }, stdin: conf({ cniVersion: '1.1.0' }) }, none.connect)).stdout).code, 50);
  assert.equal(parse((await runPlugin({ env: env('ADD'), stdin: conf() }, down.connect)).stdout).code, 11);
});

test('runPlugin() GC sends cni.dev/valid-attachments as the valid list of the configuration', async () => {
  const d = daemon(() => ({ status: 200, body: { removed: [] } }));
  const out = await runPlugin({ env: { CNI_COMMAND: 'GC' }, stdin: conf({ cniVersion: '1.1.0', 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] }) }, d.connect);
  assert.equal(out.code, 0, out.stdout);
  assert.deepEqual(d.seen[0], { method: 'POST', path: '/ctrnet/attachments/gc', body: { kind: 'cni', scope: 'ctr', valid: [{ ref: 'c1', ifName: 'eth0' }] } });
});

test('runPlugin() CHECK compares the prevResult with the record', async () => {
  const d = daemon(() => ({ status: 200, body: RESULT }));
  const good = toCniResult('1.0.0', RESULT);
  assert.equal((await runPlugin({ env: env('CHECK'), stdin: conf({ prevResult: good }) }, d.connect)).code, 0);
  const stale = { ...good, ips: [{ address: '10.77.0.99/24', interface: 1 }] };
  const bad = parse((await runPlugin({ env: env('CHECK'), stdin: conf({ prevResult: stale }) }, d.connect)).stdout);
  assert.match(String(bad.msg), /prevResult lacks 10\.77\.0\.2\/24/);
  assert.equal(parse((await runPlugin({ env: env('CHECK'), stdin: conf() }, d.connect)).stdout).code, 7);
});

test('runPlugin() errors: the spec codes and messages that name the fix', async () => {
  const d = daemon(() => ({ status: 404, body: { message: 'network web not found (list networks with `ctrnet network ls`)' } }));
  const cases: [Record<string, string>, string, number, RegExp][] = [
    [env('ADD'), 'not json', 6, /not JSON/],
    [env('ADD'), conf({ cniVersion: '0.3.1' }), 1, /0\.3\.1 is not supported/],
    [env('ADD'), JSON.stringify({ cniVersion: '1.0.0', name: 'ctr', type: 'ctrnet-cni' }), 7, /has no "network"/],
    [env('ADD'), conf({ socket: 'tcp://x' }), 7, /not a unix socket/],
    [{ ...env('ADD'), CNI_NETNS: '' }, conf(), 4, /CNI_NETNS is not set/],
    [env('ADD', { CNI_ARGS: 'junk' }), conf(), 4, /CNI_ARGS has "junk"/],
    [env('ADD'), conf(), 7, /network web not found.*ctrnet network ls/],
    [env('BOGUS'), conf(), 4, /unknown CNI_COMMAND/],
    [{ CNI_COMMAND: 'GC' }, conf(), 1, /GC needs CNI version 1\.1\.0/],
  ];
  for (const [e, stdin, code, msg] of cases) {
    const out = await runPlugin({ env: e, stdin }, d.connect);
    assert.equal(out.code, 1);
    const j = parse(out.stdout);
    assert.equal(j.code, code, `${stdin}: ${out.stdout}`);
    assert.match(`${j.msg}`, msg);
  }
});

test('runPlugin() VERSION answers 1.0.0 and 1.1.0 without a daemon', async () => {
  const out = await runPlugin({ env: { CNI_COMMAND: 'VERSION' }, stdin: '{"cniVersion":"1.0.0"}' }, () => assert.fail('no daemon call'));
  assert.deepEqual(parse(out.stdout), { cniVersion: '1.0.0', supportedVersions: ['1.0.0', '1.1.0'] });
});

test('parseCniArgs() reads K=V;K=V (values may hold "=")', () => {
  assert.deepEqual(parseCniArgs('IgnoreUnknown=1;K8S_POD_NAME=web;X=a=b'), { IgnoreUnknown: '1', K8S_POD_NAME: 'web', X: 'a=b' });
  assert.deepEqual(parseCniArgs(undefined), {});
});

/**
 * The API under generated input: 10,000 requests with odd paths, query strings, bodies (wrong
 * types, truncated JSON, huge and unicode names, shell metacharacters). None may crash the daemon,
 * hang, or answer 500; every error answer must carry a message. Afterwards the daemon works and
 * nothing is left behind.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LabHost } from '../../scripts/lab';
import { api } from './_docker';
import { assertNoLeftovers, snapshot } from './_util';

let a: LabHost;

before(async () => {
  a = await LabHost.create('fz');
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  assertNoLeftovers([a].filter(Boolean));
});

const weird = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('a;rm -rf /', '$(reboot)', '`id`', '../../etc/passwd', '%00', '..', 'web', 'bridge', 'host', 'none', 'busybox', 'x'.repeat(5000), 'ü名字', ' ', ''),
);
const segment = weird.map((s) => encodeURIComponent(s));
const paths = fc.oneof(
  fc.tuple(fc.constantFrom('/containers/', '/networks/', '/images/', '/exec/', '/v1.41/containers/', '/v1.41/networks/'), segment, fc.constantFrom('', '/json', '/start', '/stop', '/kill', '/logs', '/exec', '/connect', '/disconnect', '/rename', '/resize', '/tag', '/attach')).map(([p, s, t]) => p + s + t),
  fc.constantFrom('/containers/create', '/networks/create', '/containers/json', '/networks', '/images/json', '/_ping', '/version', '/info', '/networks/prune'),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
);
const query = fc.array(fc.tuple(fc.constantFrom('name', 'all', 'filters', 't', 'signal', 'force', 'tail', 'follow', 'condition', 'h', 'w', 'repo', 'tag', 'fromSrc', 'fromImage'), weird), { maxLength: 3 })
  .map((kv) => (kv.length ? '?' + kv.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&') : ''));
const dockerish = fc.record(
  {
    Image: fc.oneof(weird, fc.integer(), fc.constant(null)),
    Cmd: fc.oneof(fc.array(weird, { maxLength: 3 }), weird, fc.integer()),
    Name: weird,
    Driver: fc.oneof(fc.constantFrom('bridge', 'overlay', 'macvlan'), weird, fc.integer()),
    HostConfig: fc.oneof(
      fc.record({ NetworkMode: fc.oneof(weird, fc.constantFrom('host', 'none', 'container:x', 'default')), PortBindings: fc.oneof(fc.dictionary(weird, fc.oneof(fc.constant(null), fc.array(fc.record({ HostIp: weird, HostPort: weird }, { requiredKeys: [] })))), weird), Dns: fc.oneof(fc.array(weird), weird) }, { requiredKeys: [] }),
      weird,
    ),
    IPAM: fc.oneof(fc.record({ Config: fc.array(fc.record({ Subnet: weird, Gateway: weird, IPRange: weird }, { requiredKeys: [] }), { maxLength: 2 }) }, { requiredKeys: [] }), weird),
    Options: fc.oneof(fc.dictionary(weird, weird), fc.integer()),
    Labels: fc.oneof(fc.dictionary(weird, fc.oneof(weird, fc.integer())), weird),
    Container: weird,
    EndpointConfig: fc.anything(),
    Tty: fc.anything(),
  },
  { requiredKeys: [] },
);
const bodies = fc.oneof(
  fc.constant(undefined),
  dockerish.map((o) => JSON.stringify(o)),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.tuple(dockerish, fc.nat()).map(([o, n]) => { const s = JSON.stringify(o); return s.slice(0, n % Math.max(1, s.length)); }),
  fc.string({ maxLength: 50 }),
);

describe('API fuzzing', () => {
  it('10,000 generated requests: no 500, no hang, messages on errors; the daemon still works and nothing leaks', async () => {
    const base = await snapshot(a);
    const statuses = new Map<number, number>();
    let count = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('GET', 'POST', 'DELETE', 'HEAD', 'PUT'), paths, query, bodies, async (method, path, q, body) => {
        const r = await api(a, method, path + q, method === 'GET' || method === 'HEAD' ? undefined : body, {}, 5000);
        count++;
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.ok(r.status < 500 || r.status === 501 || r.status === 503, `${method} ${path}${q} ${body ?? ''} → ${r.status} ${r.body}`);
        if (r.status >= 400 && method !== 'HEAD') assert.match(r.body, /"message":"[^"]+/, `${method} ${path}${q} → ${r.status} without a message`);
      }),
      { numRuns: 10_000, seed: 20261129, endOnFailure: true },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n--- cause: ${String((e as Error & { cause?: unknown }).cause)}\n--- daemon log (tail) ---\n${a.log.slice(-3000)}`);
    });
    console.log(`# fuzz: ${count} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    assert.equal(count, 10_000);
    // The daemon still serves, and everything the fuzzing made can be removed again.
    assert.match(await a.ctl(['run', '--rm', 'busybox', 'echo', 'alive']), /alive/);
    const ids = (await a.ctl(['ps', '-aq'])).split('\n').filter(Boolean);
    if (ids.length) await a.ctl(['rm', '-f', ...ids]);
    await a.ctl(['network', 'prune']);
    const now = await snapshot(a);
    assert.deepEqual({ ...now, containers: [] }, { ...base, containers: [] });
  });
});

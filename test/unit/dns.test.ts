import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAnswer, parseQuery, RCODE_SERVFAIL, reverseName, TYPE_A, TYPE_PTR } from '../../src/dns/message';
import { Resolver, upstreamsFrom } from '../../src/dns/resolver';
import { FakeKernel } from '../../src/kernel/fake-kernel';

/** A query as a stub resolver sends it: id, RD, one question. */
function query(name: string, type: number, id = 0x1234): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const header = Buffer.from([id >> 8, id & 255, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, type, 0, 1])]);
}

test('parseQuery() reads id, RD, a lower-cased name and the type', () => {
  const q = parseQuery(query('Web.Example', TYPE_A))!;
  assert.deepEqual([q.id, q.rd, q.name, q.type, q.qclass], [0x1234, true, 'web.example', TYPE_A, 1]);
  assert.equal(parseQuery(Buffer.from([1, 2, 3])), undefined);
});

test('buildAnswer() writes A records after the echoed question, with QR, AA and RA set', () => {
  const q = parseQuery(query('web', TYPE_A))!;
  const a = buildAnswer(q, [{ type: TYPE_A, data: '172.18.0.2' }, { type: TYPE_A, data: '172.18.0.3' }]);
  assert.equal(a.readUInt16BE(0), 0x1234);
  assert.equal(a.readUInt16BE(2) & 0x8000, 0x8000);
  assert.equal(a.readUInt16BE(2) & 0x000f, 0);
  assert.equal(a.readUInt16BE(6), 2);
  assert.deepEqual([...a.subarray(a.length - 4)], [172, 18, 0, 3]);
});

test('buildAnswer() with SERVFAIL has no records', () => {
  const q = parseQuery(query('x', TYPE_A))!;
  const a = buildAnswer(q, [{ type: TYPE_A, data: '1.2.3.4' }], RCODE_SERVFAIL);
  assert.equal(a.readUInt16BE(2) & 0xf, RCODE_SERVFAIL);
  assert.equal(a.readUInt16BE(6), 0);
});

test('reverseName() turns in-addr.arpa names into addresses', () => {
  assert.equal(reverseName('2.0.18.172.in-addr.arpa'), '172.18.0.2');
  assert.equal(reverseName('example.com'), undefined);
});

test('Resolver.answer() answers the names the asking container may see, PTR, and SERVFAIL without upstreams', async () => {
  const r = new Resolver(
    new FakeKernel(),
    {
      lookup: (asker: string, name: string) => (asker === 'c1' && name === 'web' ? ['172.18.0.2'] : []),
      reverse: (asker: string, ip: string) => (asker === 'c1' && ip === '172.18.0.2' ? 'web' : undefined),
    },
    () => [],
  );
  const a = (await r.answer('c1', query('web', TYPE_A)))!;
  assert.equal(a.readUInt16BE(6), 1);
  assert.deepEqual([...a.subarray(a.length - 4)], [172, 18, 0, 2]);
  const other = (await r.answer('c2', query('web', TYPE_A)))!;
  assert.equal(other.readUInt16BE(2) & 0xf, RCODE_SERVFAIL, 'a container on other networks does not see the name');
  const ptr = (await r.answer('c1', query('2.0.18.172.in-addr.arpa', TYPE_PTR)))!;
  assert.match(ptr.toString('latin1'), /\x03web\x00$/);
});

test('Resolver.answer() gives several addresses of one name in turn (round robin)', async () => {
  const ips = ['172.18.0.2', '172.18.0.3', '172.18.0.4'];
  const r = new Resolver(new FakeKernel(), { lookup: (_a: string, n: string) => (n === 'worker' ? ips : []), reverse: () => undefined }, () => []);
  const first: string[] = [];
  for (let i = 0; i < 3; i++) {
    const a = (await r.answer('c1', query('worker', TYPE_A)))!;
    assert.equal(a.readUInt16BE(6), 3, 'every address, every time');
    const at = a.length - 3 * 16; // three A records of 16 bytes each end the answer
    first.push([...a.subarray(at + 12, at + 16)].join('.'));
  }
  assert.deepEqual(first, ips);
});

test('upstreamsFrom() reads IPv4 and IPv6 name servers from resolv.conf, not one with a zone', () => {
  assert.deepEqual(upstreamsFrom('search x\nnameserver 10.0.0.2\nnameserver ::1\nnameserver fe80::1%eth0\n nameserver 10.0.0.3 \n'), [
    { host: '10.0.0.2', port: 53 },
    { host: '::1', port: 53 },
    { host: '10.0.0.3', port: 53 },
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAnswer, parseQuery, RCODE_SERVFAIL, reverseName, TYPE_A, TYPE_PTR } from '../../src/dns/message';
import { Resolver, upstreamsFrom } from '../../src/dns/resolver';

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

test('Resolver.answer() answers names of its network, PTR, and SERVFAIL without upstreams', async () => {
  const r = new Resolver(
    {
      lookup: (net, name) => (net === 'n1' && name === 'web' ? ['172.18.0.2'] : []),
      reverse: (net, ip) => (net === 'n1' && ip === '172.18.0.2' ? 'web' : undefined),
    },
    () => [],
  );
  const a = (await r.answer('n1', query('web', TYPE_A)))!;
  assert.equal(a.readUInt16BE(6), 1);
  assert.deepEqual([...a.subarray(a.length - 4)], [172, 18, 0, 2]);
  const other = (await r.answer('n2', query('web', TYPE_A)))!;
  assert.equal(other.readUInt16BE(2) & 0xf, RCODE_SERVFAIL, 'another network does not see the name');
  const ptr = (await r.answer('n1', query('2.0.18.172.in-addr.arpa', TYPE_PTR)))!;
  assert.match(ptr.toString('latin1'), /\x03web\x00$/);
});

test('upstreamsFrom() reads IPv4 name servers from resolv.conf', () => {
  assert.deepEqual(upstreamsFrom('search x\nnameserver 10.0.0.2\nnameserver ::1\n nameserver 10.0.0.3 \n'), [
    { host: '10.0.0.2', port: 53 },
    { host: '10.0.0.3', port: 53 },
  ]);
});

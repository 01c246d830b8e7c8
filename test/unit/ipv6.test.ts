/**
 * IPv6 logic without root: address arithmetic and its text forms, the ULA pool and subnet choice,
 * a network's addressing in both families, `-p` with IPv6 host addresses and collisions across
 * families, DNS messages (AAAA, ip6.arpa, truncation, EDNS0, TCP framing), the resolver's answers
 * by family, and Docker's IPv6 JSON.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isIP, isIPv6 } from '../../src/base/ip';
import { collides, parsePortSpec } from '../../src/base/port-spec';
import { Network } from '../../src/base/model';
import { createAddressing, endpointIpv6, hostIpOf, ipamConfigs, memberAddresses } from '../../src/api/dto/ipv6';
import { networkCreateRequest } from '../../src/api/dto/network';
import { buildAnswer, framed, parseQuery, readFramed, reverseName, truncated, TYPE_AAAA, TYPE_PTR, udpLimit } from '../../src/dns/message';
import { Resolver } from '../../src/dns/resolver';
import { settleAddressing } from '../../src/drivers/_addressing';
import { bigToIp6, canonical6, checkRequested6, contains6, fromReverseName6, ip6ToBig, isUla, linkLocalOf, macFromIp6, overlaps6, parseCidr6, pickAddress6, reverseName6 } from '../../src/ipam/ipam6';
import { DEFAULT_POOLS, parsePool } from '../../src/ipam/pools';
import { pickSubnet6, settleSubnet6, ulaPool } from '../../src/ipam/pools6';
import { FakeKernel } from '../../src/kernel/fake-kernel';

describe('IPv6 addresses (base/ip.ts, ipam/ipam6.ts)', () => {
  it('isIPv6() takes every text form and nothing else', () => {
    for (const ok of ['::', '::1', 'fd00::1', '2001:db8:0:0:1:0:0:1', 'FD00:0:0:0:0:0:0:1', '::ffff:192.0.2.1', '64:ff9b::192.0.2.33', '1::']) assert.ok(isIPv6(ok), ok);
    for (const bad of ['', ':', '1:2:3:4:5:6:7:8:9', '1::2::3', 'fd00::g', '12345::', '::ffff:300.0.0.1', 'fe80::1%eth0', '[::1]', '10.0.0.1', '1:2:3:4:5:6:7']) assert.equal(isIPv6(bad), false, bad);
    assert.ok(isIP('10.0.0.1') && isIP('::1') && !isIP('host'));
  });

  it('bigToIp6() writes RFC 5952: lower case, no leading zeros, the longest zero run as ::, a lone zero group kept', () => {
    assert.equal(canonical6('2001:DB8:0:0:0:0:2:1'), '2001:db8::2:1');
    assert.equal(canonical6('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(canonical6('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1');
    assert.equal(canonical6('0:0:0:0:0:0:0:0'), '::');
    assert.equal(canonical6('::ffff:192.0.2.1'), '::ffff:c000:201');
    assert.equal(bigToIp6(ip6ToBig('fd00:66::1:5')), 'fd00:66::1:5');
  });

  it('parseCidr6() clears host bits; contains6(), overlaps6()', () => {
    assert.equal(parseCidr6('2001:389::1/64').cidr, '2001:389::/64');
    assert.throws(() => parseCidr6('fd00::/129'), /invalid CIDR/);
    assert.throws(() => parseCidr6('10.0.0.0/8'), /invalid CIDR/);
    const s = parseCidr6('fd00:66::/64');
    assert.ok(contains6(s, 'fd00:66::ffff:1') && !contains6(s, 'fd00:67::1'));
    assert.ok(overlaps6(parseCidr6('fd00::/16'), s) && !overlaps6(parseCidr6('fd00:67::/64'), s));
  });

  it('pickAddress6() gives the lowest free address: never the subnet-router address or the gateway, inside --ip-range, any text form of a used one counted', () => {
    const s = parseCidr6('fd00:66::/64');
    assert.equal(pickAddress6(s, 'fd00:66::1', new Set()), 'fd00:66::2');
    assert.equal(pickAddress6(s, 'fd00:66::1', new Set(['fd00:66::2', 'FD00:66:0::3', '172.18.0.2'])), 'fd00:66::4');
    assert.equal(pickAddress6(s, 'fd00:66::ffff', new Set(), parseCidr6('fd00:66::/120')), 'fd00:66::1', 'a range starting at the subnet skips only its first address');
    assert.equal(pickAddress6(s, 'fd00:66::1', new Set(), parseCidr6('fd00:66::100/120')), 'fd00:66::100');
    const tiny = parseCidr6('fd00:1::/126');
    assert.equal(pickAddress6(tiny, 'fd00:1::1', new Set(['fd00:1::2', 'fd00:1::3'])), undefined);
    assert.throws(() => checkRequested6(s, 'fd00:66::1', 'fd00:66::', 'n'), /reserved/);
    assert.throws(() => checkRequested6(s, 'fd00:66::1', 'fd00:67::5', 'n'), /not in network n/);
  });

  it('linkLocalOf() is the kernel\'s EUI-64 address of a MAC; macFromIp6() is 02:42 and the last four bytes', () => {
    assert.equal(linkLocalOf('02:42:ac:11:00:02'), 'fe80::42:acff:fe11:2');
    assert.equal(linkLocalOf('00:11:22:33:44:55'), 'fe80::211:22ff:fe33:4455');
    assert.equal(macFromIp6('fd00:69::a:b0c'), '02:42:00:0a:0b:0c');
    assert.ok(isUla('fd12::1') && isUla('fc00::1') && !isUla('2001:db8::1'));
  });

  it('reverseName6() and fromReverseName6() are inverses; reverseName() reads both families', () => {
    const name = reverseName6('fd00:66::1:5');
    assert.equal(name, '5.0.0.0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.6.6.0.0.0.0.d.f.ip6.arpa');
    assert.equal(fromReverseName6(name), 'fd00:66::1:5');
    assert.equal(reverseName(name), 'fd00:66::1:5');
    assert.equal(reverseName('2.0.18.172.in-addr.arpa'), '172.18.0.2');
    assert.equal(reverseName('1.2.ip6.arpa'), undefined);
  });
});

describe('IPv6 pools (ipam/pools6.ts)', () => {
  it('ulaPool() is an engine\'s own /48 of fd00::/8 cut in /64s, the same for the same id', () => {
    const p = ulaPool('a'.repeat(64));
    assert.match(p.base, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/48$/);
    assert.equal(p.size, 64);
    assert.deepEqual(ulaPool('a'.repeat(64)), p);
    assert.notDeepEqual(ulaPool('b'.repeat(64)), p);
  });

  it('pickSubnet6() takes the first /64 nothing overlaps, jumping over large taken ranges', () => {
    const pools = [{ base: 'fd00:1::/48', size: 64 }];
    assert.equal(pickSubnet6([], pools).cidr, 'fd00:1::/64');
    assert.equal(pickSubnet6([{ what: 'n1', subnet: parseCidr6('fd00:1::/64') }], pools).cidr, 'fd00:1:0:1::/64');
    // 16384 /64s taken by one route: found at once, not by trying each
    assert.equal(pickSubnet6([{ what: 'a route', subnet: parseCidr6('fd00:1::/50') }], pools).cidr, 'fd00:1:0:4000::/64');
    assert.throws(() => pickSubnet6([{ what: 'all', subnet: parseCidr6('fd00::/8') }], pools), /fully subnetted/);
    assert.throws(() => pickSubnet6([], DEFAULT_POOLS), /fully subnetted/, 'IPv4 pools are not IPv6 ones');
  });

  it('settleSubnet6() checks a requested subnet, gateway and range; parsePool() takes IPv6 bases', () => {
    const r = settleSubnet6({ subnet6: '2001:389::1/64', gateway6: '2001:389::ffff', ipRange6: '2001:389::/96' }, [], []);
    assert.deepEqual([r.subnet.cidr, r.gateway, r.ipRange?.cidr], ['2001:389::/64', '2001:389::ffff', '2001:389::/96']);
    assert.equal(settleSubnet6({ subnet6: 'fd00:5::/64' }, [], []).gateway, 'fd00:5::1');
    assert.throws(() => settleSubnet6({ subnet6: 'fd00:5::/64', gateway6: 'fd00:6::1' }, [], []), /not in subnet/);
    assert.throws(() => settleSubnet6({ subnet6: 'fd00:5::/64', gateway6: 'fd00:5::' }, [], []), /subnet-router/);
    assert.throws(() => settleSubnet6({ subnet6: 'fd00:5::/64', ipRange6: 'fd00:6::/96' }, [], []), /not inside/);
    assert.throws(() => settleSubnet6({ subnet6: 'fd00:5::/127' }, [], []), /too small/);
    assert.throws(() => settleSubnet6({ subnet6: 'fd00:5::/64' }, [{ what: 'network n1', subnet: parseCidr6('fd00::/16') }], []), /overlaps network n1/);
    assert.throws(() => settleSubnet6({ gateway6: 'fd00:5::1' }, [], []), /needs an IPv6 --subnet/);
    assert.deepEqual(parsePool('base=fd00:1::/48,size=64'), { base: 'fd00:1::/48', size: 64 });
    assert.throws(() => parsePool('base=fd00:1::/48,size=40'), /larger than the base/);
  });

  it('settleAddressing(): each family when asked, IPv6 implied by an IPv6 subnet, auxiliary addresses by family', () => {
    const req = { id: 'x', name: 'n', driver: 'bridge', internal: false, labels: {}, options: {} };
    const pools6 = [{ base: 'fd00:9::/48', size: 64 }];
    const dual = settleAddressing({ ...req, subnet6: 'fd00:5::/64', auxAddresses: { a: '172.17.0.9', b: 'fd00:5::9' } }, [], [], DEFAULT_POOLS, pools6);
    assert.deepEqual(dual, { subnet: '172.17.0.0/16', gateway: '172.17.0.1', subnet6: 'fd00:5::/64', gateway6: 'fd00:5::1' });
    assert.deepEqual(settleAddressing({ ...req, ipv6: true, ipv4: false }, [], [], DEFAULT_POOLS, pools6), { ipv4: false, subnet6: 'fd00:9::/64', gateway6: 'fd00:9::1' });
    assert.throws(() => settleAddressing({ ...req, ipv4: false }, [], [], DEFAULT_POOLS, pools6), /needs IPv4 or IPv6/);
    assert.throws(() => settleAddressing({ ...req, ipv6: true, ipv4: false, subnet: '10.5.0.0/16' }, [], [], DEFAULT_POOLS, pools6), /has no IPv4/);
    assert.throws(() => settleAddressing({ ...req, auxAddresses: { b: 'fd00:5::9' } }, [], [], DEFAULT_POOLS, pools6), /is IPv6, and network n has no IPv6/);
    assert.throws(() => settleAddressing({ ...req, subnet6: 'fd00:5::/64', auxAddresses: { b: 'fd00:6::9' } }, [], [], DEFAULT_POOLS, pools6), /must belong to the master pool/);
  });
});

describe('IPv6 port bindings (base/port-spec.ts)', () => {
  it('parsePortSpec() reads an IPv6 host address in brackets; none given is "" (both families)', () => {
    assert.deepEqual(parsePortSpec('[::1]:8080:80'), [{ proto: 'tcp', hostIp: '::1', hostPort: 8080, containerPort: 80 }]);
    assert.deepEqual(parsePortSpec('[2001:DB8::1]::53/udp'), [{ proto: 'udp', hostIp: '2001:db8::1', hostPort: 0, containerPort: 53 }]);
    assert.deepEqual(parsePortSpec('[::]:8080-8081:80-81').map((b) => b.hostIp), ['::', '::']);
    assert.deepEqual(parsePortSpec('0.0.0.0:8080:80')[0].hostIp, '0.0.0.0');
    assert.throws(() => parsePortSpec('[::1]:80'), /needs \[ADDR\]:HOST_PORT:CONTAINER_PORT/);
    assert.throws(() => parsePortSpec('[fd00::g]:80:80'), /is not an IPv6 address/);
    assert.throws(() => parsePortSpec('::1:8080:80'), /in brackets/);
  });

  it('collides() across families: 0.0.0.0 and :: never meet, "" meets both', () => {
    const b = (hostIp: string) => ({ proto: 'tcp', hostIp, hostPort: 80 });
    assert.equal(collides(b('0.0.0.0'), b('::')), false);
    assert.equal(collides(b('::'), b('::1')), true);
    assert.equal(collides(b('::1'), b('fd00::1')), false);
    assert.equal(collides(b(''), b('::1')), true);
    assert.equal(collides(b(''), b('10.0.0.1')), true);
    assert.equal(collides(b('10.0.0.1'), b('::')), false);
  });
});

/** A query for `name` of `type`, with an EDNS0 record offering `edns` bytes when given. */
function query(name: string, type: number, edns?: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const opt = edns ? Buffer.from([0, 0, 41, edns >> 8, edns & 255, 0, 0, 0, 0, 0, 0]) : Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0]), ...labels, Buffer.from([0, 0, type, 0, 1]), opt]);
}

describe('DNS messages and the resolver (dns/)', () => {
  it('buildAnswer() writes AAAA records as 16 bytes', () => {
    const a = buildAnswer(parseQuery(query('web', TYPE_AAAA))!, [{ type: TYPE_AAAA, data: 'fd00:66::1:5' }]);
    assert.equal(a.readUInt16BE(6), 1);
    assert.equal(a.readUInt16BE(a.length - 18), 16, 'rdlength');
    assert.equal(a.subarray(a.length - 16).toString('hex'), 'fd000066000000000000000000010005');
  });

  it('buildAnswer() keeps what fits in the transport, whole records only, and sets TC; EDNS0 offers more and gets an OPT record back', () => {
    const q = parseQuery(query('pool', TYPE_AAAA))!;
    const many = Array.from({ length: 30 }, (_, i) => ({ type: TYPE_AAAA as typeof TYPE_AAAA, data: `fd00::${i + 1}` }));
    const udp = buildAnswer(q, many, 0, 600, udpLimit(q));
    assert.ok(udp.length <= 512 && truncated(udp));
    assert.equal((udp.length - 12 - q.raw.length) % 28, 0, 'whole records of 28 bytes');
    assert.equal(udp.readUInt16BE(6), (udp.length - 12 - q.raw.length) / 28);
    const tcp = buildAnswer(q, many);
    assert.deepEqual([truncated(tcp), tcp.readUInt16BE(6)], [false, 30]);
    const qe = parseQuery(query('pool', TYPE_AAAA, 1232))!;
    assert.equal(qe.edns, 1232);
    assert.equal(udpLimit(qe), 1232);
    const e = buildAnswer(qe, many, 0, 600, udpLimit(qe));
    assert.deepEqual([truncated(e), e.readUInt16BE(6), e.readUInt16BE(10)], [false, 30, 1], 'all 30 fit in 1232 bytes, with one OPT record');
    assert.equal(udpLimit(parseQuery(query('x', TYPE_AAAA, 65000))!), 4096);
  });

  it('readFramed() splits a TCP stream into messages, keeping a partial one for the next read', () => {
    const m1 = query('a', TYPE_AAAA);
    const m2 = query('bb', TYPE_AAAA);
    const stream = Buffer.concat([framed(m1), framed(m2)]);
    const part = readFramed(stream.subarray(0, stream.length - 3));
    assert.deepEqual(part.messages.map((m) => m.toString('hex')), [m1.toString('hex')]);
    const rest = readFramed(Buffer.concat([part.rest, stream.subarray(stream.length - 3)]));
    assert.deepEqual([rest.messages.length, rest.rest.length, rest.messages[0].toString('hex')], [1, 0, m2.toString('hex')]);
  });

  it('Resolver.answer(): A gives the IPv4 addresses, AAAA the IPv6 ones, an empty answer for a family a name lacks; PTR of an IPv6 address', async () => {
    const names = {
      lookup: (_a: string, n: string) => (n === 'dual' ? ['172.18.0.2', 'fd00:66::2'] : n === 'six' ? ['fd00:69::2'] : []),
      reverse: (_a: string, ip: string) => (ip === 'fd00:66::2' ? 'dual' : undefined),
    };
    const r = new Resolver(new FakeKernel(), names, () => []);
    const aaaa = (await r.answer('c1', query('dual', TYPE_AAAA)))!;
    assert.deepEqual([aaaa.readUInt16BE(6), aaaa.subarray(aaaa.length - 16).toString('hex')], [1, 'fd000066000000000000000000000002']);
    const a = (await r.answer('c1', query('dual', 1)))!;
    assert.deepEqual([a.readUInt16BE(6), [...a.subarray(a.length - 4)].join('.')], [1, '172.18.0.2']);
    const none = (await r.answer('c1', query('six', 1)))!;
    assert.deepEqual([none.readUInt16BE(2) & 0xf, none.readUInt16BE(6)], [0, 0], 'NOERROR, no records: the name exists');
    const ptr = (await r.answer('c1', query(reverseName6('fd00:66::2'), TYPE_PTR)))!;
    assert.equal(ptr.readUInt16BE(6), 1);
    assert.match(ptr.subarray(ptr.length - 6).toString('latin1'), /dual/);
  });
});

describe("Docker's IPv6 JSON (api/dto/ipv6.ts)", () => {
  const net: Network = {
    id: 'n', name: 'v6', driver: 'bridge', subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: false, options: {}, labels: {}, created: '',
    subnet6: 'fd00:66::/64', gateway6: 'fd00:66::1', ipRange6: 'fd00:66::100/120', auxAddresses: { a: '172.18.0.9', b: 'fd00:66::9' },
  };

  it('createAddressing() sorts IPAM configs by family (an IPv6 one implies EnableIPv6), refuses two of one family, reads EnableIPv4', () => {
    const r = createAddressing({ IPAM: { Config: [{ Subnet: '2001:389::1/64', IPRange: '2001:389::0/96', Gateway: '2001:389::ffff' }, { Subnet: '10.9.0.0/16' }] } });
    assert.deepEqual(r, { subnet: '10.9.0.0/16', gateway: undefined, ipRange: undefined, subnet6: '2001:389::1/64', gateway6: '2001:389::ffff', ipRange6: '2001:389::0/96', ipv6: true });
    assert.deepEqual(createAddressing({ EnableIPv6: true, EnableIPv4: false }), { subnet: undefined, gateway: undefined, ipRange: undefined, ipv6: true, ipv4: false });
    assert.throws(() => createAddressing({ IPAM: { Config: [{ Subnet: 'fd00:1::/64' }, { Subnet: 'fd00:2::/64' }] } }), /per address family/);
    assert.throws(() => createAddressing({ EnableIPv6: 'yes' }), /EnableIPv6 must be a boolean/);
    assert.equal(networkCreateRequest({ Name: 'x', EnableIPv6: true }).ipv6, true);
  });

  it('ipamConfigs(), memberAddresses() and endpointIpv6() show each family with its own prefix, range and auxiliary addresses', () => {
    assert.deepEqual(ipamConfigs(net, false), [
      { Subnet: '172.18.0.0/16', Gateway: '172.18.0.1', AuxiliaryAddresses: { a: '172.18.0.9' } },
      { Subnet: 'fd00:66::/64', IPRange: 'fd00:66::100/120', Gateway: 'fd00:66::1', AuxiliaryAddresses: { b: 'fd00:66::9' } },
    ]);
    const ep = { id: 'e', containerId: 'c', networkId: 'n', ifName: 'eth0', hostIf: 'veth', ip: '', mac: '02:42:00:00:01:00', aliases: [], ip6: 'fd00:66::100' };
    assert.deepEqual(memberAddresses(net, ep), { IPv4Address: '', IPv6Address: 'fd00:66::100/64' });
    assert.deepEqual(endpointIpv6(net, ep), { IPv6Gateway: 'fd00:66::1', GlobalIPv6Address: 'fd00:66::100', GlobalIPv6PrefixLen: 64 });
    assert.deepEqual(endpointIpv6(net, { ...ep, ip6: undefined }), { IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0 });
    assert.deepEqual([hostIpOf('', '80'), hostIpOf('[::1]', '80'), hostIpOf('FD00::1', '80')], ['', '::1', 'fd00::1']);
    assert.throws(() => hostIpOf('localhost', '80/tcp'), /invalid host address/);
  });
});

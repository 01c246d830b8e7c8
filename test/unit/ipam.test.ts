import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../src/base/errors';
import { checkAuxAddresses, checkRequested, contains, intToIp, ipToInt, macFromIp, overlaps, parseCidr, pickAddress } from '../../src/ipam/ipam';

const isInvalidParameter = (e: unknown): boolean => e instanceof EngineError && e.code === 'INVALID_PARAMETER';

test('ipToInt() and intToIp() round-trip, including the top of the address space', () => {
  assert.equal(ipToInt('172.17.0.2'), 0xac110002);
  assert.equal(ipToInt('255.255.255.255'), 0xffffffff);
  for (const ip of ['0.0.0.0', '10.1.2.3', '172.17.0.2', '192.168.255.1', '255.255.255.255']) assert.equal(intToIp(ipToInt(ip)), ip);
});

test('ipToInt() rejects malformed addresses with INVALID_PARAMETER', () => {
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.x', '', '1.2.3.-1']) assert.throws(() => ipToInt(bad), isInvalidParameter, bad);
});

test('parseCidr() normalises host bits away and keeps the address given', () => {
  const s = parseCidr('172.17.0.1/16');
  assert.equal(s.cidr, '172.17.0.0/16');
  assert.equal(s.base, ipToInt('172.17.0.0'));
  assert.equal(s.ip, ipToInt('172.17.0.1'));
  assert.equal(s.prefixLen, 16);
  assert.equal(parseCidr('10.1.2.3/8').cidr, '10.0.0.0/8');
  assert.equal(parseCidr('192.168.1.77/32').cidr, '192.168.1.77/32');
});

test('parseCidr() rejects a missing or too long prefix with INVALID_PARAMETER', () => {
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0/8', '10.0.0.0/']) assert.throws(() => parseCidr(bad), isInvalidParameter, bad);
});

test('contains() includes network and broadcast addresses and nothing outside', () => {
  const s = parseCidr('10.0.0.0/24');
  assert.equal(contains(s, '10.0.0.0'), true);
  assert.equal(contains(s, '10.0.0.255'), true);
  assert.equal(contains(s, '10.0.1.0'), false);
  assert.equal(contains(s, '9.255.255.255'), false);
});

test('overlaps() detects nesting and shared addresses, not adjacency', () => {
  assert.equal(overlaps(parseCidr('10.0.0.0/8'), parseCidr('10.5.0.0/16')), true);
  assert.equal(overlaps(parseCidr('10.5.0.0/16'), parseCidr('10.0.0.0/8')), true);
  assert.equal(overlaps(parseCidr('10.0.0.0/24'), parseCidr('10.0.1.0/24')), false);
  assert.equal(overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.18.0.0/16')), false);
});

test("macFromIp() gives Docker's 02:42 MAC", () => {
  assert.equal(macFromIp('172.17.0.2'), '02:42:ac:11:00:02');
  assert.equal(macFromIp('10.255.0.1'), '02:42:0a:ff:00:01');
});

test('pickAddress() skips the network, gateway and used addresses', () => {
  const s = parseCidr('172.17.0.0/16');
  assert.equal(pickAddress(s, '172.17.0.1', new Set()), '172.17.0.2');
  assert.equal(pickAddress(s, '172.17.0.1', new Set(['172.17.0.2', '172.17.0.3'])), '172.17.0.4');
  assert.equal(pickAddress(s, '172.17.0.5', new Set()), '172.17.0.1');
});

test('pickAddress() never returns the broadcast address and is undefined when a /30 is full', () => {
  const s = parseCidr('10.0.0.0/30');
  assert.equal(pickAddress(s, '10.0.0.1', new Set()), '10.0.0.2');
  assert.equal(pickAddress(s, '10.0.0.1', new Set(['10.0.0.2'])), undefined);
});

test('pickAddress() stays inside the --ip-range', () => {
  const s = parseCidr('10.0.0.0/24');
  const r = parseCidr('10.0.0.128/29');
  const used = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const ip = pickAddress(s, '10.0.0.1', used, r);
    assert.ok(ip !== undefined && contains(r, ip), `pick ${i}: ${ip}`);
    assert.ok(!used.has(ip));
    used.add(ip);
  }
  assert.equal(pickAddress(s, '10.0.0.1', used, r), undefined);
});

test('pickAddress() does not return the broadcast address of the subnet when the range ends there', () => {
  const s = parseCidr('10.0.0.0/24');
  const r = parseCidr('10.0.0.252/30');
  assert.equal(pickAddress(s, '10.0.0.1', new Set(['10.0.0.252', '10.0.0.253', '10.0.0.254']), r), undefined);
});

test('checkRequested() accepts a free host address anywhere in the subnet: the ip-range limits only automatic ones', () => {
  assert.doesNotThrow(() => checkRequested(parseCidr('10.0.0.0/24'), '10.0.0.1', '10.0.0.130', 'n'));
  assert.doesNotThrow(() => checkRequested(parseCidr('10.0.0.0/24'), '10.0.0.1', '10.0.0.5', 'n'));
});

test('checkRequested() rejects outside subnet, network, broadcast and gateway with INVALID_PARAMETER', () => {
  const s = parseCidr('10.0.0.0/24');
  const cases: [string, RegExp][] = [
    ['10.0.1.5', /not in network n \(10\.0\.0\.0\/24\)/],
    ['10.0.0.0', /reserved/],
    ['10.0.0.255', /reserved/],
    ['10.0.0.1', /reserved/],
  ];
  for (const [ip, msg] of cases) {
    assert.throws(() => checkRequested(s, '10.0.0.1', ip, 'n'), (e: unknown) => isInvalidParameter(e) && msg.test((e as Error).message), ip);
  }
});

test('checkAuxAddresses() takes addresses of the subnet other than the gateway, in Docker\'s words otherwise', () => {
  const s = parseCidr('172.31.0.0/16');
  assert.doesNotThrow(() => checkAuxAddresses(s, '172.31.0.254', { a1: '172.31.0.10' }));
  assert.throws(() => checkAuxAddresses(s, '172.31.0.254', { a1: '10.0.0.1' }), /auxiliary address: \(a1:10\.0\.0\.1\) must belong to the master pool: 172\.31\.0\.0\/16/);
  assert.throws(() => checkAuxAddresses(s, '172.31.0.254', { gw: '172.31.0.254' }), /is the gateway/);
});

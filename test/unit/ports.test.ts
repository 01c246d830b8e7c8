import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../src/base/errors';
import { collides, parsePortSpec } from '../../src/base/port-spec';

test('parsePortSpec() reads CONTAINER_PORT as tcp on every address with a port chosen at start', () => {
  assert.deepEqual(parsePortSpec('80'), [{ proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 }]);
});

test('parsePortSpec() reads HOST_PORT:CTR_PORT', () => {
  assert.deepEqual(parsePortSpec('8080:80'), [{ proto: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 }]);
});

test('parsePortSpec() reads HOST_IP:HOST_PORT:CTR_PORT/udp', () => {
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80/udp'), [{ proto: 'udp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 }]);
});

test('parsePortSpec() reads HOST_IP::CTR_PORT as a port chosen at start on that address', () => {
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 0, containerPort: 80 }]);
});

test('parsePortSpec() expands equal host and container ranges pairwise', () => {
  assert.deepEqual(parsePortSpec('8080-8081:80-81'), [
    { proto: 'tcp', hostIp: '', hostPort: 8080, containerPort: 80 },
    { proto: 'tcp', hostIp: '', hostPort: 8081, containerPort: 81 },
  ]);
});

for (const [spec, why] of [
  ['80/sctp', 'a protocol other than tcp or udp'],
  ['0', 'port 0'],
  ['8080:70000', 'port 70000'],
  ['8080-8082:80-81', 'ranges of different sizes'],
  ['300.1.2.3:8080:80', 'an invalid host IP'],
  ['localhost:8080:80', 'a host name instead of an IP'],
  ['1:2:3:4', 'too many colons'],
  ['8080:', 'no container port'],
  ['81-80', 'a reversed range'],
]) {
  test(`parsePortSpec() rejects ${why} ("${spec}") with INVALID_PORT_SPEC and a hint`, () => {
    assert.throws(
      () => parsePortSpec(spec),
      (e: unknown) => {
        assert.ok(e instanceof EngineError);
        assert.equal(e.code, 'INVALID_PORT_SPEC');
        assert.equal(e.kind, 'invalidParameter');
        assert.match(e.message, new RegExp(`"${spec.replace(/[.]/g, '\\.')}"`));
        assert.match(e.hint ?? '', /-p /);
        return true;
      },
    );
  });
}

test('collides() is true for the same proto and port when either side listens on every address', () => {
  assert.equal(collides({ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 80 }, { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 80 }), true);
  assert.equal(collides({ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 80 }, { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 80 }), true);
  assert.equal(collides({ proto: 'tcp', hostIp: '10.0.0.1', hostPort: 80 }, { proto: 'tcp', hostIp: '10.0.0.1', hostPort: 80 }), true);
});

test('collides() is false for another proto, another port or two different addresses', () => {
  assert.equal(collides({ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 80 }, { proto: 'udp', hostIp: '0.0.0.0', hostPort: 80 }), false);
  assert.equal(collides({ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 80 }, { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 81 }), false);
  assert.equal(collides({ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 80 }, { proto: 'tcp', hostIp: '10.0.0.1', hostPort: 80 }), false);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../src/base/errors';
import { createRequest } from '../../src/api/dto/container';
import { humanDuration } from '../../src/base/time';

const invalid = (code = 'INVALID_PARAMETER') => (e: unknown) => e instanceof EngineError && e.code === code;

test('createRequest() converts a Docker create body into a ContainerSpec', () => {
  const { image, spec } = createRequest({
    Image: 'busybox',
    Cmd: ['sh', '-c', 'echo hi'],
    Env: ['A=1'],
    ExposedPorts: { '53/udp': {} },
    Tty: true,
    HostConfig: {
      AutoRemove: true,
      NetworkMode: 'net1',
      PortBindings: {
        '80/tcp': [{ HostIp: '', HostPort: '' }],
        '53/udp': [{ HostIp: '127.0.0.1', HostPort: '5353' }],
      },
    },
    NetworkingConfig: { EndpointsConfig: { net1: { IPAMConfig: { IPv4Address: '10.1.0.5' }, Aliases: ['web', 'www'] } } },
  });
  assert.equal(image, 'busybox');
  assert.deepEqual(spec, {
    cmd: ['sh', '-c', 'echo hi'],
    entrypoint: [],
    env: ['A=1'],
    workingDir: '',
    hostname: '',
    tty: true,
    openStdin: false,
    stdinOnce: false,
    labels: {},
    networkMode: 'net1',
    portBindings: [
      { proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 80 },
      { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 },
    ],
    exposedPorts: ['53/udp'],
    autoRemove: true,
    dns: [],
    macAddress: "",
    networks: { net1: { ipv4: '10.1.0.5', aliases: ['web', 'www'] } },
  });
});

test('createRequest() defaults NetworkMode to bridge, a port key to tcp and accepts a string Cmd', () => {
  const { spec } = createRequest({ Image: 'busybox', Cmd: 'true', HostConfig: { PortBindings: { '443': [{ HostPort: '8443' }] } } });
  assert.deepEqual(spec.portBindings, [{ proto: 'tcp', hostIp: '', hostPort: 8443, containerPort: 443 }]);
  assert.equal(spec.networkMode, 'bridge');
  assert.deepEqual(spec.cmd, ['true']);
  assert.equal(spec.autoRemove, false);
  assert.deepEqual(spec.networks, {});
});

test('createRequest() rejects a missing image and wrong types with INVALID_PARAMETER', () => {
  const bodies: Record<string, unknown>[] = [
    {},
    { Image: 5 },
    { Image: 'busybox', Cmd: ['sh', 1] },
    { Image: 'busybox', Env: { A: '1' } },
    { Image: 'busybox', HostConfig: [] },
    { Image: 'busybox', HostConfig: { NetworkMode: 1 } },
    { Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: 80 }] } } },
    { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { n: { Aliases: [1] } } } },
    { Image: 'busybox', NetworkingConfig: { EndpointsConfig: { n: { IPAMConfig: { IPv4Address: 7 } } } } },
  ];
  for (const b of bodies) assert.throws(() => createRequest(b), invalid(), JSON.stringify(b));
});

test('createRequest() rejects bad port bindings with INVALID_PORT_SPEC', () => {
  const bind = (k: string, v: unknown) => ({ Image: 'busybox', HostConfig: { PortBindings: { [k]: [v] } } });
  assert.throws(() => createRequest(bind('80/sctp', {})), invalid('INVALID_PORT_SPEC'));
  assert.throws(() => createRequest(bind('0/tcp', {})), invalid('INVALID_PORT_SPEC'));
  assert.throws(() => createRequest(bind('80/tcp', { HostIp: 'example.com' })), invalid('INVALID_PORT_SPEC'));
  assert.throws(() => createRequest(bind('80/tcp', { HostPort: '70000' })), invalid('INVALID_PORT_SPEC'));
  assert.throws(() => createRequest(bind('80/tcp', { HostPort: 'http' })), invalid('INVALID_PORT_SPEC'));
});

test('createRequest() rejects a port binding that is not an object with INVALID_PARAMETER', () => {
  assert.throws(() => createRequest({ Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': [null] } } }), invalid());
});

test('createRequest() rejects a HostPort that is not a decimal number with INVALID_PORT_SPEC', () => {
  assert.throws(() => createRequest({ Image: 'busybox', HostConfig: { PortBindings: { '80/tcp': [{ HostPort: '0x50' }] } } }), invalid('INVALID_PORT_SPEC'));
});

test('createRequest() rejects non-string label values with INVALID_PARAMETER', () => {
  assert.throws(() => createRequest({ Image: 'busybox', Labels: { a: 1 } }), invalid());
});

test("humanDuration() reads like Docker's units.HumanDuration at unit boundaries", () => {
  const s = 1000;
  const h = 3600 * s;
  assert.equal(humanDuration(0), 'Less than a second');
  assert.equal(humanDuration(1 * s), '1 second');
  assert.equal(humanDuration(45 * s), '45 seconds');
  assert.equal(humanDuration(60 * s), 'About a minute');
  assert.equal(humanDuration(5 * 60 * s), '5 minutes');
  assert.equal(humanDuration(1 * h), 'About an hour');
  assert.equal(humanDuration(5 * h), '5 hours');
  assert.equal(humanDuration(72 * h), '3 days');
  assert.equal(humanDuration(3 * 7 * 24 * h), '3 weeks');
  assert.equal(humanDuration(90 * 24 * h), '3 months');
  assert.equal(humanDuration(3 * 365 * 24 * h), '3 years');
});

test("humanDuration() truncates seconds, minutes and days like Docker's units.HumanDuration", () => {
  assert.equal(humanDuration(1500), '1 second');
  assert.equal(humanDuration(600), 'Less than a second');
  assert.equal(humanDuration(90_000), 'About a minute');
  assert.equal(humanDuration((59 * 60 + 40) * 1000), '59 minutes');
  assert.equal(humanDuration(60 * 3600_000), '2 days');
});

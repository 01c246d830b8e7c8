import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { parseFlags } from '../../src/daemon/main';

test('parseFlags() defaults', () => {
  assert.deepEqual(parseFlags([]), {
    root: '/var/lib/ctrnet', execRoot: '/run/ctrnet', socket: '/run/ctrnet/ctrnet.sock', bridge: 'ctrnet0', bip: '172.17.0.1/16', pools: [], dnsUpstreams: [], clusterTtl: 8,
    insecureRegistries: [], registryMirrors: [],
  });
});

test('parseFlags() reads --bip, -H unix:///x, --root=DIR, --exec-root DIR, --bridge and --mtu', () => {
  const o = parseFlags(['--bip', '10.20.0.1/24', '-H', 'unix:///x', '--root=/tmp/r', '--exec-root', 'rel/e', '--bridge=br9', '--mtu', '1400']);
  assert.deepEqual(o, { root: '/tmp/r', execRoot: path.resolve('rel/e'), socket: '/x', bip: '10.20.0.1/24', bridge: 'br9', mtu: 1400, pools: [], dnsUpstreams: [], clusterTtl: 8, insecureRegistries: [], registryMirrors: [] });
});

test('parseFlags() reads repeated --default-address-pool and --dns-upstream', () => {
  const o = parseFlags(['--default-address-pool', 'base=10.99.0.0/16,size=24', '--default-address-pool=base=10.98.0.0/16,size=20', '--dns-upstream', '10.0.0.2', '--dns-upstream=10.0.0.3:5353']);
  assert.deepEqual(o.pools, [{ base: '10.99.0.0/16', size: 24 }, { base: '10.98.0.0/16', size: 20 }]);
  assert.deepEqual(o.dnsUpstreams, [{ host: '10.0.0.2', port: 53 }, { host: '10.0.0.3', port: 5353 }]);
  assert.throws(() => parseFlags(['--default-address-pool', 'base=10.0.0.0/16,size=8']), /larger than the base/);
  assert.throws(() => parseFlags(['--dns-upstream', 'example.com']), /give IP, IP:PORT or \[IPv6\]:PORT/);
  assert.deepEqual(parseFlags(['--dns-upstream', '[FD00::53]:5353', '--dns-upstream', 'fd00::54']).dnsUpstreams, [{ host: 'fd00::53', port: 5353 }, { host: 'fd00::54', port: 53 }]);
});

test('parseFlags() throws on an unknown flag, a missing value and a non-unix -H', () => {
  assert.throws(() => parseFlags(['--bogus']), /unknown flag --bogus/);
  assert.throws(() => parseFlags(['--bip']), /--bip needs a value/);
  assert.throws(() => parseFlags(['-H', 'tcp://0.0.0.0:2375']), /only unix/);
});

test('parseFlags() rejects a non-numeric --mtu', () => {
  assert.throws(() => parseFlags(['--mtu', 'abc']));
});

test('parseFlags() reads --cluster-store with --advertise-addr, and refuses one without the other', () => {
  const o = parseFlags(['--cluster-store', 'etcd://10.0.0.1:2379', '--advertise-addr', '10.0.0.11', '--cluster-lease-ttl', '5']);
  assert.deepEqual([o.clusterStore, o.advertiseAddr, o.clusterTtl], ['etcd://10.0.0.1:2379', '10.0.0.11', 5]);
  assert.throws(() => parseFlags(['--cluster-store', 'etcd://10.0.0.1:2379']), /needs --advertise-addr/);
  assert.throws(() => parseFlags(['--advertise-addr', '10.0.0.11']), /goes with --cluster-store/);
  assert.throws(() => parseFlags(['--cluster-store', 'http://x']), /etcd:\/\/HOST:PORT/);
});

test('parseFlags() refuses roots with white space, commas or colons, naming the flag', () => {
  assert.throws(() => parseFlags(['--root', '/var/lib/my ctrnet']), /--root \/var\/lib\/my ctrnet: the directory must not contain white space/);
  assert.throws(() => parseFlags(['--exec-root', '/run/a,b']), /--exec-root/);
  assert.equal(parseFlags(['--root', '/srv/ctrnet']).root, '/srv/ctrnet');
});

test('parseFlags() reads repeated --insecure-registry and --registry-mirror, and refuses malformed ones', () => {
  const o = parseFlags(['--insecure-registry', '10.9.0.1:5000', '--insecure-registry=10.8.0.0/16', '--registry-mirror', 'http://10.9.0.1:5001/', '--registry-mirror=https://mirror.example']);
  assert.deepEqual(o.insecureRegistries, ['10.9.0.1:5000', '10.8.0.0/16']);
  assert.deepEqual(o.registryMirrors, ['http://10.9.0.1:5001', 'https://mirror.example']);
  assert.throws(() => parseFlags(['--insecure-registry', 'http://10.9.0.1:5000']), /no scheme/);
  assert.throws(() => parseFlags(['--registry-mirror', '10.9.0.1:5001']), /http\(s\):\/\/HOST/);
  assert.throws(() => parseFlags(['--registry-mirror', 'http://m.example/v2/']), /http\(s\):\/\/HOST/);
});

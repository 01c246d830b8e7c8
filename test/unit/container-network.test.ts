import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { attachments, ContainerSpec } from '../../src/base/container-spec';
import { EngineError } from '../../src/base/errors';
import { Container, Endpoint, Network } from '../../src/base/model';
import { hostGateway, hostsLines, linkEnv, parseExtraHost, parseLink } from '../../src/core/containers/etc-hosts';
import { resolvConf } from '../../src/core/containers/resolv-conf';
import { checkSysctls } from '../../src/core/containers/sysctls';
import { NetworkNames } from '../../src/core/dns-names';
import { bindingsOf } from '../../src/core/publish';
import { withImageDefaults } from '../../src/core/containers/image-defaults';
import { emptyConfig } from '../../src/base/image-config';
import { BridgeDriver } from '../../src/drivers/bridge-driver';
import { NetworkDriver } from '../../src/drivers/driver';
import { DEFAULT_POOLS } from '../../src/ipam/pools';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { SqliteStore } from '../../src/state/sqlite-store';
import { StubFirewall } from '../helpers/stub-firewall';

const spec = (over: Partial<ContainerSpec> = {}): ContainerSpec => ({
  cmd: ['true'], entrypoint: [], env: [], workingDir: '', hostname: 'h1', tty: false, openStdin: false, stdinOnce: false, labels: {},
  networkMode: 'n1', portBindings: [], exposedPorts: [], autoRemove: false, dns: [], macAddress: '', networks: { n1: { aliases: [] } }, ...over,
});
const ctr = (name: string, over: Partial<Container> = {}): Container => ({ id: name.padEnd(64, '0'), name, imageId: 'sha256:1', image: 'busybox', spec: spec(), status: 'running', pid: 1, exitCode: 0, error: '', created: '2026-01-01T00:00:00Z', ...over });

describe('resolvConf()', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rc-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const host = (text: string) => {
    const f = path.join(dir, `resolv${files++}.conf`);
    writeFileSync(f, text);
    return f;
  };
  const hostFile = host('search corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n');

  it('with embedded DNS: 127.0.0.11, the host\'s search and options, ndots:0 unless an ndots is given', async () => {
    assert.equal(await resolvConf(spec(), false, true, hostFile), 'search corp.example\nnameserver 127.0.0.11\noptions edns0 ndots:0\n');
    assert.equal(await resolvConf(spec({ dns: ['1.1.1.1'], dnsSearch: ['ex.com'], dnsOptions: ['ndots:2'] }), false, true, hostFile), 'search ex.com\nnameserver 127.0.0.11\noptions ndots:2\n', '--dns servers are the resolver\'s upstreams, not resolv.conf\'s');
  });

  it('without: the --dns servers or the host\'s reachable ones (Google\'s when none is left), --dns-search and --dns-option replacing the host\'s', async () => {
    assert.equal(await resolvConf(spec(), false, false, hostFile), 'search corp.example\nnameserver 10.0.0.2\noptions edns0\n');
    assert.equal(await resolvConf(spec({ dns: ['1.1.1.1'], dnsSearch: ['ex.com'], dnsOptions: ['ndots:2'] }), false, false, hostFile), 'search ex.com\nnameserver 1.1.1.1\noptions ndots:2\n');
    assert.equal(await resolvConf(spec(), false, false, host('nameserver 127.0.0.53\n')), 'nameserver 8.8.8.8\nnameserver 8.8.4.4\n');
    assert.equal(await resolvConf(spec(), true, false, hostFile), 'search corp.example\nnameserver 127.0.0.53\nnameserver 10.0.0.2\noptions edns0\n', 'host mode: the host\'s file');
  });
});

describe('/etc/hosts lines, link variables, --add-host, --link', () => {
  it('parseExtraHost() and parseLink() take Docker\'s forms and refuse the rest in its words', () => {
    assert.deepEqual(parseExtraHost('db:10.1.2.3'), { name: 'db', ip: '10.1.2.3' });
    assert.deepEqual(parseExtraHost('gw:host-gateway'), { name: 'gw', ip: 'host-gateway' });
    assert.throws(() => parseExtraHost('nocolon'), /bad format for add-host: "nocolon"/);
    assert.throws(() => parseExtraHost('x:notanip'), /invalid IP address in add-host: "notanip"/);
    assert.deepEqual(parseLink('web:db'), { target: 'web', alias: 'db' });
    assert.deepEqual(parseLink('web'), { target: 'web', alias: 'web' });
    assert.deepEqual(parseLink('/web:/cli/db'), { target: 'web', alias: 'db' }, 'the form inspect shows');
  });

  it('hostsLines(): extra hosts (host-gateway resolved), links, then its own address with hostname.domain', () => {
    const target = ctr('web');
    const eps = [{ ip: '172.18.0.3' }] as Endpoint[];
    const s = spec({ extraHosts: ['db:10.1.2.3', 'gw:host-gateway'], domainname: 'ex.test' });
    assert.deepEqual(hostsLines(s, eps, [{ link: { target: target.id, alias: 'site' }, target, ip: '172.17.0.4' }], '172.18.0.1'), [
      '10.1.2.3\tdb', '172.18.0.1\tgw', `172.17.0.4\tsite ${target.id.slice(0, 12)} web`, '172.18.0.3\th1.ex.test h1',
    ]);
  });

  it('linkEnv(): Docker\'s legacy variables, ports sorted, the target\'s environment but HOME and PATH', () => {
    const target = ctr('web', { spec: spec({ exposedPorts: ['90/udp', '80/tcp'], portBindings: [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 0, containerPort: 80 }], env: ['PATH=/x', 'COLOR=blue', 'HOME=/root'] }) });
    assert.deepEqual(linkEnv(ctr('cli'), { link: { target: target.id, alias: 'my-site' }, target, ip: '172.17.0.4' }), [
      'MY_SITE_PORT=tcp://172.17.0.4:80',
      'MY_SITE_PORT_80_TCP=tcp://172.17.0.4:80', 'MY_SITE_PORT_80_TCP_ADDR=172.17.0.4', 'MY_SITE_PORT_80_TCP_PORT=80', 'MY_SITE_PORT_80_TCP_PROTO=tcp',
      'MY_SITE_PORT_90_UDP=udp://172.17.0.4:90', 'MY_SITE_PORT_90_UDP_ADDR=172.17.0.4', 'MY_SITE_PORT_90_UDP_PORT=90', 'MY_SITE_PORT_90_UDP_PROTO=udp',
      'MY_SITE_NAME=/cli/my-site', 'MY_SITE_ENV_COLOR=blue',
    ]);
  });

  it('hostGateway(): the gateway of the first network that is its own way out with a bridge, else the default bridge\'s', () => {
    const nets: Record<string, Network> = {
      ov: { id: 'ov', name: 'ov', driver: 'overlay', bridge: 'ov-1', gateway: '10.0.9.1', internal: false, options: {}, labels: {}, created: '' },
      gw: { id: 'gw', name: 'gwb', driver: 'bridge', bridge: 'gwb', gateway: '172.20.0.1', internal: false, options: {}, labels: {}, created: '' },
      mv: { id: 'mv', name: 'mv', driver: 'macvlan', gateway: '192.168.1.1', internal: false, options: {}, labels: {}, created: '' },
    };
    const self = (n: Network) => n.driver !== 'overlay';
    assert.equal(hostGateway([{ networkId: 'ov' }, { networkId: 'gw' }] as Endpoint[], (id) => nets[id], self, '172.17.0.1'), '172.20.0.1');
    assert.equal(hostGateway([{ networkId: 'mv' }] as Endpoint[], (id) => nets[id], self, '172.17.0.1'), '172.17.0.1', 'a macvlan gateway is not the host');
  });
});

describe('network mode records, published ports, sysctls', () => {
  it('attachments(): a container that left every network has none, and keeps its network mode', () => {
    assert.deepEqual(attachments(spec({ networks: {} })), ['n1'], 'an older record without endpoint settings: its network mode');
    assert.deepEqual(attachments(spec({ networks: {}, noNetworks: true })), []);
    assert.deepEqual(attachments(spec({ networks: { n2: { aliases: [] } } })), ['n2'], 'disconnected from its primary only');
  });

  it('withImageDefaults() adds the image\'s ExposedPorts; bindingsOf() gives -P one free host port per exposed port without a binding', () => {
    const s = withImageDefaults(spec({ exposedPorts: ['90/udp'], portBindings: [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 }] }), { ...emptyConfig(), exposedPorts: ['80/tcp', '443/tcp'] });
    assert.deepEqual(s.exposedPorts, ['90/udp', '80/tcp', '443/tcp']);
    assert.deepEqual(bindingsOf(s), s.portBindings, 'without -P only the -p bindings');
    assert.deepEqual(bindingsOf({ ...s, publishAll: true }), [
      { proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerPort: 80 },
      { proto: 'udp', hostIp: '', hostPort: 0, containerPort: 90 },
      { proto: 'tcp', hostIp: '', hostPort: 0, containerPort: 443 },
    ]);
  });

  it('checkSysctls(): namespaced settings only, net.* only with a namespace of its own', () => {
    assert.doesNotThrow(() => checkSysctls(spec({ sysctls: { 'net.core.somaxconn': '1024', 'kernel.shmmax': '1000' } })));
    assert.throws(() => checkSysctls(spec({ sysctls: { 'vm.swappiness': '1' } })), /sysctl 'vm.swappiness' is not whitelisted/);
    assert.throws(() => checkSysctls(spec({ networkMode: 'host', sysctls: { 'net.core.somaxconn': '1' } })), (e: unknown) => e instanceof EngineError && /not allowed in host network namespace/.test(e.message));
  });
});

describe('NetworkNames (what the embedded resolver answers)', () => {
  it('the asker\'s networks with embedded DNS only, NAME.NETWORK, link aliases for the asker only', async () => {
    const store = new SqliteStore(':memory:');
    const k = new FakeKernel();
    const bridge = new BridgeDriver(k, new StubFirewall(), store, { mtu: 1500, pools: DEFAULT_POOLS });
    const drivers = new Map<string, NetworkDriver>([['bridge', bridge]]);
    const n1 = await bridge.createNetwork({ id: '1'.repeat(64), name: 'n1', driver: 'bridge', internal: false, labels: {}, options: {} }, []);
    const n2 = await bridge.createNetwork({ id: '2'.repeat(64), name: 'n2', driver: 'bridge', internal: false, labels: {}, options: {} }, []);
    const def = await bridge.createNetwork({ id: '3'.repeat(64), name: 'bridge', driver: 'bridge', internal: false, labels: {}, options: { 'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.name': 'ctrnet0' } }, []);
    const add = (c: Container, net: Network, ip: string, aliases: string[] = []) => {
      if (!store.containers.get(c.id)) store.containers.insert(c);
      store.endpoints.lease({ id: `${c.name}-${net.name}`.padEnd(64, 'e'), containerId: c.id, networkId: net.id, ifName: 'eth0', hostIf: '', mac: '', aliases }, () => ip);
    };
    const web = ctr('web');
    const cli = ctr('cli', { spec: spec({ links: [{ target: 'web', alias: 'site' }] }) });
    const other = ctr('other');
    add(web, n1, '172.18.0.2', ['www']);
    add(web, def, '172.17.0.2');
    add(cli, n1, '172.18.0.3');
    add(cli, def, '172.17.0.3');
    add(other, n2, '172.19.0.2');
    add(other, def, '172.17.0.4');
    const names = new NetworkNames(store, drivers);
    assert.deepEqual(names.lookup(cli.id, 'www'), ['172.18.0.2']);
    assert.deepEqual(names.lookup(cli.id, 'web.n1'), ['172.18.0.2']);
    assert.deepEqual(names.lookup(cli.id, 'web.n2'), []);
    assert.deepEqual(names.lookup(cli.id, 'other'), [], 'only on the default bridge with cli: no names there');
    assert.deepEqual(names.lookup(cli.id, 'site'), ['172.18.0.2'], 'its link alias');
    assert.deepEqual(names.lookup(other.id, 'site'), [], 'another container\'s link');
    assert.equal(names.reverse(cli.id, '172.18.0.2'), 'web');
    assert.equal(names.reverse(other.id, '172.18.0.2'), undefined);
  });
});

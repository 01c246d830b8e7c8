import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EngineError } from '../../src/base/errors';
import { checkVolumeName, mountFromRequest, mountOrder, parseBind, parseMountFlag, parseVolumesFrom, tmpfsMount, validMountMode } from '../../src/base/mount-spec';
import { applyUpdate, checkResources, cpusetList, NO_RESOURCES, parseBytes, parseCpus, parseUlimit, settleResources } from '../../src/base/resources';
import { nextDelay, parseRestartFlag, restartPolicy, shouldRestart } from '../../src/base/restart-policy';
import { createRequest } from '../../src/api/dto/container';
import { updateRequest } from '../../src/api/dto/container-host';
import { volumeListFilter } from '../../src/api/dto/volume';

const says = (re: RegExp, code = 'INVALID_PARAMETER') => (e: unknown) => e instanceof EngineError && e.code === code && re.test(e.message);

test('parseBind() tells named volumes, bind mounts and anonymous volumes apart, with their modes', () => {
  assert.deepEqual(
    [parseBind('data:/var/lib/db'), parseBind('/srv/www/:/www:ro,rshared'), parseBind('/anon')].map((m) => [m.type, m.source, m.target, m.readOnly, m.mode, m.propagation, m.anonymous]),
    [
      ['volume', 'data', '/var/lib/db', false, '', '', false],
      ['bind', '/srv/www', '/www', true, 'ro,rshared', 'rshared', false],
      ['volume', '', '/anon', false, '', '', true],
    ],
  );
  assert.equal(parseBind('v:/x:nocopy').noCopy, true);
});

test('parseBind() refuses what Docker refuses, in its words', () => {
  assert.throws(() => parseBind('/a:/b:/c:/d'), says(/^invalid volume specification: '\/a:\/b:\/c:\/d'$/));
  assert.throws(() => parseBind('/tmp:/b:xx'), says(/^invalid mode: xx$/));
  assert.throws(() => parseBind('/tmp:rw'), says(/^invalid volume specification/));
  assert.throws(() => parseBind('/tmp:/b:ro,rw'), says(/^invalid mode: ro,rw$/), 'one rw mode only');
  assert.throws(() => parseBind('v:rel'), says(/must be absolute/));
  assert.throws(() => parseBind('v:/x:rshared'), says(/invalid mode/), 'propagation is for binds');
  assert.equal(validMountMode('ro,z,nocopy,cached'), true);
});

test('checkVolumeName() allows what reaches the filesystem safely, in Docker\'s words', () => {
  for (const ok of ['ab', 'db-data_1.v', 'A0']) checkVolumeName(ok);
  assert.throws(() => checkVolumeName('a'), says(/^create a: volume name is too short, names should be at least two alphanumeric characters$/));
  for (const bad of ['bad/name', 'bad name', '../x', '.hidden', 'x'.repeat(256), 'a\nb']) {
    assert.throws(() => checkVolumeName(bad), says(/includes invalid characters for a local volume name/), bad);
  }
});

test('mountFromRequest() checks HostConfig.Mounts entries as Docker does and keeps tmpfs options', () => {
  const r = (o: object) => mountFromRequest({ type: 'volume', source: '', target: '/x', readOnly: false, has: {}, ...o });
  assert.throws(() => r({ type: 'nosuch' }), says(/^invalid mount config for type "nosuch": mount type unknown$/));
  assert.throws(() => r({ target: '' }), says(/^invalid mount config for type "volume": field Target must not be empty$/));
  assert.throws(() => r({ type: 'bind' }), says(/field Source must not be empty/));
  assert.throws(() => r({ type: 'bind', source: '/a', has: { volumeOptions: true } }), says(/field VolumeOptions must not be specified/));
  assert.throws(() => r({ type: 'tmpfs', source: 'x' }), says(/field Source must not be specified/));
  assert.equal(r({ type: 'tmpfs', tmpfsSize: 1048576, tmpfsMode: 0o1770, has: { tmpfsOptions: true } }).tmpfsOptions, 'mode=1770,size=1m');
  assert.equal(r({ source: '' }).anonymous, true);
  assert.deepEqual(r({ source: 'vv', labels: { a: 'b' } }).volumeLabels, { a: 'b' });
});

test('parseMountFlag() reads the docker CLI\'s --mount syntax', () => {
  assert.deepEqual(parseMountFlag('type=bind,src=/a,dst=/b,readonly,bind-propagation=rslave'), {
    type: 'bind', source: '/a', target: '/b', readOnly: true, propagation: 'rslave', has: { bindOptions: true },
  });
  const v = parseMountFlag('type=volume,source=v,target=/d,volume-label=x=1,volume-opt=type=tmpfs,volume-nocopy');
  assert.deepEqual([v.labels, v.driverOptions, v.noCopy], [{ x: '1' }, { type: 'tmpfs' }, true]);
  assert.equal(parseMountFlag('type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777').tmpfsSize, 64 << 20);
  assert.throws(() => parseMountFlag('type=bind,nosuch=1'), says(/unexpected key 'nosuch'/));
});

test('tmpfsMount() and parseVolumesFrom() check their paths and modes', () => {
  assert.throws(() => tmpfsMount('rel', ''), says(/^invalid mount path: 'rel' mount path must be absolute$/));
  assert.throws(() => tmpfsMount('/', ''), says(/cannot be mounted on \//));
  assert.equal(tmpfsMount('/run/', 'size=2m,ro').readOnly, true);
  assert.deepEqual(parseVolumesFrom('db:ro'), { container: 'db', mode: 'ro' });
  assert.throws(() => parseVolumesFrom('db:xx'), says(/invalid mode/));
});

test('mountOrder() mounts a parent before what is mounted inside it', () => {
  assert.deepEqual(mountOrder([{ target: '/a/b/c' }, { target: '/a' }, { target: '/a/b' }]).map((m) => m.target), ['/a', '/a/b', '/a/b/c']);
});

test('parseBytes(), parseCpus(), parseUlimit() and cpusetList() read Docker\'s strings', () => {
  assert.deepEqual([parseBytes('64m'), parseBytes('1.5g'), parseBytes('512k'), parseBytes('100'), parseBytes('2MB')], [64 << 20, 1.5 * 2 ** 30, 512 << 10, 100, 2 << 20]);
  assert.throws(() => parseBytes('64x'), says(/invalid size: '64x'/));
  assert.equal(parseCpus('0.5'), 5e8);
  assert.deepEqual(parseUlimit('nofile=100:200'), { name: 'nofile', soft: 100, hard: 200 });
  assert.throws(() => parseUlimit('nofile=200:100'), says(/^ulimit soft limit must be less than or equal to hard limit: 200 > 100$/));
  assert.throws(() => parseUlimit('nosuch=1'), says(/^invalid ulimit type: nosuch$/));
  assert.deepEqual(cpusetList('0-2,4'), [0, 1, 2, 4]);
  assert.equal(cpusetList('2-1'), undefined);
});

test('checkResources() refuses what Docker refuses at create, in its words', () => {
  const r = (o: object) => checkResources({ ...NO_RESOURCES, ...o }, 2);
  assert.throws(() => r({ memory: 1 << 20 }), says(/^Minimum memory limit allowed is 6MB$/));
  assert.throws(() => r({ memory: 64 << 20, memorySwap: 32 << 20 }), says(/^Minimum memoryswap limit should be larger than memory limit, see usage$/));
  assert.throws(() => r({ memorySwap: 32 << 20 }), says(/You should always set the Memory limit/));
  assert.throws(() => r({ nanoCpus: 64e9 }), says(/^Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available$/));
  assert.throws(() => r({ cpusetCpus: '63' }), says(/^Requested CPUs are not available - requested 63, available: 0-1$/));
  assert.throws(() => r({ cpusetCpus: '0-x' }), says(/^Invalid value 0-x for cpuset cpus$/));
  assert.throws(() => r({ nanoCpus: 1e9, cpuQuota: 50000 }), says(/Nano CPUs and CPU Quota cannot both be set/));
  assert.throws(() => r({ cpuShares: -1 }), says(/cannot be negative/));
  r({ memory: 64 << 20, memorySwap: -1, nanoCpus: 5e8, cpusetCpus: '0-1', pidsLimit: 50 });
  assert.equal(settleResources({ ...NO_RESOURCES, memory: 64 << 20 }).memorySwap, 128 << 20, 'swap defaults to the memory again');
});

test('applyUpdate() follows Docker\'s update rules', () => {
  const cur = { ...NO_RESOURCES, memory: 64 << 20, memorySwap: 128 << 20 };
  assert.equal(applyUpdate(cur, { memory: 100 << 20 }, 'c').memory, 100 << 20, 'below the current memory+swap');
  assert.throws(() => applyUpdate(cur, { memory: 200 << 20 }, 'c'), says(/^Cannot update container c: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time$/, 'UPDATE_CONFLICT'));
  assert.equal(applyUpdate(cur, { memory: 200 << 20, memorySwap: 400 << 20 }, 'c').memorySwap, 400 << 20);
  assert.throws(() => applyUpdate(cur, { memory: 1024 }, 'c'), says(/^Minimum memory limit allowed is 6MB$/), 'the size first, as Docker');
  assert.equal(applyUpdate({ ...cur, pidsLimit: 30 }, { pidsLimit: -1 }, 'c').pidsLimit, 0, 'a limit taken away');
  assert.throws(() => applyUpdate({ ...cur, nanoCpus: 5e8 }, { cpuQuota: 50000 }, 'c'), says(/CPU Quota cannot be updated/, 'UPDATE_CONFLICT'));
});

test('restartPolicy(), parseRestartFlag(), shouldRestart() and nextDelay(): Docker\'s rules', () => {
  assert.deepEqual(parseRestartFlag('on-failure:3'), { name: 'on-failure', maxRetries: 3 });
  assert.deepEqual(restartPolicy('', 0), { name: 'no', maxRetries: 0 });
  assert.throws(() => restartPolicy('always', 3), says(/^maximum retry count cannot be used with restart policy 'always'$/));
  assert.throws(() => restartPolicy('sometimes', 0), says(/^invalid restart policy 'sometimes'$/));
  assert.throws(() => restartPolicy('on-failure', -1), says(/^maximum retry count cannot be negative$/));
  assert.throws(() => restartPolicy('always', 0, true), says(/^can't create 'AutoRemove' container with restart policy$/, 'CONFLICTING_OPTIONS'));
  const p = (s: string) => parseRestartFlag(s);
  assert.deepEqual(
    [shouldRestart(p('always'), 0, 9, true), shouldRestart(p('unless-stopped'), 1, 0, true), shouldRestart(p('unless-stopped'), 0, 0, false), shouldRestart(p('on-failure:2'), 1, 1, false), shouldRestart(p('on-failure:2'), 1, 2, false), shouldRestart(p('on-failure'), 0, 0, false), shouldRestart(p('no'), 1, 0, false)],
    [true, false, true, true, false, false, false],
  );
  const delays: number[] = [];
  for (let i = 0, d = 0; i < 12; i++) delays.push((d = nextDelay(d, 50)));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(nextDelay(51200, 10_000), 100, 'a run of 10 s resets the delay');
});

test('createRequest() reads mounts, the restart policy, the health check and limits', () => {
  const { spec } = createRequest({
    Image: 'busybox', Cmd: ['true'], Volumes: { '/anon': {} }, Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: 2 },
    HostConfig: {
      Binds: ['data:/d', '/host:/h:ro'], Tmpfs: { '/t': 'size=2m' }, VolumesFrom: ['other:ro'], ReadonlyRootfs: true,
      Mounts: [{ Type: 'bind', Source: '/b', Target: '/b2', ReadOnly: true }],
      RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 3 }, Memory: 64 << 20, NanoCpus: 5e8, PidsLimit: 50, Ulimits: [{ Name: 'nofile', Soft: 100, Hard: 200 }],
    },
  });
  assert.deepEqual(spec.mounts!.map((m) => [m.origin, m.type, m.target]), [['binds', 'volume', '/d'], ['binds', 'bind', '/h'], ['mounts', 'bind', '/b2'], ['tmpfs', 'tmpfs', '/t'], ['volumes', 'volume', '/anon']]);
  assert.deepEqual([spec.binds, spec.tmpfs, spec.volumesFrom, spec.volumes, spec.readonlyRootfs], [['data:/d', '/host:/h:ro'], { '/t': 'size=2m' }, ['other:ro'], ['/anon'], true]);
  assert.deepEqual(spec.restartPolicy, { name: 'on-failure', maxRetries: 3 });
  assert.deepEqual(spec.healthcheck, { test: ['CMD-SHELL', 'true'], intervalNs: 1e9, timeoutNs: 0, startPeriodNs: 0, retries: 2 });
  assert.deepEqual([spec.resources!.memory, spec.resources!.nanoCpus, spec.resources!.pidsLimit, spec.resources!.ulimits], [64 << 20, 5e8, 50, [{ name: 'nofile', soft: 100, hard: 200 }]]);
  assert.equal(createRequest({ Image: 'busybox', Cmd: ['true'] }).spec.mounts, undefined, 'nothing asked: nothing stored');
  assert.throws(() => createRequest({ Image: 'b', Healthcheck: { Test: ['CMD', 'x'], Interval: 100 } }), says(/^Interval in Healthcheck cannot be less than 1ms$/));
  assert.throws(() => createRequest({ Image: 'b', Healthcheck: { Test: ['CMD', 'x'], Retries: -1 } }), says(/^Retries in Healthcheck cannot be negative$/));
});

test('updateRequest() keeps what the docker CLI sends as zero or empty unchanged', () => {
  const body = { CpuShares: 0, Memory: 33554432, MemorySwap: 0, PidsLimit: null, RestartPolicy: { Name: '', MaximumRetryCount: 0 } };
  assert.deepEqual(updateRequest(body), { resources: { memory: 33554432 }, policy: undefined });
  assert.deepEqual(updateRequest({ PidsLimit: 30, RestartPolicy: { Name: 'always' } }), { resources: { pidsLimit: 30 }, policy: { name: 'always', maxRetries: 0 } });
});

test('volumeListFilter() takes Docker\'s keys and refuses others in its words', () => {
  assert.deepEqual(volumeListFilter({ dangling: ['1'], label: ['a=b'] }), { names: [], labels: ['a=b'], drivers: [], dangling: true });
  assert.throws(() => volumeListFilter({ nosuch: ['x'] }), says(/^Invalid filter 'nosuch'$/));
  assert.throws(() => volumeListFilter({ dangling: ['x'] }), says(/^Invalid filter 'dangling=\[x\]'$/));
});

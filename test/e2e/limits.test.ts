/**
 * Resource limits as a user sees them, through the real docker CLI against ctrnetd in test host
 * "a": a memory hog is OOM-killed at its --memory (exit 137, OOMKilled), --pids-limit stops a fork
 * bomb, the container reads its limits in its own cgroup, and `docker update` changes them live.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { LabHost } from '../../scripts/lab';
import { assertNoLeftovers, dockerOn } from './_util';

let a: LabHost;

const { docker, ok, inspect } = dockerOn(() => a);
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** What a container reads of its cgroup (v1 here; the v2 names where v1 has none). */
const CGROUP = 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpuset/cpuset.cpus /sys/fs/cgroup/pids/pids.max';

before(async () => {
  assert.equal(spawnSync('docker', ['--version']).status, 0, 'the docker CLI must be on PATH for these tests');
  a = await LabHost.create('lim');
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  assertNoLeftovers([a].filter(Boolean));
});

describe('resource limits', () => {
  it('a memory hog is OOM-killed at its --memory: exit 137, OOMKilled', async () => {
    const r = await docker(['run', '--name', 'hog', '-m', '32m', '--memory-swap', '32m', 'busybox', 'sh', '-c', 'x=aaaaaaaaaaaaaaaa; while true; do x=$x$x; done'], { timeoutMs: 60_000 });
    assert.equal(r.code, 137, r.stderr);
    const c = await inspect('hog');
    assert.deepEqual([c.State.Status, c.State.ExitCode, c.State.OOMKilled], ['exited', 137, true]);
    assert.deepEqual([c.HostConfig.Memory, c.HostConfig.MemorySwap], [32 << 20, 32 << 20]);
    // The same container started again runs with a clean slate: no OOM kill while it runs.
    await ok(['rm', 'hog']);
    await ok(['run', '--name', 'calm', '-m', '32m', 'busybox', 'true']);
    assert.equal((await inspect('calm')).State.OOMKilled, false);
    assert.equal((await inspect('calm')).HostConfig.MemorySwap, 64 << 20, 'swap defaults to the memory again, as Docker');
    await ok(['rm', 'calm']);
  });

  it('--pids-limit stops a fork bomb; the host is not touched', async () => {
    // 200 processes asked for, 20 allowed: forks fail inside (busybox's sh gives up at the first);
    // the container then reads its pids.current with builtins only (a fork would fail too).
    const bomb = 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done';
    const r = await docker(['run', '--rm', '--pids-limit', '20', 'busybox', 'sh', '-c', `(${bomb}) 2>/dev/null; read n < /sys/fs/cgroup/pids/pids.current; read m < /sys/fs/cgroup/pids/pids.max; echo $n $m; kill -9 -1`], { timeoutMs: 60_000 });
    const [current, max] = r.stdout.trim().split(' ');
    assert.equal(max, '20', r.stderr);
    assert.ok(Number(current) >= 15 && Number(current) <= 20, `forks up to the limit, not beyond: ${current} processes`);
    const host = await docker(['run', '--rm', 'busybox', 'sh', '-c', 'for i in $(seq 50); do sleep 1 & done; wait; echo done']);
    assert.equal(host.stdout, 'done\n', 'other containers fork as they like');
  });

  it('the container reads its limits in its cgroup; docker update changes them live, and HostConfig shows them', async () => {
    await ok(['run', '-d', '--name', 'lim', '-m', '64m', '--memory-swap', '128m', '--cpus', '0.5', '--cpu-shares', '512', '--cpuset-cpus', '0', '--pids-limit', '50', '--ulimit', 'nofile=100:200', '--shm-size', '32m', '--restart', 'on-failure:2', 'busybox', 'sleep', '600']);
    assert.deepEqual((await ok(['exec', 'lim', 'sh', '-c', CGROUP])).trim().split('\n'), [String(64 << 20), String(128 << 20), '50000', '512', '0', '50']);
    assert.deepEqual((await ok(['exec', 'lim', 'sh', '-c', 'ulimit -Sn; ulimit -Hn; df -k /dev/shm | tail -1'])).trim().split(/\s+/).slice(0, 4), ['100', '200', 'shm', '32768']);
    const hc = (await inspect('lim')).HostConfig;
    assert.deepEqual([hc.Memory, hc.MemorySwap, hc.NanoCpus, hc.CpuShares, hc.CpusetCpus, hc.PidsLimit, hc.ShmSize, hc.Ulimits], [64 << 20, 128 << 20, 5e8, 512, '0', 50, 32 << 20, [{ Name: 'nofile', Hard: 200, Soft: 100 }]]);
    await ok(['update', '--memory', '32m', '--memory-swap', '64m', '--cpu-shares', '256', '--pids-limit', '30', '--cpus', '1', '--restart', 'always', 'lim']);
    assert.deepEqual((await ok(['exec', 'lim', 'sh', '-c', CGROUP])).trim().split('\n'), [String(32 << 20), String(64 << 20), '100000', '256', '0', '30'], 'changed in the running container');
    const after = (await inspect('lim')).HostConfig;
    assert.deepEqual([after.Memory, after.MemorySwap, after.CpuShares, after.PidsLimit, after.NanoCpus, after.RestartPolicy], [32 << 20, 64 << 20, 256, 30, 1e9, { Name: 'always', MaximumRetryCount: 0 }]);
    // Docker's rules and words
    const up = await docker(['update', '--memory', '100m', 'lim']);
    assert.match(up.stderr, /Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/);
    assert.match((await docker(['run', '--rm', '-m', '1m', 'busybox', 'true'])).stderr, /Minimum memory limit allowed is 6MB/);
    assert.match((await docker(['run', '--rm', '--cpus', '64', 'busybox', 'true'])).stderr, /Range of CPUs is from 0.01 to \d+\.00, as there are only \d+ CPUs available/);
    // A stopped container's limits are updated in its record and apply at its next start.
    await ok(['stop', '-t', '1', 'lim']);
    await ok(['update', '--pids-limit', '40', 'lim']);
    await ok(['start', 'lim']);
    assert.equal((await ok(['exec', 'lim', 'cat', '/sys/fs/cgroup/pids/pids.max'])).trim(), '40');
    await ok(['rm', '-f', 'lim']);
  });

  it('ctrnet\'s CLI takes the same flags', async () => {
    const out = await a.ctl(['run', '--rm', '-m', '48m', '--pids-limit', '12', '--cpus', '0.25', 'busybox', 'sh', '-c', 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us']);
    assert.deepEqual(out.trim().split('\n'), [String(48 << 20), '12', '25000']);
  });
});

/**
 * Crash at any moment, lose nothing, leak nothing: 200 operations from 4 concurrent clients while
 * the daemon is SIGKILLed at random moments (at least 20 times) and restarted each time. Some
 * containers have `--restart always`, and their processes are killed from the host now and then
 * (also while no daemon runs). Then the invariants, checked with independent tools: every address
 * held by at most one container; every running container answers on its address and its
 * published ports; every kernel object of ours (namespaces, veths, bridges, nftables elements,
 * runc containers) is explained by what `ps` and `network ls` show, and nothing they show is
 * missing; every container with a restart policy runs, and ran exactly once more than its
 * process was killed (no exit answered by two starts, none by no start).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { LabHost, sh } from '../../scripts/lab';
import { assertNoLeftovers, PAGE, until, wget } from './_util';

let a: LabHost;
const HOST_IP = '10.217.0.1';

before(async () => {
  a = await LabHost.create('chaos');
  await a.run(['ip', 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'up1']);
  await a.run(['ip', 'link', 'set', 'up1', 'up']);
  await a.run(['ip', 'addr', 'add', `${HOST_IP}/24`, 'dev', 'up0']);
  await a.run(['ip', 'link', 'set', 'up0', 'up']);
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  assertNoLeftovers([a].filter(Boolean));
});

/** A small deterministic PRNG, so a failing run can be replayed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('chaos', () => {
  it('200 operations, at least 20 SIGKILLs of the daemon: the invariants hold afterwards', async () => {
    const rand = rng(20261129);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)];
    const names = Array.from({ length: 24 }, (_, i) => `c${i}`);
    const nets = ['n1', 'n2', 'n3'];
    let ops = 0;
    let ok = 0;
    let kills = 0;
    let done = false;
    /** container id → how many times its process was killed from the host */
    const crashes = new Map<string, number>();
    const always = new Set<string>();
    /** names of containers a `run` started */
    const started: string[] = [];

    const client = async (id: number) => {
      for (let i = 0; i < 50; i++) {
        const r = rand();
        const name = pick(names);
        let args: string[];
        if (r < 0.4) {
          const port = rand() < 0.5 ? ['-p', `${20000 + id * 100 + i}:80`] : [];
          const net = rand() < 0.4 ? ['--network', pick(nets)] : [];
          const policy = rand() < 0.4 ? ['--restart', 'always'] : [];
          args = ['run', '-d', '--name', name, ...port, ...net, ...policy, 'busybox', 'sh', '-c', 'echo started; exec httpd -f -p 80 -h /var/www'];
          const res = await a.cli(args, { timeoutMs: 30_000 });
          ops++;
          if (res.code === 0) ok++;
          if (policy.length && /^[0-9a-f]{64}$/.test(res.stdout.trim())) always.add(res.stdout.trim());
          if (res.code === 0) started.push(name);
          continue;
        } else if (r < 0.52) {
          // A crash of the container's process (SIGKILL from the host), whatever its policy.
          // A container that was started (asked again while the daemon is down: the crash is what this op is about).
          const victim = started.length ? pick(started) : name;
          let res = await a.cli(['inspect', '-f', '{{.Id}} {{.State.Pid}}', victim], { timeoutMs: 30_000 });
          for (let t = 0; t < 8 && res.code !== 0 && !/No such/.test(res.stderr); t++) {
            await new Promise((w) => setTimeout(w, 250));
            res = await a.cli(['inspect', '-f', '{{.Id}} {{.State.Pid}}', victim], { timeoutMs: 30_000 });
          }
          ops++;
          const [cid, pid] = res.stdout.trim().split(' ');
          if (res.code !== 0 || !(Number(pid) > 0)) continue;
          ok++;
          try {
            // Only a process in that container's cgroup: never a host process that reused the PID.
            if (!readFileSync(`/proc/${pid}/cgroup`, 'utf8').includes(`/ctrnet/${cid}`)) continue;
            process.kill(Number(pid), 'SIGKILL');
            crashes.set(cid, (crashes.get(cid) ?? 0) + 1);
          } catch {
            // gone meanwhile (removed, or restarting): no crash of ours
          }
          continue;
        } else if (r < 0.65) args = ['rm', '-f', name];
        else if (r < 0.75) args = ['network', 'create', pick(nets)];
        else if (r < 0.82) args = ['network', 'rm', pick(nets)];
        else if (r < 0.92) args = ['network', 'connect', pick(nets), name];
        else args = ['network', 'disconnect', pick(nets), name];
        const res = await a.cli(args, { timeoutMs: 30_000 });
        ops++;
        if (res.code === 0) ok++;
      }
    };
    const killer = async () => {
      while (!done || kills < 20) {
        await new Promise((r) => setTimeout(r, 400 + rand() * 1200));
        await a.stopDaemon('SIGKILL');
        kills++;
        await a.startDaemon();
      }
    };
    const k = killer();
    await Promise.all([0, 1, 2, 3].map(client));
    done = true;
    await k;
    // One last restart without interference: the state every check below starts from, once the
    // restarts it owes have happened.
    await a.stopDaemon('SIGKILL');
    await a.startDaemon();
    await until(async () => !/Restarting/.test((await a.ctl(['ps', '-a'])).toString()), 20_000, 'no container waiting for its restart');

    // ---------------------------------------------------------------- invariants
    const ids = (await a.ctl(['ps', '-q'])).split('\n').filter(Boolean);
    const info: Json[] = ids.length ? JSON.parse((await a.cli(['inspect', ...ids])).stdout) : [];
    const networks: Json[] = JSON.parse(await a.ctl(['network', 'inspect', ...(await a.ctl(['network', 'ls'])).split('\n').slice(1).map((l) => l.split(/\s+/)[1]).filter(Boolean)]));

    // 1. every address held by at most one container, per network, in the store and in the kernel
    let addresses = 0;
    for (const n of networks) {
      const ips = Object.values(n.Containers as Record<string, Json>).map((c) => c.IPv4Address);
      addresses += ips.length;
      assert.equal(new Set(ips).size, ips.length, `duplicate address on ${n.Name}: ${ips.join(' ')}`);
    }
    const kernelIps: string[] = [];
    for (const c of info) {
      const out = await a.run(['nsenter', `--net=${c.NetworkSettings.SandboxKey}`, 'ip', '-o', '-4', 'addr', 'show', 'scope', 'global']);
      kernelIps.push(...[...out.matchAll(/inet ([\d.]+)\//g)].map((m) => m[1]));
    }
    assert.equal(new Set(kernelIps).size, kernelIps.length, `an address is configured in two namespaces: ${kernelIps.join(' ')}`);

    // 2. every running container answers on its addresses and published ports
    let answered = 0;
    for (const c of info) {
      for (const ep of Object.values(c.NetworkSettings.Networks as Record<string, Json>)) {
        const net = networks.find((n) => n.Name === (Object.entries(c.NetworkSettings.Networks).find(([, v]) => v === ep)?.[0]));
        if (net?.Internal) continue;
        assert.match((await wget(a, `http://${ep.IPAddress}/`)).body, PAGE, `${c.Name} on ${ep.IPAddress}`);
        answered++;
      }
      for (const [, binds] of Object.entries((c.NetworkSettings.Ports ?? {}) as Record<string, Json[] | null>)) {
        for (const b of binds ?? []) {
          assert.match((await wget(a, `http://${HOST_IP}:${b.HostPort}/`)).body, PAGE, `${c.Name} on port ${b.HostPort}`);
          answered++;
        }
      }
    }

    // 3. nothing of ours in the kernel that ps / network ls do not explain, and nothing missing
    const netnsFiles = readdirSync(`${a.execRoot}/netns`).map((f) => `${a.execRoot}/netns/${f}`).sort();
    assert.deepEqual(netnsFiles, info.map((c) => c.NetworkSettings.SandboxKey).sort(), 'network namespaces');
    const links = JSON.parse(await a.run(['ip', '-j', 'link', 'show'])) as { ifname: string; master?: string }[];
    const bridges = networks.filter((n) => n.Driver === 'bridge').map((n) => n.Options['com.docker.network.bridge.name'] ?? `br-${n.Id.slice(0, 12)}`);
    assert.deepEqual(links.filter((l) => l.ifname === 'ctrnet0' || l.ifname.startsWith('br-')).map((l) => l.ifname).sort(), bridges.sort(), 'bridges');
    const vethPorts = links.filter((l) => l.ifname.startsWith('veth') && l.master && bridges.includes(l.master)).map((l) => l.ifname);
    const endpoints = networks.flatMap((n) => Object.values(n.Containers as Record<string, Json>)).length;
    assert.equal(vethPorts.length, endpoints, 'one veth per endpoint');
    assert.equal(links.filter((l) => l.ifname.startsWith('veth')).length, endpoints, 'no veth outside a bridge');
    const table = await a.run(['nft', '-j', 'list', 'table', 'ip', 'ctrnet']);
    const elements = (JSON.parse(table).nftables as Json[]).flatMap((o) => o.map?.elem ?? []).length;
    const published = info.flatMap((c) => Object.values((c.NetworkSettings.Ports ?? {}) as Record<string, Json[] | null>).flatMap((b) => b ?? [])).length;
    assert.equal(elements, published, 'nftables elements = published ports');
    const runc = (await sh(['runc', '--root', `${a.execRoot}/runc`, 'list', '-q'])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(runc, info.map((c) => c.Id).sort(), 'runc containers = running containers');

    // 4. every container with a restart policy runs, and started once more than it was crashed
    let policed = 0;
    for (const c of JSON.parse((await a.cli(['inspect', ...(await a.ctl(['ps', '-aq'])).split('\n').filter(Boolean)])).stdout || '[]') as Json[]) {
      if (c.HostConfig.RestartPolicy.Name !== 'always' || !always.has(c.Id)) continue;
      // A `run` the daemon's death cut short never started: no policy applies to it (Docker's rule).
      if (c.State.Status === 'created') continue;
      policed++;
      assert.equal(c.State.Status, 'running', `${c.Name}: a restart-always container runs`);
      const starts = (await a.ctl(['logs', c.Id])).split('\n').filter((l) => l === 'started').length;
      assert.equal(starts, 1 + (crashes.get(c.Id) ?? 0), `${c.Name}: ${starts} starts for ${crashes.get(c.Id) ?? 0} crashes`);
    }
    const crashed = [...crashes.values()].reduce((x, y) => x + y, 0);

    console.log(`# chaos: ${crashed} process crashes, ${policed} restart-always containers checked; ${ops} operations (${ok} succeeded), ${kills + 1} SIGKILLs survived; checked ${addresses} addresses, ${answered} answers, ${netnsFiles.length} namespaces, ${vethPorts.length} veths, ${bridges.length} bridges, ${elements} nft elements, ${runc.length} runc containers`);
    assert.ok(kills >= 20);
    assert.equal(ops, 200);
  });
});

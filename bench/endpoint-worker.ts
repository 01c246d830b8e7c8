/**
 * Runs inside a test host (the bench starts it with nsenter): sets up and tears down N bridge
 * endpoints with one published TCP port through ctrnet's BridgeDriver, exactly as the daemon
 * does (namespace, veth with its peer made inside, addresses, route, anti-spoofing and port-map
 * elements), and prints the per-endpoint times as JSON.
 *
 * Usage: node endpoint-worker.js N native|ip DIR [PORTS] [keep|once|probe] [v4|dual]
 *   native: ctrnet-kernel (netlink + libnftables in one long-lived process), the daemon's default
 *   ip:     the reference adapters (ip -batch and nft -f processes)
 *   PORTS:  published TCP ports per endpoint (default 1)
 *   keep:   set up all N before tearing any down (the scale test: N endpoints live at once)
 *   dual:   a dual-stack network: the namespace made with IPv6 on, IPv4 and IPv6 addresses and
 *           default routes, anti-spoofing of both, each port published on 0.0.0.0 and :: (and
 *           relayed on [::1] when the host has it), as the daemon does
 *   probe:  set up all N, print "ready", then for each line "go" on stdin set up one more and tear
 *           it down, printing its setup time (ms) on a line; at EOF tear the N down. Two workers,
 *           one with N=0 and one with N=1000, probed in turn, compare the cost of an endpoint at
 *           1000 with the first while the machine's load hits both alike.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { BridgeDriver } from '../src/drivers/bridge-driver';
import { JoinRequest } from '../src/drivers/driver';
import { OPT_BRIDGE_NAME } from '../src/base/network-options';
import { SqliteStore } from '../src/state/sqlite-store';
import { NftFirewall } from '../src/firewall/nft/nft-firewall';
import { nativeNft } from '../src/firewall/nft/nft-native';
import { macFromIp } from '../src/ipam/ipam';
import { PortMapping } from '../src/base/model';
import { KernelHelper } from '../src/kernel/helper';
import { IpKernel } from '../src/kernel/ip-kernel';
import { NativeKernel } from '../src/kernel/native-kernel';
import { run } from '../src/kernel/exec';
import { ensureTmpfs } from '../src/kernel/tmpfs-dir';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

async function main(): Promise<void> {
  const [n, mode, dir] = [Number(process.argv[2]), process.argv[3], process.argv[4]];
  const perEndpoint = Number(process.argv[5] ?? 1);
  const probe = process.argv[6] === 'probe';
  const keep = process.argv[6] === 'keep' || probe;
  const dual = process.argv[7] === 'dual';
  const helper = mode === 'native' ? new KernelHelper() : undefined;
  // CTRNET_BENCH_PHASES=1: time each request to the helper by verb, printed on stderr at the end.
  const phases = new Map<string, number[]>();
  if (helper && process.env.CTRNET_BENCH_PHASES === '1') {
    const request = helper.request.bind(helper);
    helper.request = async (header: string, body?: string) => {
      const t = now();
      await request(header, body);
      const key = header.startsWith('nft') ? `nft ${body?.split(' ')[0]} ${body?.split(' ')[3]}` : header.startsWith('batch') ? `batch ${body?.split('\n')[0].split(' ')[0]}` : header.split(' ')[0];
      phases.set(key, [...(phases.get(key) ?? []), now() - t]);
    };
  }
  const kernel = helper ? new NativeKernel(helper) : new IpKernel();
  const firewall = new NftFirewall(helper ? nativeNft(helper) : undefined);
  // The driver's records in memory: the bench measures the kernel work, as the daemon does it.
  const store = new SqliteStore(':memory:');
  const driver = new BridgeDriver(kernel, firewall, store, { mtu: 1500, pools: [] });
  mkdirSync(dir, { recursive: true });
  // As the daemon keeps them (kernel/tmpfs-dir.ts): namespace files on tmpfs.
  const tmpfs = (await ensureTmpfs(dir)) === 'mounted';
  const net = await driver.createNetwork(
    { id: 'b'.repeat(64), name: 'bench', driver: 'bridge', subnet: '10.77.0.0/16', gateway: '10.77.0.1', internal: false, labels: {}, options: { [OPT_BRIDGE_NAME]: 'ctb0' }, ...(dual ? { ipv6: true, subnet6: 'fd00:77::/64' } : {}) },
    [],
  );
  const request = (i: number): JoinRequest => {
    const ip = `10.77.${(i + 2) >> 8}.${(i + 2) & 255}`;
    const ip6 = `fd00:77::${(i + 2).toString(16)}`;
    // Kept endpoints need host ports of their own; a one-at-a-time loop reuses 8080.
    const ports: PortMapping[] = Array.from({ length: perEndpoint }, (_, k) => ({ proto: 'tcp' as const, hostIp: '0.0.0.0', hostPort: keep ? 10000 + i * perEndpoint + k : 8080 + k, containerIp: ip, containerPort: 80 + k }));
    return {
      network: net,
      endpoint: { id: `e${i}`, containerId: `c${i}`.padEnd(64, '0'), networkId: net.id, ifName: 'eth0', hostIf: `vethb${i.toString(16).padStart(6, '0')}`, ip, mac: macFromIp(ip), aliases: [], ...(dual ? { ip6 } : {}) },
      containerName: `c${i}`,
      sandbox: `${dir}/ns${i}`,
      defaultRoute: true,
      ...(dual ? { sandboxIpv6: true } : {}),
      ports: dual ? [...ports, ...ports.map((p) => ({ ...p, hostIp: '::', containerIp: ip6 }))] : ports,
    };
  };
  const setup: number[] = [];
  const teardown: number[] = [];
  let current: JoinRequest | undefined;
  const live: JoinRequest[] = [];
  const down = async (req: JoinRequest) => {
    await driver.leave({ ...req, sandboxGoing: true });
    await kernel.netnsDel(req.sandbox);
  };
  try {
    for (let i = 0; i < n; i++) {
      const req = (current = request(i));
      const t0 = now();
      await kernel.netnsAdd(req.sandbox, { ipv6: dual });
      await driver.join(req);
      const t1 = now();
      if (i === 0) {
        // Untimed: the figure must be of a working endpoint. The host reaches the container's
        // address, and the published port is an element of the port map.
        await run(['ping', '-c1', '-W2', req.endpoint.ip]);
        const table = await run(['nft', 'list', 'map', 'ip', 'ctrnet', 'pub_any']);
        if (!new RegExp(`tcp \\. ${req.ports[0].hostPort} .*: ${req.endpoint.ip.replace(/\./g, '\\.')} \\. 80\\b`).test(table)) throw new Error(`port map lacks the published port:\n${table}`);
        if (dual) {
          await run(['ping', '-6', '-c1', '-W2', req.endpoint.ip6!]);
          const table6 = await run(['nft', 'list', 'map', 'ip6', 'ctrnet', 'pub_any']);
          if (!table6.includes(`: ${req.endpoint.ip6} . 80`)) throw new Error(`IPv6 port map lacks the published port:\n${table6}`);
        }
      }
      setup.push(t1 - t0);
      current = undefined;
      if (keep) {
        live.push(req);
        continue;
      }
      const t2 = now();
      await down(req);
      teardown.push(now() - t2);
    }
    if (probe) {
      phases.clear();
      process.stdout.write('ready\n');
      let k = n;
      for await (const line of createInterface({ input: process.stdin })) {
        if (line.trim() !== 'go') continue;
        const req = (current = request(k++));
        const t0 = now();
        await kernel.netnsAdd(req.sandbox, { ipv6: dual });
        await driver.join(req);
        const t1 = now();
        await down(req);
        current = undefined;
        process.stdout.write(`${(t1 - t0).toFixed(4)}\n`);
      }
    }
    while (live.length) {
      const t2 = now();
      await down(live[live.length - 1]);
      live.pop();
      teardown.push(now() - t2);
    }
  } finally {
    for (const req of live) await down(req).catch(() => {});
    if (current) await down(current).catch(() => {});
    await driver.deleteNetwork(net).catch(() => {});
    await firewall.removeAll().catch(() => {});
    helper?.stop();
    store.close();
    if (tmpfs) await run(['umount', dir]).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
  for (const [k, v] of phases) process.stderr.write(`${k}: first ${v.slice(0, 20).reduce((a, b) => a + b, 0) / Math.min(20, v.length)} ms, last ${v.slice(-20).reduce((a, b) => a + b, 0) / Math.min(20, v.length)} ms (${v.length})\n`);
  if (!probe) process.stdout.write(JSON.stringify({ setup, teardown }) + '\n');
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});

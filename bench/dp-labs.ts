/**
 * The test hosts of the data-plane section (4), built once and measured in interleaved rounds:
 *   - bare baselines: a raw veth pair; a client routed through a bare router namespace to a
 *     server (the path of a published port without any engine); the overlay's underlay;
 *   - ctrnet: a daemon host with two containers on the default bridge (one publishes 5201) and a
 *     client host routed through it; two daemon hosts on an underlay switch with etcd and an
 *     overlay network, a container on each;
 *   - Docker 20.10 (Debian's docker.io, dockerd in a test host, scripts/lab-docker.ts): the same
 *     on docker0, once with docker-proxy (the default) and once with `userland-proxy: false`; and
 *     a swarm of two test hosts (init/join over the underlay) with an attachable overlay network.
 * Every dockerd gets a mount namespace of its own (/run/docker, /run/containerd, /etc/docker on
 * tmpfs): several run at once. Containers are entered by /proc/PID/ns/net (Docker) or their
 * SandboxKey (ctrnet). Everything is removed by destroy(), also after a partial setup.
 */
import { LabHost, linkHosts, plugIntoSwitch, must } from '../scripts/lab';
import { DOCKER_HOST_PATHS, ensureDocker, LabDocker, MountNs, removeIfOurs, rootState, type RootState } from '../scripts/lab-docker';
import { addrIn, mtuIn, sandboxKey, SwitchLab } from './net-lab';
import { existsSync } from 'node:fs';

/** What a measured case needs: namespaces and the address to reach. */
export interface Pair {
  /** the iperf3 server's (and ping target's) namespace */
  serverNs: string;
  /** the client's (sender's) namespace */
  clientNs: string;
  /** the address the client connects to */
  addr: string;
  /** the port the client connects to, when it differs from the server's (published port) */
  port?: number;
  listenPort?: number;
  mtu?: number;
}

export const PORT = 5201;
const PUB = 5301;

/** Owns the hosts, dockerds and mount namespaces it made; destroy() undoes all of it in reverse. */
export class DataplaneLabs {
  private readonly undo: (() => Promise<unknown>)[] = [];
  private rootBefore?: RootState;
  private hadPath = new Map<string, boolean>();
  dockerVersion = '';

  private async host(label: string): Promise<LabHost> {
    const h = await LabHost.create(label);
    this.undo.push(() => h.destroy());
    return h;
  }

  /** Two bare namespaces joined by one veth pair. */
  async rawVeth(mtu = 1500): Promise<Pair> {
    const a = await this.host('dpra');
    const b = await this.host('dprb');
    await linkHosts(a, b, '10.233.0.1', '10.233.0.2', mtu);
    return { serverNs: b.netnsPath, clientNs: a.netnsPath, addr: '10.233.0.2', mtu };
  }

  /** client → bare router (forwarding, no firewall) → server: routing without any engine. */
  async bareRoute(): Promise<Pair> {
    const c = await this.host('dpbc');
    const r = await this.host('dpbr');
    const s = await this.host('dpbs');
    await linkHosts(c, r, '10.237.0.2', '10.237.0.1');
    await linkHosts(s, r, '10.237.1.2', '10.237.1.1');
    await r.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    return { serverNs: s.netnsPath, clientNs: c.netnsPath, addr: '10.237.1.2' };
  }

  /**
   * ctrnetd with c1 (publishing PUB → 5201) and c2 on the default bridge, a client host routed
   * through it. fastPath false: the daemon runs with CTRNET_FAST_PATH=off (every frame takes the bridge).
   */
  async ctrnetBridge(label: string, subnet: string, fastPath = true): Promise<{ host: LabHost; c2c: Pair; published: Pair; direct: Pair }> {
    const dp = await this.host(label);
    const cl = await this.host(`${label}cl`);
    await linkHosts(cl, dp, `${subnet}.2`, `${subnet}.1`);
    const had = process.env.CTRNET_FAST_PATH;
    if (!fastPath) process.env.CTRNET_FAST_PATH = 'off';
    try {
      await dp.startDaemon();
    } finally {
      if (had === undefined) delete process.env.CTRNET_FAST_PATH;
      else process.env.CTRNET_FAST_PATH = had;
    }
    await dp.ctl(['run', '-d', '--name', 'c1', '-p', `${PUB}:${PORT}`, 'busybox', 'sleep', '100000']);
    await dp.ctl(['run', '-d', '--name', 'c2', 'busybox', 'sleep', '100000']);
    const k1 = await sandboxKey(dp, 'c1');
    const k2 = await sandboxKey(dp, 'c2');
    const ip1 = await addrIn(k1);
    return {
      host: dp,
      c2c: { serverNs: k1, clientNs: k2, addr: ip1, mtu: await mtuIn(k1) },
      published: { serverNs: k1, clientNs: cl.netnsPath, addr: `${subnet}.1`, port: PUB, listenPort: PORT },
      direct: { serverNs: k1, clientNs: cl.netnsPath, addr: ip1 },
    };
  }

  /**
   * Two ctrnetd on an underlay switch with etcd, an overlay network, a container on each.
   * fastPath false: the daemons run with CTRNET_FAST_PATH=off (every frame takes the overlay bridges).
   */
  async ctrnetOverlay(label = 'dpo', prefix = '10.234.0', fastPath = true): Promise<{ lab: SwitchLab; over: Pair; under: Pair }> {
    const lab = new SwitchLab(label, prefix);
    this.undo.push(() => lab.destroy());
    const had = process.env.CTRNET_FAST_PATH;
    if (!fastPath) process.env.CTRNET_FAST_PATH = 'off';
    try {
      await lab.setup(2);
    } finally {
      if (had === undefined) delete process.env.CTRNET_FAST_PATH;
      else process.env.CTRNET_FAST_PATH = had;
    }
    const [h1, h2] = lab.hosts;
    await h1.ctl(['network', 'create', '-d', 'overlay', '--subnet', '10.0.19.0/24', 'ovbench']);
    await h1.ctl(['run', '-d', '--name', 'o1', '--network', 'ovbench', 'busybox', 'sleep', '100000']);
    await h2.ctl(['run', '-d', '--name', 'o2', '--network', 'ovbench', 'busybox', 'sleep', '100000']);
    const k1 = await sandboxKey(h1, 'o1');
    const k2 = await sandboxKey(h2, 'o2');
    const ip1 = await addrIn(k1);
    await reachable(k2, ip1);
    return { lab, over: { serverNs: k1, clientNs: k2, addr: ip1, mtu: await mtuIn(k1) }, under: { serverNs: h1.netnsPath, clientNs: h2.netnsPath, addr: lab.ip(0) } };
  }

  /**
   * The kernel's own overlay path without any engine: two hosts on a switch, in each a VXLAN
   * device (no learning, static FDB entries, as ctrnet's) on a bridge with a veth into a
   * "container" namespace. What encapsulation costs on this underlay, before any engine.
   */
  async bareVxlan(): Promise<{ over: Pair; under: Pair }> {
    const prefix = '10.227.0';
    const sw = await this.host('dpvxsw');
    const hs = [await this.host('dpvx1'), await this.host('dpvx2')];
    const cs = [await this.host('dpvxc1'), await this.host('dpvxc2')];
    const mac = (i: number) => `02:00:0a:e3:01:0${i + 1}`;
    for (let i = 0; i < 2; i++) {
      const h = hs[i];
      await plugIntoSwitch(sw, h, `${prefix}.${i + 1}`, `${prefix}.254`);
      await h.run(['ip', 'link', 'add', 'vx0', 'mtu', '1450', 'type', 'vxlan', 'id', '42', 'local', `${prefix}.${i + 1}`, 'dstport', '4789', 'nolearning']);
      await h.run(['ip', 'link', 'add', 'ov0', 'mtu', '1450', 'type', 'bridge']);
      await h.run(['ip', 'link', 'set', 'vx0', 'master', 'ov0']);
      // The "container": a veth whose host end is a port of ov0 (no address), its own end eth0.
      await must(['ip', 'link', 'add', 'eth0', 'netns', cs[i].ns, 'mtu', '1450', 'address', mac(i), 'type', 'veth', 'peer', 'name', 'port0', 'netns', h.ns, 'mtu', '1450']);
      await cs[i].run(['ip', 'addr', 'add', `10.226.0.${i + 1}/24`, 'dev', 'eth0']);
      await cs[i].run(['ip', 'link', 'set', 'eth0', 'up']);
      await h.run(['ip', 'link', 'set', 'port0', 'master', 'ov0']);
      await h.run(['ip', 'link', 'set', 'port0', 'up']);
      for (const d of ['vx0', 'ov0']) await h.run(['ip', 'link', 'set', d, 'up']);
    }
    for (let i = 0; i < 2; i++) {
      const o = 1 - i;
      await hs[i].run(['bridge', 'fdb', 'append', mac(o), 'dev', 'vx0', 'dst', `${prefix}.${o + 1}`, 'self', 'permanent']);
      await cs[i].run(['ip', 'neigh', 'replace', `10.226.0.${o + 1}`, 'lladdr', mac(o), 'dev', 'eth0']);
    }
    await reachable(cs[1].netnsPath, '10.226.0.1');
    return { over: { serverNs: cs[0].netnsPath, clientNs: cs[1].netnsPath, addr: '10.226.0.1', mtu: 1450 }, under: { serverNs: hs[0].netnsPath, clientNs: hs[1].netnsPath, addr: `${prefix}.1` } };
  }

  /** docker.io installed, the root namespace's state kept to compare at the end; an error text when Docker cannot run. */
  async dockerReady(): Promise<string | undefined> {
    this.rootBefore = rootState();
    this.hadPath = new Map(DOCKER_HOST_PATHS.map((p) => [p, existsSync(p)]));
    return ensureDocker();
  }

  private async dockerd(h: LabHost, daemonJson: Record<string, unknown> = {}): Promise<LabDocker> {
    const mnt = await MountNs.create(h);
    this.undo.push(() => mnt.destroy());
    const dk = new LabDocker(h, { mountNs: mnt, daemonJson });
    this.undo.push(() => dk.stop());
    const v = await dk.start();
    if (v.clientApi !== v.serverApi) throw new Error(`docker CLI ${v.clientVersion} speaks API ${v.clientApi}, dockerd ${v.serverVersion} ${v.serverApi}`);
    this.dockerVersion = `docker.io ${v.serverVersion} (API ${v.serverApi})`;
    await dk.importBusybox();
    return dk;
  }

  /** dockerd with d1 (publishing PUB → 5201) and d2 on docker0, a client host routed through it. */
  async dockerBridge(label: string, subnet: string, daemonJson: Record<string, unknown>): Promise<{ dk: LabDocker; c2c: Pair; published: Pair }> {
    const h = await this.host(label);
    const cl = await this.host(`${label}cl`);
    await linkHosts(cl, h, `${subnet}.2`, `${subnet}.1`);
    const dk = await this.dockerd(h, daemonJson);
    await dk.must(['run', '-d', '--name', 'd1', '-p', `${PUB}:${PORT}`, 'busybox', 'sleep', '100000']);
    await dk.must(['run', '-d', '--name', 'd2', 'busybox', 'sleep', '100000']);
    const n1 = await dockerNs(dk, 'd1');
    const n2 = await dockerNs(dk, 'd2');
    const ip1 = await addrIn(n1);
    return {
      dk,
      c2c: { serverNs: n1, clientNs: n2, addr: ip1, mtu: await mtuIn(n1) },
      published: { serverNs: n1, clientNs: cl.netnsPath, addr: `${subnet}.1`, port: PUB, listenPort: PORT },
    };
  }

  /**
   * Two dockerd on an underlay switch: `swarm init` on the first, `swarm join` of the second, an
   * attachable overlay network, a container on each host.
   */
  async dockerSwarm(): Promise<{ over: Pair; under: Pair }> {
    const prefix = '10.238.0';
    const sw = await this.host('dpswsw');
    const hosts = [await this.host('dpsw1'), await this.host('dpsw2')];
    for (let i = 0; i < hosts.length; i++) await plugIntoSwitch(sw, hosts[i], `${prefix}.${i + 1}`, `${prefix}.254`);
    const [d1, d2] = [await this.dockerd(hosts[0]), await this.dockerd(hosts[1])];
    await d1.must(['swarm', 'init', '--advertise-addr', `${prefix}.1`, '--listen-addr', `${prefix}.1:2377`, '--default-addr-pool', '10.239.0.0/16'], 120_000);
    const token = (await d1.must(['swarm', 'join-token', '-q', 'worker'])).trim();
    await d2.must(['swarm', 'join', '--token', token, '--advertise-addr', `${prefix}.2`, '--listen-addr', `${prefix}.2:2377`, `${prefix}.1:2377`], 120_000);
    await d1.must(['network', 'create', '-d', 'overlay', '--attachable', '--subnet', '10.0.29.0/24', 'dpov']);
    await d1.must(['run', '-d', '--name', 'o1', '--network', 'dpov', 'busybox', 'sleep', '100000'], 120_000);
    await d2.must(['run', '-d', '--name', 'o2', '--network', 'dpov', 'busybox', 'sleep', '100000'], 120_000);
    const n1 = await dockerNs(d1, 'o1');
    const n2 = await dockerNs(d2, 'o2');
    const ip1 = await addrIn(n1);
    await reachable(n2, ip1);
    // Leaving the swarm first: the workers' tasks and the overlay go before the daemons stop.
    this.undo.push(async () => {
      await d2.docker(['swarm', 'leave', '--force'], 60_000);
      await d1.docker(['swarm', 'leave', '--force'], 60_000);
    });
    return { over: { serverNs: n1, clientNs: n2, addr: ip1, mtu: await mtuIn(n1) }, under: { serverNs: hosts[0].netnsPath, clientNs: hosts[1].netnsPath, addr: `${prefix}.1` } };
  }

  async destroy(): Promise<void> {
    for (const u of this.undo.reverse()) await u().catch((e: Error) => process.stderr.write(`bench: cleanup: ${e.message}\n`));
    this.undo.length = 0;
    for (const [p, had] of this.hadPath) if (!had) removeIfOurs(p);
    if (this.rootBefore) {
      const before = this.rootBefore;
      const after = rootState();
      if (after.ruleset !== before.ruleset || after.links.join() !== before.links.join() || [...after.daemons.keys()].some((p) => !before.daemons.has(p))) {
        process.stderr.write('bench: WARNING: the root namespace changed during the data-plane section (nft ruleset, links or daemons); look at it\n');
      }
    }
  }
}

/** The network namespace of a Docker container: its init's /proc/PID/ns/net. */
async function dockerNs(dk: LabDocker, name: string): Promise<string> {
  const pid = Number((await dk.must(['inspect', '-f', '{{.State.Pid}}', name])).trim());
  if (!pid) throw new Error(`docker container ${name} has no PID`);
  return `/proc/${pid}/ns/net`;
}

/** Waits (up to 10 s) until addr answers a ping from ns: overlay entries arrive through the control plane. */
async function reachable(ns: string, addr: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await must(['nsenter', `--net=${ns}`, 'ping', '-c1', '-W1', addr]);
      return;
    } catch {
      // not yet
    }
  }
  throw new Error(`${addr} does not answer from ${ns}`);
}

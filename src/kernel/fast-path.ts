/**
 * The fast path between endpoints of one bridge network on this host: a tc-BPF program on the
 * ingress of each endpoint's host-side veth (native/fastpath/fastpath.bpf.c) hands an IPv4 frame
 * whose source MAC and address are the sender's own, and whose destination MAC is another endpoint
 * of the same network, straight to that endpoint's interface (bpf_redirect_peer). Everything else
 * (ARP, IPv6, broadcasts, traffic to the gateway, frames that fail the check) goes through the
 * bridge and its anti-spoofing rules exactly as without it, so the fast path only ever carries
 * what the bridge would have let through, with fewer hops: no bridge, no second veth queue, no
 * br_netfilter. The program and its maps live in ctrnet-fastpath (native/fastpath/main.c), one
 * long-lived process per daemon spoken to like ctrnet-kernel.
 *
 * The fast path is an optimisation: when the program cannot be loaded (no BPF here, the helper
 * not built), endpoints simply take the bridge, and `describe()` says why.
 *
 * On an overlay network the program is on the network's VXLAN device too: a checked frame of a
 * local endpoint to a MAC that is no local endpoint's goes straight to the VXLAN device (whose FDB
 * knows the other hosts), and a decapsulated frame for a local endpoint goes straight to it: the
 * overlay bridge is bypassed both ways.
 *
 * Limitations: IPv4 unicast between endpoints of one network only. Frames it carries pass no
 * netfilter hook of the host (an admin's rules in chain `user` of table ip ctrnet see forwarded,
 * routed traffic only, not traffic inside one network). Networks with inter-container
 * communication off (com.docker.network.bridge.enable_icc=false) are never fast-pathed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { KernelHelper } from './helper';

export const FASTPATH_BIN = path.resolve(__dirname, '../../../build/ctrnet-fastpath');

/** One endpoint as the fast path sees it. */
export interface FastPathEndpoint {
  /** the host end of its veth, where the program is attached */
  hostIf: string;
  /** its container's MAC and IPv4 address: what its frames must carry to be fast-pathed */
  mac: string;
  ip: string;
  /** the network it belongs to (only endpoints of one network are fast-pathed to each other) */
  network: string;
  /** the network's VXLAN device (overlay networks): where its unicast frames to other hosts go */
  tunnel?: string;
}

export interface FastPathFacts {
  /** the program is loaded and endpoints get it */
  active: boolean;
  /** why not, when not */
  why?: string;
  /** frames handed from one endpoint to another so far, on all endpoints */
  redirected: number;
  endpoints: number;
  /** host veths (of those asked about) with the program on their ingress, read from the kernel */
  attached: string[];
}

export interface FastPath {
  /**
   * Puts an endpoint on the fast path (maps, then the program on its host veth's ingress).
   * Equivalent to: `tc qdisc add dev HOSTIF clsact; tc filter add dev HOSTIF ingress bpf da obj ctrnet-fastpath.bpf.o`
   * @example await fastPath.add({ hostIf: 'veth1a2b3c4', mac: '02:42:ac:11:00:02', ip: '172.17.0.2', network: netId })
   */
  add(ep: FastPathEndpoint): Promise<void>;
  /**
   * Puts an overlay network's VXLAN device on the fast path: frames it decapsulates for a local
   * endpoint of that network are handed to it. Removed with `del(dev)`.
   * Equivalent to: `tc filter add dev VXDEV ingress bpf da obj ctrnet-fastpath.bpf.o`
   * @example await fastPath.addTunnel('vx-1a2b3c4d5e6f', netId)
   */
  addTunnel(dev: string, network: string): Promise<void>;
  /** Takes it off (a veth already gone is fine). Equivalent to: `tc filter del dev HOSTIF ingress pref 1 handle 1 bpf` */
  del(hostIf: string): Promise<void>;
  /** What the kernel has: counters, and which of `hostIfs` carry the program. */
  describe(hostIfs?: readonly string[]): Promise<FastPathFacts>;
  stop(): void;
}

/** No fast path: every frame takes the bridge. */
export class NoFastPath implements FastPath {
  constructor(private readonly why = 'off') {}
  async add(): Promise<void> {}
  async addTunnel(): Promise<void> {}
  async del(): Promise<void> {}
  async describe(): Promise<FastPathFacts> {
    return { active: false, why: this.why, redirected: 0, endpoints: 0, attached: [] };
  }
  stop(): void {}
}

/** The tc-BPF fast path through ctrnet-fastpath. */
export class BpfFastPath implements FastPath {
  private readonly nets = new Map<string, number>();
  private broken?: string;

  constructor(
    private readonly helper = new KernelHelper(FASTPATH_BIN),
    private readonly log: (m: string) => void = () => {},
  ) {}

  /** True when ctrnet-fastpath and its BPF object were built (`npm run build`). */
  static available(bin = FASTPATH_BIN): boolean {
    return existsSync(bin) && existsSync(`${bin}.bpf.o`);
  }

  /** Network numbers are the helper's own: small, stable while it runs. */
  netNumber(network: string): number {
    let n = this.nets.get(network);
    if (n === undefined) {
      n = this.nets.size + 1;
      this.nets.set(network, n);
    }
    return n;
  }

  async add(ep: FastPathEndpoint): Promise<void> {
    await this.ask(`add ${ep.hostIf} ${ep.mac} ${ep.ip} ${this.netNumber(ep.network)}${ep.tunnel ? ` ${ep.tunnel}` : ''}`, ep.hostIf);
  }

  async addTunnel(dev: string, network: string): Promise<void> {
    await this.ask(`tunnel ${dev} ${this.netNumber(network)}`, dev);
  }

  private async ask(req: string, dev: string): Promise<void> {
    if (this.broken) return;
    try {
      await this.helper.request(req);
    } catch (e) {
      // A helper that cannot load the program fails every request the same way: say it once and
      // let endpoints take the bridge. Any other failure (this veth) leaves that endpoint on it.
      const msg = (e as Error).message;
      if (/cannot start|exited|failed:/.test(msg)) {
        this.broken = msg;
        this.log(`fast path off: ${msg}`);
      } else this.log(`fast path for ${dev}: ${msg}`);
    }
  }

  async del(hostIf: string): Promise<void> {
    if (this.broken) return;
    await this.helper.request(`del ${hostIf}`).catch((e: Error) => this.log(`fast path: removing ${hostIf}: ${e.message}`));
  }

  async describe(hostIfs: readonly string[] = []): Promise<FastPathFacts> {
    if (this.broken) return { active: false, why: this.broken, redirected: 0, endpoints: 0, attached: [] };
    try {
      const [line] = await this.helper.query('stats');
      const f = Object.fromEntries((line ?? '').split(' ').map((kv) => kv.split('=') as [string, string]));
      const attached: string[] = [];
      for (const h of hostIfs) {
        const [s] = await this.helper.query(`show ${h}`);
        if (/attached=1/.test(s ?? '')) attached.push(h);
      }
      return { active: true, redirected: Number(f.redirected ?? 0), endpoints: Number(f.endpoints ?? 0), attached };
    } catch (e) {
      return { active: false, why: (e as Error).message, redirected: 0, endpoints: 0, attached: [] };
    }
  }

  stop(): void {
    this.helper.stop();
  }
}

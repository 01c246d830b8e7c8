/**
 * A stub Firewall for unit tests of drivers and undo paths: it keeps what it was asked to hold
 * (networks, endpoints, published ports), fails on misuse the real backend would hide or get
 * wrong (a port added twice, ports of a network deleted while it still publishes some, an
 * endpoint added twice), and can be told to fail a chosen call, so rollback paths can be driven.
 */
import { EndpointPort, Firewall, FirewallFacts, NetworkFirewall, NetworkFirewallConfig, PortMapping } from '../../src/firewall/firewall';

type Op = 'newNetwork' | 'delNetworkRules' | 'addPorts' | 'delPorts' | 'addEndpoint' | 'delEndpoint' | 'reapply';

const portKey = (p: PortMapping) => `${p.proto} ${p.hostIp}:${p.hostPort}`;

export class StubFirewall implements Firewall {
  readonly networks = new Map<string, NetworkFirewallConfig>();
  readonly endpoints = new Map<string, EndpointPort>();
  /** published port → the network that holds it */
  readonly ports = new Map<string, { net: string; port: PortMapping }>();
  private failures: { op: Op; error: Error }[] = [];

  /** The next call of `op` throws `error` (once). */
  failNext(op: Op, error = new Error(`stub firewall: ${op} failed on purpose`)): void {
    this.failures.push({ op, error });
  }

  private check(op: Op): void {
    const i = this.failures.findIndex((f) => f.op === op);
    if (i >= 0) throw this.failures.splice(i, 1)[0].error;
  }

  /** Everything it holds, for "nothing left" assertions. */
  state(): { networks: string[]; endpoints: string[]; ports: string[] } {
    return { networks: [...this.networks.keys()].sort(), endpoints: [...this.endpoints.keys()].sort(), ports: [...this.ports.keys()].sort() };
  }

  async newNetwork(cfg: NetworkFirewallConfig): Promise<NetworkFirewall> {
    this.check('newNetwork');
    this.networks.set(cfg.id, cfg);
    return {
      addPorts: async (ports) => {
        this.check('addPorts');
        if (!this.networks.has(cfg.id)) throw new Error(`stub firewall misuse: ports added to network ${cfg.id}, whose rules were deleted`);
        for (const p of ports) if (this.ports.has(portKey(p))) throw new Error(`stub firewall misuse: port ${portKey(p)} added twice`);
        for (const p of ports) this.ports.set(portKey(p), { net: cfg.id, port: p });
      },
      delPorts: async (ports) => {
        this.check('delPorts');
        for (const p of ports) this.ports.delete(portKey(p));
      },
      delNetworkRules: async () => {
        this.check('delNetworkRules');
        const left = [...this.ports.values()].filter((x) => x.net === cfg.id);
        if (left.length) throw new Error(`stub firewall misuse: rules of network ${cfg.id} deleted while it publishes ${left.map((x) => portKey(x.port)).join(', ')}`);
        this.networks.delete(cfg.id);
      },
    };
  }

  async addEndpoint(ep: EndpointPort): Promise<void> {
    this.check('addEndpoint');
    if (this.endpoints.has(ep.port)) throw new Error(`stub firewall misuse: endpoint ${ep.port} added twice`);
    this.endpoints.set(ep.port, ep);
  }

  async delEndpoint(ep: EndpointPort): Promise<void> {
    this.check('delEndpoint');
    this.endpoints.delete(ep.port);
  }

  async reapply(): Promise<void> {
    this.check('reapply');
  }

  async describe(): Promise<FirewallFacts> {
    return { present: this.networks.size > 0, expected: this.networks.size > 0, rules: [], ports: [...this.ports.values()].map((x) => ({ ...x.port, packets: 0, bytes: 0 })) };
  }

  watch(): () => void {
    return () => {};
  }

  async removeAll(): Promise<void> {
    this.networks.clear();
    this.endpoints.clear();
    this.ports.clear();
  }
}

/**
 * The firewall port: NAT for networks (masquerade, IPv4 and IPv6) and published ports (DNAT), isolation and anti-spoofing. One backend is
 * chosen in daemon/main.ts; NoneFirewall is the no-op backend, so callers never branch on
 * "no firewall".
 */

import { PortMapping } from '../base/model';
import { Proto } from '../base/port-spec';

export type { PortMapping, Proto };

export interface NetworkFirewallConfig {
  id: string;
  bridge: string;
  /** IPv4 subnet and gateway; "" on an IPv6-only network */
  subnet: string;
  gateway: string;
  /** no way out or in: no masquerade, nothing forwarded to or from other interfaces */
  internal: boolean;
  /** IPv6 subnet and gateway, on a network with IPv6 */
  subnet6?: string;
  gateway6?: string;
  /**
   * IPv6 gateway mode `routed` (Docker's gateway_mode_ipv6=routed): no masquerade; from other
   * interfaces only the published ports (opened on the containers' own addresses) and ICMPv6
   */
  routed6?: boolean;
}

/** A container's port on a bridge: frames from it must carry its own MAC and addresses. */
export interface EndpointPort {
  /** the host end of the veth */
  port: string;
  /** its IPv4 address; "" without one */
  ip: string;
  mac: string;
  /** its IPv6 addresses (global and link-local): the only IPv6 sources and neighbour advertisement targets it may use */
  ip6?: string[];
}

export interface NetworkFirewall {
  addPorts(ports: readonly PortMapping[]): Promise<void>;
  delPorts(ports: readonly PortMapping[]): Promise<void>;
  delNetworkRules(): Promise<void>;
}

/** The firewall as the kernel has it, for `explain`. */
export interface FirewallFacts {
  /** false when our table is missing */
  present: boolean;
  /** whether the desired state has rules there (a network is registered) */
  expected: boolean;
  /** rule lines as nft prints them, counters included */
  rules: string[];
  ports: (Omit<PortMapping, 'proto'> & { proto: string; packets: number; bytes: number })[];
}

export interface Firewall {
  /** Anti-spoofing: from now on, frames from this port must come from its MAC and address. */
  addEndpoint(ep: EndpointPort): Promise<void>;
  delEndpoint(ep: EndpointPort): Promise<void>;
  /** Reads back what the kernel has. */
  describe(): Promise<FirewallFacts>;
  /** Registers a network's rules (idempotent) and returns its handle. */
  newNetwork(cfg: NetworkFirewallConfig): Promise<NetworkFirewall>;
  /** Re-applies the whole desired state: at start, and when someone removed our rules. */
  reapply(): Promise<void>;
  /** Restores our rules whenever someone else removes them; returns the stop function. */
  watch(log: (m: string) => void): () => void;
  /**
   * Removes everything of ours from the kernel; the admin's user chain (nft backend) stays, rules
   * included, as Docker keeps DOCKER-USER. Not called by the daemon, which leaves the rules in
   * place when it stops (running containers keep their published ports).
   */
  removeAll(): Promise<void>;
}

export class NoneFirewall implements Firewall {
  async newNetwork(): Promise<NetworkFirewall> {
    return { addPorts: async () => {}, delPorts: async () => {}, delNetworkRules: async () => {} };
  }
  async reapply(): Promise<void> {}
  async removeAll(): Promise<void> {}
  async describe(): Promise<FirewallFacts> {
    return { present: false, expected: false, rules: [], ports: [] };
  }
  async addEndpoint(): Promise<void> {}
  async delEndpoint(): Promise<void> {}
  watch(): () => void {
    return () => {};
  }
}

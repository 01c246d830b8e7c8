/**
 * The data of `GET /ctrnet/containers/{id}/explain` (`ctrnet explain --json`): every kernel object
 * that gives a container its network, and where the kernel and the state store disagree. Types
 * only: core/explain.ts produces it, view/explain-text.ts says it, the CLI reads it over HTTP.
 */

export interface InterfaceFacts {
  name: string;
  mac: string;
  mtu: number;
  up: boolean;
  addresses: string[];
  /** the network the store says this interface belongs to */
  network?: string;
  /** the host end of the veth pair, as the kernel has it */
  hostPeer?: { name: string; bridge?: string; up: boolean };
}

export interface Explanation {
  container: { id: string; name: string; status: string };
  mode: 'bridge' | 'network' | 'host' | 'none' | 'container';
  /** container mode: whose namespace */
  joinedTo?: string;
  /** a sandbox of another runtime, attached through ctrnet's CNI or Docker plugin: which, and the runtime's id */
  external?: { kind: 'cni' | 'docker'; ref: string };
  namespace?: { path: string; sharedWith: string[] };
  interfaces: InterfaceFacts[];
  routes: { dst: string; via?: string; dev?: string }[];
  dns: string[];
  nat: { rules: string[]; ports: { proto: string; hostIp: string; hostPort: number; target: string; packets: number }[] };
  overlays: { network: string; vxlan: string; vni: number; fdb: { mac: string; dst: string }[]; neighbours: { ip: string; mac: string }[] }[];
  mismatches: string[];
  /** the tc-BPF fast path between endpoints of one network (kernel/fast-path.ts), read from the kernel */
  fastPath?: { active: boolean; why?: string; redirected: number; ports: { hostIf: string; attached: boolean }[] };
  /** whether frames crossing the host's bridges also pass iptables' hooks (br_netfilter), and why */
  bridgeNetfilter?: { on: boolean; why: string };
}

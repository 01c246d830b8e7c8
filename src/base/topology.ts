/**
 * The data of `GET /ctrnet/topology` (`ctrnet topology --format json`, the web UI's /api/topology):
 * one host's networks with their bridges and the ports the kernel reports, its containers with
 * their interfaces, published ports and network mode, and for overlay networks the other hosts
 * they reach. Types only: core/topology.ts builds it, view/ draws it, the CLI reads it over HTTP.
 */

import type { AttachmentKind } from './attachment';
import type { ContainerStatus } from './model';

/** A container's state, as the state store records it. */
export type TopoStatus = ContainerStatus;

export interface TopoBridgePort {
  /** the link's name, as the kernel reports it */
  name: string;
  kind?: string;
  up: boolean;
  /** the container whose endpoint this is (host end of its veth), if any */
  containerId?: string;
}

export interface TopoRemoteHost {
  /** the host's advertise address */
  address: string;
  containers: { id: string; name: string; ip: string; ip6?: string; mac: string }[];
}

export interface TopoNetwork {
  id: string;
  name: string;
  /** bridge | overlay | host | null */
  driver: string;
  subnet?: string;
  gateway?: string;
  /** IPv6 (EnableIPv6) */
  subnet6?: string;
  gateway6?: string;
  internal: boolean;
  /** false when members cannot talk to each other (enable_icc=false) */
  icc: boolean;
  /** the Linux bridge (bridge and overlay networks) */
  bridge?: string;
  /** whether the kernel has that bridge, and whether it is up */
  bridgePresent: boolean;
  bridgeUp: boolean;
  /** links enslaved to the bridge, as the kernel sees them */
  ports: TopoBridgePort[];
  /** overlay only */
  vni?: number;
  vxlan?: string;
  remoteHosts: TopoRemoteHost[];
}

export interface TopoInterface {
  /** name inside the container (eth0, eth1, …) */
  name: string;
  /** IPv4 address ("" on an IPv6-only network) */
  ip: string;
  prefixLen?: number;
  ip6?: string;
  prefixLen6?: number;
  mac: string;
  networkId: string;
  networkName: string;
  /** host end of the veth pair */
  hostIf: string;
  /** whether the kernel has the host end on the network's bridge */
  onBridge: boolean;
}

export interface TopoPort {
  proto: string;
  hostIp: string;
  hostPort: number;
  containerIp: string;
  containerPort: number;
}

export interface TopoContainer {
  id: string;
  name: string;
  image: string;
  status: TopoStatus;
  /** network: own namespace on networks; host; none; container: another container's namespace */
  mode: 'network' | 'host' | 'none' | 'container';
  /** the networks it is configured for, primary first (ids; stopped containers keep them) */
  networks: string[];
  /** container mode: the container named in --network container:X */
  joins?: string;
  /** container mode: the container that owns the namespace (the end of a chain) */
  netnsOwner?: string;
  interfaces: TopoInterface[];
  ports: TopoPort[];
  /** a sandbox of another runtime, attached through ctrnet's CNI or Docker plugin */
  external?: AttachmentKind;
}

export interface Topology {
  host: { name: string; version: string; advertise?: string };
  /** ISO time the model was built */
  generated: string;
  networks: TopoNetwork[];
  containers: TopoContainer[];
}

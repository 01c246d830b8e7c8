/**
 * External attachments: sandboxes that ctrnet did not make (a CNI runtime's CNI_NETNS, a Docker
 * sandbox key) attached to ctrnet networks through one of its front doors (the CNI plugin, the
 * Docker network plugin). The record is the owner of its endpoints and published ports, as a
 * container is of its own (their `containerId` is the attachment's id). Plus the wire types of
 * `/ctrnet/attachments`, the API the CNI plugin speaks to ctrnetd.
 */
import { Proto } from './port-spec';

/** Which front door made an attachment. */
export type AttachmentKind = 'cni' | 'docker';

export interface Attachment {
  /** ours (64 hex): the owner id of its endpoints and published ports */
  id: string;
  kind: AttachmentKind;
  /** the runtime's id: CNI_CONTAINERID; Docker: the endpoint id ('' while only an address is leased) */
  ref: string;
  /** the runtime's group of attachments: CNI, the network configuration's name (GC is per configuration); Docker, the network id */
  scope: string;
  /** the interface inside the sandbox (CNI_IFNAME; Docker: the name it moves the interface away from) */
  ifName: string;
  /** the name in DNS, inspect and topology: the runtime's container name, or a short id */
  name: string;
  /** network aliases (DNS names on this network) */
  aliases: string[];
  /** the sandbox: a network namespace path ('' until Docker's Join gives it) */
  netns: string;
  /** the ctrnet network */
  networkId: string;
  /** Docker: the address was leased by ctrnet's IPAM driver (RequestAddress), so it outlives the endpoint until ReleaseAddress */
  ipamLease?: boolean;
  created: string;
}

/** A published port asked for by a runtime (CNI's portMappings capability). */
export interface AttachmentPort {
  proto: Proto;
  hostPort: number;
  containerPort: number;
  /** '' or 0.0.0.0: every address */
  hostIp: string;
}

// ------------------------------------------------------------------ the wire: POST /ctrnet/attachments and friends

/** POST /ctrnet/attachments: attach a sandbox to a network (CNI ADD). */
export interface AttachRequest {
  kind: AttachmentKind;
  ref: string;
  scope: string;
  network: string;
  netns: string;
  ifName: string;
  name?: string;
  aliases?: string[];
  /** a requested address (CNI's ips capability, CNI_ARGS IP=) */
  ip?: string;
  /** a requested MAC (CNI's mac capability, CNI_ARGS MAC=) */
  mac?: string;
  ports?: AttachmentPort[];
}

/** One interface of the answer, as CNI's result lists them. */
export interface AttachedInterface {
  name: string;
  mac: string;
  /** the sandbox's namespace path; absent for the host end */
  sandbox?: string;
  mtu?: number;
}

/** What an attach answers (and a check confirms): everything a CNI result needs. */
export interface AttachResult {
  id: string;
  network: string;
  /** host end first, then each interface in the sandbox */
  interfaces: AttachedInterface[];
  ips: { address: string; gateway?: string; interface: number }[];
  routes: { dst: string; gw?: string }[];
  /** the embedded resolver's addresses (empty: none serves these networks) */
  nameservers: string[];
  ports: AttachmentPort[];
}

/** The key of one attachment: CNI's (container id, interface, network configuration). */
export interface AttachmentKey {
  kind: AttachmentKind;
  ref: string;
  scope: string;
  ifName: string;
}

/** POST /ctrnet/attachments/gc: remove every attachment of `scope` (and kind) not in `valid`. */
export interface GcRequest {
  kind: AttachmentKind;
  scope: string;
  valid: { ref: string; ifName: string }[];
}

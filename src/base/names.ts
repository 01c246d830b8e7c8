/**
 * Every name the kernel sees is built here and nowhere else: the nftables table, veth and bridge
 * names (15-character interface limit), namespace and runtime paths.
 */

export const NFT_FAMILY = 'ip';
/** IPv6 has its own table of the same name (`ip6 ctrnet`), with the same chains, maps and user chain. */
export const NFT_FAMILY6 = 'ip6';
export const NFT_TABLE = 'ctrnet';
/** The admin's chain in table `ip ctrnet` (Docker's DOCKER-USER): `forward` jumps to it first; ctrnet never flushes or deletes it. */
export const NFT_USER_CHAIN = 'user';
/** Host end of a container's veth pair: "veth" + 7 hex digits, as Docker names them. */
export const VETH_PREFIX = 'veth';
/** Interface name inside the sandbox for the n-th network: eth0, eth1, … */
export const containerIfName = (n: number): string => `eth${n}`;
/** An overlay network's bridge and VXLAN device on each host. */
export const overlayBridgeName = (networkId: string): string => `ov-${networkId.slice(0, 12)}`;
export const vxlanName = (networkId: string): string => `vx-${networkId.slice(0, 12)}`;
/** The local bridge that gives overlay containers a way out (Docker's docker_gwbridge). */
export const GATEWAY_BRIDGE = 'ctrnet_gwbridge';
/** Docker-style bridge name for a user-defined network. */
export const userBridgeName = (networkId: string): string => `br-${networkId.slice(0, 12)}`;

export function vethName(endpointId: string): string {
  return `${VETH_PREFIX}${endpointId.slice(0, 7)}`;
}

/**
 * The container's end of a veth that its runtime moves into the sandbox itself (Docker's plugin
 * path): made in the host's namespace under this name, which dockerd replaces with ethN.
 */
export function movedPeerName(endpointId: string): string {
  return `ceth${endpointId.slice(0, 7)}`;
}

/** An external sandbox's way-out interface (an overlay's gateway bridge): named after the runtime's interface, so it cannot take a name the runtime will use (eth1). */
export function wayOutIfName(ifName: string): string {
  return `${ifName.slice(0, 13)}gw`;
}

/** The 12-hex short id Docker prints. */
export const shortId = (id: string): string => id.slice(0, 12);

export interface Paths {
  root: string;
  execRoot: string;
}

export const paths = {
  db: (p: Paths) => `${p.root}/ctrnet.db`,
  images: (p: Paths) => `${p.root}/images`,
  /** no ":" in the path: overlayfs separates lower directories with it */
  image: (p: Paths, id: string) => `${p.root}/images/${id.replace(/^sha256:/, "")}`,
  /** content-addressed blobs (configs, manifests, layer blobs) */
  imageBlobs: (p: Paths) => `${p.root}/images/blobs`,
  /** downloads and unpacks in progress (same filesystem as what they become) */
  imageTmp: (p: Paths) => `${p.root}/images/tmp`,
  /** an unpacked layer, by its diff id */
  layer: (p: Paths, diffId: string) => `${p.root}/images/layers/${diffId.replace(/^sha256:/, '')}`,
  /**
   * A layer's short name for overlayfs' lowerdir: mount options are limited to one page, so each
   * lower directory is named by a link of 16 hex digits (as Docker's overlay2 does with its l/ links).
   */
  layerLink: (p: Paths, diffId: string) => `${p.root}/l/${diffId.replace(/^sha256:/, '').slice(0, 16)}`,
  containerData: (p: Paths, id: string) => `${p.root}/containers/${id}`,
  volumes: (p: Paths) => `${p.root}/volumes`,
  /** a volume's data, as Docker keeps it (its Mountpoint); the name is validated (base/mount-spec.ts) */
  volumeData: (p: Paths, name: string) => `${p.root}/volumes/${name}/_data`,
  netnsDir: (p: Paths) => `${p.execRoot}/netns`,
  netns: (p: Paths, containerId: string) => `${p.execRoot}/netns/${shortId(containerId)}`,
  /** runc's --root: its own state for our containers */
  runcRoot: (p: Paths) => `${p.execRoot}/runc`,
  /** a shim's directory; kept short because unix socket paths are limited to 107 bytes */
  shimDir: (p: Paths, id: string) => `${p.execRoot}/s/${shortId(id)}`,
  bundle: (p: Paths, id: string) => `${p.execRoot}/b/${shortId(id)}`,
};

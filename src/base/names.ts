/**
 * Every name the kernel sees is built here and nowhere else: the nftables table, veth and bridge
 * names (15-character interface limit), namespace and runtime paths.
 */

export const NFT_FAMILY = 'ip';
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

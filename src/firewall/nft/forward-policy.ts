/**
 * iptables' FORWARD policy, as Docker leaves it: dockerd sets it to DROP when it turned on
 * ip_forward itself, and br_netfilter applies it to bridged traffic too, so ctrnet's bridges stop
 * forwarding. A drop in another table's base chain wins over any accept of ours (nftables runs
 * every base chain of the hook), so ctrnet cannot undo it from its own table: it says so instead
 * (daemon log, `explain` of a sandbox attached through a plugin, the Docker plugin's create).
 */
import { run } from '../../kernel/exec';

/** True when `ip filter FORWARD` (iptables-nft) exists with policy drop. */
export async function forwardPolicyDrops(): Promise<boolean> {
  const text = await run(['nft', 'list', 'chain', 'ip', 'filter', 'FORWARD']).catch(() => '');
  return isDropPolicy(text);
}

/** Reads `nft list chain` output: the base chain's policy. */
export function isDropPolicy(chainText: string): boolean {
  return /type filter hook forward [^;]*;\s*policy drop;/.test(chainText);
}

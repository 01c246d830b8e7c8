/**
 * nft scripts applied through ctrnet-kernel's libnftables context: one pipe round trip per change,
 * no `nft` process (whose exit alone costs ~15 ms: the kernel waits a grace period when its
 * netlink socket closes). Listing and monitoring, off the hot path, still use the nft program.
 */
import { KernelHelper } from '../../kernel/helper';
import { nftCommand, NftRunner } from './nft-firewall';

export function nativeNft(helper: KernelHelper): NftRunner {
  return {
    apply: (script) => helper.request(`nft ${Buffer.byteLength(script)}`, script),
    list: nftCommand.list,
    monitor: nftCommand.monitor,
  };
}

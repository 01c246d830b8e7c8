/**
 * The parent link of a macvlan or ipvlan network (`-o parent=`), as Docker settles it:
 *   parent=eth0        an existing interface of the host (not lo)
 *   parent=eth0.10     an 802.1Q sub-interface: made on eth0 with VLAN id 10 when it does not
 *                      exist, and removed with the last network using it, only if ctrnet made it
 *   no parent          a dummy link `dm-<network id>` made for the network (its containers then
 *                      reach only each other, as in Docker)
 * One network per parent and driver (Docker 20.10's rule). A kernel without 802.1Q or dummy links
 * says so, naming the option that avoids it.
 */
import { EngineError } from '../base/errors';
import { Network } from '../base/model';
import { Kernel, KernelError } from '../kernel/kernel';
import { NetworkRepo } from '../state/repos';
import { removeLink } from './driver';

/** Interface names reach netlink requests: only validated parts. */
const VALID_IFNAME = /^[a-zA-Z0-9_.-]{1,15}$/;

/** What the parent of a new network is, and what must be made for it. */
export interface ParentPlan {
  name: string;
  /** made by the driver: an 802.1Q sub-interface of `base`, or a dummy link */
  make?: { kind: 'vlan'; base: string; vid: number } | { kind: 'dummy' };
}

/** Docker's name of the dummy parent of a network without -o parent. */
export const dummyName = (networkId: string): string => `dm-${networkId.slice(0, 12)}`;

/** Decides a network's parent from its options and the host's links; applies nothing. */
export async function planParent(kernel: Kernel, repo: NetworkRepo, driver: string, networkId: string, netName: string, parent: string | undefined): Promise<ParentPlan> {
  if (parent === undefined || parent === '') return { name: dummyName(networkId), make: { kind: 'dummy' } };
  if (!VALID_IFNAME.test(parent)) throw new EngineError('INVALID_PARAMETER', `invalid -o parent "${parent}"`, { hint: 'name an interface of the host: 1 to 15 letters, digits, "_", "." or "-"' });
  if (parent === 'lo') throw new EngineError('INVALID_PARAMETER', `loopback interface is not a valid ${driver} parent link`);
  const other = repo.list().find((n) => n.driver === driver && n.id !== networkId && parentOf(n) === parent);
  if (other) throw new EngineError('CONFLICTING_OPTIONS', `network ${other.name} is already using parent interface ${parent}`, { hint: `one ${driver} network per parent interface: connect the containers to ${other.name}` });
  const links = await kernel.linkList();
  if (links.some((l) => l.name === parent)) return { name: parent };
  const m = /^(.+)\.(\d{1,4})$/.exec(parent);
  if (m && Number(m[2]) >= 1 && Number(m[2]) <= 4094) {
    if (!links.some((l) => l.name === m[1])) throw new EngineError('INVALID_PARAMETER', `-o parent interface was not found on the host: ${m[1]} (for the sub-interface ${parent} of network ${netName})`);
    return { name: parent, make: { kind: 'vlan', base: m[1], vid: Number(m[2]) } };
  }
  throw new EngineError('INVALID_PARAMETER', `-o parent interface was not found on the host: ${parent}`, { hint: 'name an interface of the host (`ip link`), or NAME.VLAN_ID for an 802.1Q sub-interface' });
}

/** The parent a network of a parent-based driver uses (its dummy when it has none). */
export const parentOf = (n: Network): string => n.options.parent || dummyName(n.id);

/** The error for a kind of link this kernel was built without. */
export function kernelLacks(what: string, feature: string, config: string, module: string, hint: string): EngineError {
  return new EngineError('KERNEL_UNSUPPORTED', `${what}: this kernel has no ${feature} support (${config}, module ${module})`, { hint });
}

/** Makes the parent a plan asks for (and brings it up); EOPNOTSUPP becomes the kernel's missing feature, said plainly. */
export async function makeParent(kernel: Kernel, plan: ParentPlan, netName: string): Promise<void> {
  if (!plan.make) return;
  const b = kernel.batch();
  if (plan.make.kind === 'vlan') b.linkAddVlan(plan.name, plan.make.base, plan.make.vid);
  else b.linkAddDummy(plan.name);
  b.linkSetUp(plan.name);
  try {
    await b.commit();
  } catch (e) {
    // A batch that failed half-way may have made the link: gone again either way.
    await removeLink(kernel, plan.name).catch(() => undefined);
    if (e instanceof KernelError && e.errno === 'EOPNOTSUPP') {
      throw plan.make.kind === 'vlan'
        ? kernelLacks(`cannot create the 802.1Q sub-interface ${plan.name} for network ${netName}`, '802.1Q VLAN', 'CONFIG_VLAN_8021Q', '8021q', `load it (\`modprobe 8021q\`), or make ${plan.name} yourself and give it as -o parent`)
        : kernelLacks(`network ${netName} has no -o parent, so it needs a dummy parent link`, 'dummy link', 'CONFIG_DUMMY', 'dummy', 'give -o parent=INTERFACE (an interface of the host)');
    }
    throw new EngineError('CONFLICTING_OPTIONS', `cannot create ${plan.name} for network ${netName}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Removes a parent the driver made for `net`, unless another network still uses it; links the
 * user made are never touched.
 */
export async function releaseParent(kernel: Kernel, repo: NetworkRepo, net: Network): Promise<void> {
  if (!net.createdLink) return;
  if (repo.list().some((n) => n.id !== net.id && (n.createdLink === net.createdLink || n.options.parent === net.createdLink))) return;
  await removeLink(kernel, net.createdLink);
}

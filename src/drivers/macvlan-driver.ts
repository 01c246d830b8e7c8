/**
 * The macvlan driver (Docker's `-d macvlan`): each container gets a macvlan link on the network's
 * parent (`-o parent=eth0`, an 802.1Q sub-interface `eth0.10`, or a dummy link without parent:
 * _parent-link.ts), with its own MAC (02:42 + its address) and address on the parent's network.
 * Modes (`-o macvlan_mode=`), as the kernel implements them:
 *   bridge    (default) containers of the network reach each other directly, inside the host
 *   private   they never reach each other, even through an external switch that reflects frames
 *   vepa      their traffic to each other goes out to the external switch (which must reflect it)
 *   passthru  one container takes over the parent (and its MAC); a second one is refused
 * The host cannot reach its macvlan children through the parent (the kernel delivers their
 * frames to each other and to the wire, not to the parent's own stack), as in Docker.
 */
import { EngineError } from '../base/errors';
import { Endpoint, Network } from '../base/model';
import { OPT_MTU } from '../base/network-options';
import { Batch, MacvlanMode } from '../kernel/kernel';
import { NetworkRequest } from './driver';
import { parentOf } from './_parent-link';
import { StackedDriver } from './_stacked-driver';

export const OPT_MACVLAN_MODE = 'macvlan_mode';
const MODES: MacvlanMode[] = ['bridge', 'private', 'vepa', 'passthru'];

const modeOf = (net: Pick<Network, 'options'>): MacvlanMode => (net.options[OPT_MACVLAN_MODE] || 'bridge') as MacvlanMode;

export class MacvlanDriver extends StackedDriver {
  readonly name = 'macvlan';

  protected optionNames(): string[] {
    return [OPT_MACVLAN_MODE];
  }

  protected checkOptions(req: NetworkRequest): void {
    const mode = req.options[OPT_MACVLAN_MODE];
    if (mode !== undefined && mode !== '' && !MODES.includes(mode as MacvlanMode)) {
      throw new EngineError('INVALID_PARAMETER', `requested macvlan mode '${mode}' is not valid, 'bridge' mode is the macvlan driver default`, { hint: `one of ${MODES.join(', ')}` });
    }
  }

  protected lacking(net: Network): EngineError {
    return new EngineError('KERNEL_UNSUPPORTED', `network ${net.name}: this kernel has no macvlan support (CONFIG_MACVLAN, module macvlan)`, { hint: 'load it (`modprobe macvlan`), or use a bridge network' });
  }

  /** passthru: the child takes the parent's MAC (the kernel's rule). */
  protected override async kernelMac(net: Network): Promise<string | undefined> {
    if (modeOf(net) !== 'passthru') return undefined;
    return (await this.kernel.linkList()).find((l) => l.name === parentOf(net))?.mac;
  }

  protected addLink(b: Batch, net: Network, ep: Endpoint, sandbox: string): void {
    const mode = modeOf(net);
    if (mode === 'passthru') {
      const holder = this.repo.endpoints.list({ networkId: net.id }).find((e) => e.id !== ep.id);
      if (holder) {
        throw new EngineError('CONFLICTING_OPTIONS', `macvlan network ${net.name} is in passthru mode: its parent ${parentOf(net)} holds one container, and ${holder.containerId.slice(0, 12)} has it`, { hint: 'use -o macvlan_mode=bridge for several containers' });
      }
    }
    const mtu = net.options[OPT_MTU] ? Number(net.options[OPT_MTU]) : undefined;
    b.linkAddMacvlan(ep.ifName, parentOf(net), mode, { mac: mode === 'passthru' ? undefined : ep.mac, mtu, netns: sandbox });
  }
}

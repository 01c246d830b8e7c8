/**
 * The ipvlan driver (Docker's `-d ipvlan`): each container gets an ipvlan link on the network's
 * parent (_parent-link.ts), sharing the parent's MAC. Modes (`-o ipvlan_mode=`): l2 (default;
 * the default route via the gateway), l3 and l3s (routed by the host: the default route is on the
 * link itself, as Docker makes it); flags (`-o ipvlan_flag=`): bridge (default), private, vepa.
 * A kernel without ipvlan (this machine's) is found when the network is made, by making an ipvlan
 * link on the parent and removing it: the error says so, instead of every container's start.
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../base/errors';
import { Endpoint, Network } from '../base/model';
import { OPT_MTU } from '../base/network-options';
import { Batch, IpvlanFlag, IpvlanMode, KernelError } from '../kernel/kernel';
import { NetworkRequest, removeLink } from './driver';
import { kernelLacks, parentOf } from './_parent-link';
import { StackedDriver } from './_stacked-driver';

export const OPT_IPVLAN_MODE = 'ipvlan_mode';
export const OPT_IPVLAN_FLAG = 'ipvlan_flag';
const MODES: IpvlanMode[] = ['l2', 'l3', 'l3s'];
const FLAGS: IpvlanFlag[] = ['bridge', 'private', 'vepa'];

const modeOf = (net: Pick<Network, 'options'>): IpvlanMode => (net.options[OPT_IPVLAN_MODE] || 'l2') as IpvlanMode;
const flagOf = (net: Pick<Network, 'options'>): IpvlanFlag => (net.options[OPT_IPVLAN_FLAG] || 'bridge') as IpvlanFlag;

export class IpvlanDriver extends StackedDriver {
  readonly name = 'ipvlan';

  protected optionNames(): string[] {
    return [OPT_IPVLAN_MODE, OPT_IPVLAN_FLAG];
  }

  protected checkOptions(req: NetworkRequest): void {
    const mode = req.options[OPT_IPVLAN_MODE];
    if (mode !== undefined && mode !== '' && !MODES.includes(mode as IpvlanMode)) {
      throw new EngineError('INVALID_PARAMETER', `requested ipvlan mode '${mode}' is not valid, 'l2' mode is the ipvlan driver default`, { hint: `one of ${MODES.join(', ')}` });
    }
    const flag = req.options[OPT_IPVLAN_FLAG];
    if (flag !== undefined && flag !== '' && !FLAGS.includes(flag as IpvlanFlag)) {
      throw new EngineError('INVALID_PARAMETER', `requested ipvlan flag '${flag}' is not valid, 'bridge' is the ipvlan driver default`, { hint: `one of ${FLAGS.join(', ')}` });
    }
  }

  protected lacking(net: Network): EngineError {
    return kernelLacks(`cannot make ipvlan network ${net.name}`, 'ipvlan', 'CONFIG_IPVLAN', 'ipvlan', 'load it (`modprobe ipvlan`), or use -d macvlan (the same, each container with its own MAC)');
  }

  /** A short-lived ipvlan link on the parent: the kernel says at once whether it has ipvlan. */
  protected override async probe(net: Network): Promise<void> {
    const name = `ivp${randomBytes(4).toString('hex')}`;
    try {
      await this.kernel.batch().linkAddIpvlan(name, parentOf(net), modeOf(net), flagOf(net)).commit();
    } catch (e) {
      if (e instanceof KernelError && e.errno === 'EOPNOTSUPP') throw this.lacking(net);
      throw new EngineError('CONFLICTING_OPTIONS', `cannot make ipvlan links on ${parentOf(net)} for network ${net.name}: ${(e as Error).message}`, { cause: e });
    }
    await removeLink(this.kernel, name);
  }

  /** ipvlan children share their parent's MAC. */
  protected override async kernelMac(net: Network): Promise<string | undefined> {
    return (await this.kernel.linkList()).find((l) => l.name === parentOf(net))?.mac;
  }

  protected override routeVia(net: Network): boolean {
    return modeOf(net) === 'l2';
  }

  protected addLink(b: Batch, net: Network, ep: Endpoint, sandbox: string): void {
    const mtu = net.options[OPT_MTU] ? Number(net.options[OPT_MTU]) : undefined;
    b.linkAddIpvlan(ep.ifName, parentOf(net), modeOf(net), flagOf(net), { mtu, netns: sandbox });
  }
}

/**
 * br_netfilter in ctrnet's network namespace. With `net.bridge.bridge-nf-call-iptables=1` (the
 * default in every namespace where the module is loaded, and it is built into many kernels) every
 * frame crossing a bridge also passes the IPv4 netfilter hooks (conntrack, nat, filter), and with
 * `-ip6tables`/`-arptables` the IPv6 and ARP ones: a cost on every frame between containers and on
 * every frame of an overlay's bridge. ctrnet needs none of it: its isolation rules match routed
 * traffic (between bridges, to the host), hairpin to a published port is done by masquerade,
 * inter-container traffic off is done by isolated bridge ports, and anti-spoofing has its own
 * table in the bridge family. The switches are per network namespace since Linux 5.3.
 *
 * So at start (and at `ctrnet system reload`) ctrnet turns them off in its own namespace, but only
 * when no other program has nftables tables there (iptables-nft's `ip filter`, Docker's, a
 * firewall's): such a program may rely on them. It never turns them on, and when they are on it
 * says why: another program's tables, or another program turned them on after ctrnet turned them off.
 *
 * Limitations: with the switches off, an admin's rules in chain `user` of table ip ctrnet see
 * routed traffic only, not frames between containers of one network (those never cross the
 * host's IP layer); as with the fast path (kernel/fast-path.ts), which carries them anyway.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { run } from '../../kernel/exec';
import { NFT_TABLE } from '../../base/names';

const OFF_BY_US = 'turned off by ctrnet in its network namespace (nothing else here filters bridged frames)';

export const BRIDGE_NF_KEYS = ['bridge-nf-call-iptables', 'bridge-nf-call-ip6tables', 'bridge-nf-call-arptables'] as const;

/** The state of the switches, as explain says it. */
export interface BridgeNetfilterFacts {
  /** br_netfilter exists in this kernel */
  present: boolean;
  /** any of the switches is on */
  on: boolean;
  /** why it is as it is, in a few words */
  why: string;
}

/**
 * What to do, from the switches' values ('' when missing) and the nftables tables of the
 * namespace (`family name`). Pure: unit-tested.
 */
export function decide(values: Record<string, string>, tables: string[], turnedOffBefore: boolean): { turnOff: boolean; facts: BridgeNetfilterFacts } {
  const present = Object.values(values).some((v) => v !== '');
  const on = Object.values(values).some((v) => v === '1');
  if (!present) return { turnOff: false, facts: { present, on: false, why: 'br_netfilter is not in this kernel' } };
  const others = tables.filter((t) => t.split(/\s+/)[1] !== NFT_TABLE);
  if (!on) return { turnOff: false, facts: { present, on, why: 'off in this network namespace: bridged frames pass no iptables hook' } };
  if (others.length) return { turnOff: false, facts: { present, on, why: `left on: this namespace has tables of another program (${others.join(', ')}), which may filter bridged frames` } };
  if (turnedOffBefore) return { turnOff: false, facts: { present, on, why: 'another program turned it on after ctrnet turned it off; ctrnet leaves it' } };
  return { turnOff: true, facts: { present, on: false, why: OFF_BY_US } };
}

async function listTables(): Promise<string[]> {
  return (await run(['nft', 'list', 'tables']).catch(() => '')).split('\n').map((l) => l.replace(/^table\s+/, '').trim()).filter(Boolean);
}

/** The switches of the daemon's namespace, and turning them off when `decide` says so. */
export class BridgeNetfilter {
  private turnedOff = false;
  private lastWhy?: string;

  constructor(private readonly log: (m: string) => void = () => {}) {}

  private async values(): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    for (const k of BRIDGE_NF_KEYS) out[k] = (await readFile(`/proc/sys/net/bridge/${k}`, 'utf8').catch(() => '')).trim();
    return out;
  }

  /** Equivalent to: `nft list tables`, then `sysctl -w net.bridge.bridge-nf-call-{ip,ip6,arp}tables=0` when nothing else is there. */
  async settle(): Promise<BridgeNetfilterFacts> {
    const values = await this.values();
    const { turnOff, facts } = decide(values, await listTables(), this.turnedOff);
    if (turnOff) {
      for (const k of BRIDGE_NF_KEYS) if (values[k] === '1') await writeFile(`/proc/sys/net/bridge/${k}`, '0');
      this.turnedOff = true;
    }
    if (facts.why !== this.lastWhy) this.log(`br_netfilter: ${facts.why}`);
    this.lastWhy = facts.why;
    return facts;
  }

  /** What the switches are now (read from the kernel), with the reason. */
  async describe(): Promise<BridgeNetfilterFacts> {
    const { turnOff, facts } = decide(await this.values(), await listTables(), this.turnedOff);
    if (turnOff) return { present: true, on: true, why: 'on; ctrnet turns it off at its next start or system reload' };
    if (!facts.on && facts.present && this.turnedOff) return { ...facts, why: OFF_BY_US };
    return facts;
  }
}

/** `ctrnet network create|ls|inspect|rm|prune|connect|disconnect`, as docker's. */
import { ApiError } from '../api-error';
import { bool, list, Parsed, str, UsageError } from '../args';
import { Command, CommandGroup, out } from '../command';
import { printInspected } from './_inspected';
import { table } from '../../view/table';
import type { IdResponse, IpamConfig, NetworkConnectBody, NetworkCreateBody, NetworkSummary, NetworksPruneResponse } from '../wire';

/** K=V flags (-o, --label) as an object; the value keeps any further '='. */
const kv = (l: string[]): Record<string, string> => Object.fromEntries(l.map((x) => [x.split('=')[0], x.split('=').slice(1).join('=')]));

const ls: Command = {
  kind: 'command',
  name: 'ls',
  aliases: ['list'],
  usage: 'ctrnet network ls',
  flags: null,
  async run(ctx) {
    const nets = (await ctx.client.call<NetworkSummary[]>('GET', '/networks')).data.sort((a, b) => a.Name.localeCompare(b.Name));
    out(table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], nets.map((n) => [n.Id.slice(0, 12), n.Name, n.Driver, n.Scope])));
    return 0;
  },
};

const inspect: Command = {
  kind: 'command',
  name: 'inspect',
  usage: 'ctrnet network inspect [-f FORMAT] NETWORK...',
  flags: { format: { kind: 'string', short: 'f' } },
  async run(ctx, p) {
    const res: unknown[] = [];
    for (const n of p.args) res.push((await ctx.client.call('GET', `/networks/${encodeURIComponent(n)}`)).data);
    printInspected(res, str(p, 'format'));
    return 0;
  },
};

const create: Command = {
  kind: 'command',
  name: 'create',
  usage: 'ctrnet network create [OPTIONS] NETWORK',
  flags: {
    driver: { kind: 'string', short: 'd' }, subnet: { kind: 'list' }, gateway: { kind: 'list' }, 'ip-range': { kind: 'list' },
    internal: { kind: 'bool' }, label: { kind: 'list' }, opt: { kind: 'list', short: 'o' }, 'aux-address': { kind: 'list' },
    ipv6: { kind: 'bool' }, ipv4: { kind: 'bool' },
  },
  async run(ctx, p) {
    if (p.args.length !== 1) throw new UsageError('"network create" requires exactly 1 argument: ctrnet network create [OPTIONS] NETWORK');
    const body: NetworkCreateBody = {
      Name: p.args[0], Driver: str(p, 'driver') ?? 'bridge', Internal: bool(p, 'internal'),
      IPAM: { Driver: 'default', Options: {}, Config: ipamConfigs(p) },
      Options: kv(list(p, 'opt')), Labels: kv(list(p, 'label')), CheckDuplicate: true,
      ...(bool(p, 'ipv6') ? { EnableIPv6: true } : {}),
      ...(p.flags.ipv4 === false ? { EnableIPv4: false } : {}),
    };
    out((await ctx.client.call<IdResponse>('POST', '/networks/create', body)).data.Id);
    return 0;
  },
};

/**
 * IPAM configs from --subnet, --gateway, --ip-range and --aux-address, as docker pairs them: each
 * gateway, range and auxiliary address goes with the subnet of its family (one subnet per family).
 */
function ipamConfigs(p: Parsed): IpamConfig[] {
  const v6 = (a: string) => a.includes(':');
  const subnets = list(p, 'subnet');
  const fam = [false, true].map((six) => ({ six, subnet: subnets.filter((s) => v6(s) === six) }));
  for (const f of fam) if (f.subnet.length > 1) throw new UsageError(`one ${f.six ? 'IPv6' : 'IPv4'} --subnet per network`);
  const out: IpamConfig[] = [];
  for (const { six, subnet } of fam) {
    const cfg: IpamConfig = {};
    if (subnet[0]) cfg.Subnet = subnet[0];
    const gw = list(p, 'gateway').filter((g) => v6(g) === six);
    const range = list(p, 'ip-range').filter((r) => v6(r) === six);
    const aux = list(p, 'aux-address').filter((x) => v6(x.split('=').slice(1).join('=')) === six);
    if (gw.length > 1 || range.length > 1) throw new UsageError(`one ${six ? 'IPv6' : 'IPv4'} --gateway and --ip-range per network`);
    if (gw[0]) cfg.Gateway = gw[0];
    if (range[0]) cfg.IPRange = range[0];
    if (aux.length) cfg.AuxiliaryAddresses = kv(aux);
    if (Object.keys(cfg).length) out.push(cfg);
  }
  return out;
}

const rm: Command = {
  kind: 'command',
  name: 'rm',
  aliases: ['remove'],
  usage: 'ctrnet network rm [-f] NETWORK...',
  flags: { force: { kind: 'bool', short: 'f' } },
  async run(ctx, p) {
    let failed = 0;
    for (const n of p.args) {
      try {
        await ctx.client.call('DELETE', `/networks/${encodeURIComponent(n)}`);
        out(n);
      } catch (e) {
        if (bool(p, 'force') && e instanceof ApiError && e.status === 404) continue;
        failed++;
        process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  },
};

const prune: Command = {
  kind: 'command',
  name: 'prune',
  usage: 'ctrnet network prune',
  // Arguments as typed: `-f` (docker's "do not ask") is accepted; ctrnet never asks.
  flags: null,
  async run(ctx) {
    const r = await ctx.client.call<NetworksPruneResponse>('POST', '/networks/prune');
    const names = r.data.NetworksDeleted ?? [];
    if (names.length) out(`Deleted Networks:\n${names.join('\n')}`);
    return 0;
  },
};

const connect: Command = {
  kind: 'command',
  name: 'connect',
  usage: 'ctrnet network connect [--ip IP] [--ip6 IP] [--alias A] [--link C:ALIAS] NETWORK CONTAINER',
  flags: { ip: { kind: 'string' }, ip6: { kind: 'string' }, alias: { kind: 'list' }, link: { kind: 'list' } },
  async run(ctx, p) {
    const [net, ctr] = p.args;
    if (!net || !ctr) throw new UsageError('"network connect" requires 2 arguments: ctrnet network connect [--ip IP] [--alias A] NETWORK CONTAINER');
    const ip = str(p, 'ip');
    const ip6 = str(p, 'ip6');
    const ipam = { ...(ip ? { IPv4Address: ip } : {}), ...(ip6 ? { IPv6Address: ip6 } : {}) };
    const body: NetworkConnectBody = { Container: ctr, EndpointConfig: { IPAMConfig: ipam, Aliases: list(p, 'alias'), ...(list(p, 'link').length ? { Links: list(p, 'link') } : {}) } };
    await ctx.client.call('POST', `/networks/${encodeURIComponent(net)}/connect`, body);
    return 0;
  },
};

const disconnect: Command = {
  kind: 'command',
  name: 'disconnect',
  usage: 'ctrnet network disconnect [-f] NETWORK CONTAINER',
  flags: { force: { kind: 'bool', short: 'f' } },
  async run(ctx, p) {
    const [net, ctr] = p.args;
    if (!net || !ctr) throw new UsageError('"network disconnect" requires 2 arguments: ctrnet network disconnect [-f] NETWORK CONTAINER');
    await ctx.client.call('POST', `/networks/${encodeURIComponent(net)}/disconnect`, { Container: ctr, Force: bool(p, 'force') });
    return 0;
  },
};

export const command: CommandGroup = {
  kind: 'group',
  name: 'network',
  usage: 'ctrnet network create|ls|inspect|rm|prune|connect|disconnect',
  subcommands: [create, ls, inspect, rm, prune, connect, disconnect],
  unknown: (sub) => `unknown network command "${sub ?? ''}": use create, ls, inspect, rm, prune, connect or disconnect`,
};

/** `ctrnet ps [-a] [-q]`: docker's table of containers, or their short ids. */
import { bool } from '../args';
import { Command, out } from '../command';
import { ago, hostAndPort, table, truncate } from '../../view/table';
import type { ContainerSummary, PortSummary } from '../wire';

/** The PORTS cell: `0.0.0.0:8080->80/tcp, [::]:8080->80/tcp, 53/udp` */
function portsCell(ports: PortSummary[]): string {
  return ports.map((p) => (p.PublicPort ? `${hostAndPort(p.IP ?? '', p.PublicPort)}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`)).join(', ');
}

export const command: Command = {
  kind: 'command',
  name: 'ps',
  usage: 'ctrnet ps [-a] [-q]',
  // --no-trunc is accepted for docker's scripts; ids are cut to 12 characters all the same.
  flags: { all: { kind: 'bool', short: 'a' }, quiet: { kind: 'bool', short: 'q' }, 'no-trunc': { kind: 'bool' } },
  async run(ctx, p) {
    const list = (await ctx.client.call<ContainerSummary[]>('GET', `/containers/json${bool(p, 'all') ? '?all=1' : ''}`)).data;
    if (bool(p, 'quiet')) {
      for (const x of list) out(x.Id.slice(0, 12));
      return 0;
    }
    out(
      table(
        ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        list.map((x) => [x.Id.slice(0, 12), x.Image, `"${truncate(x.Command, 20)}"`, ago(x.Created), x.Status, portsCell(x.Ports), x.Names.map((n) => n.slice(1)).join(',')]),
      ),
    );
    return 0;
  },
};

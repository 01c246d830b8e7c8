/** `ctrnet port CONTAINER [PORT[/PROTO]]`: its published ports, or where one of them is published. */
import { Command, out } from '../command';
import { hostAndPort } from '../../view/table';
import type { ContainerInspect } from '../wire';

/** docker's form: 0.0.0.0:8080, [::]:8080 */
const hostPort = (b: { HostIp: string; HostPort: string }): string => hostAndPort(b.HostIp, b.HostPort);

export const command: Command = {
  kind: 'command',
  name: 'port',
  usage: 'ctrnet port CONTAINER [PORT[/PROTO]]',
  flags: {},
  async run(ctx, p) {
    const info = (await ctx.client.call<ContainerInspect>('GET', `/containers/${encodeURIComponent(p.args[0] ?? '')}/json`)).data;
    const ports = info.NetworkSettings.Ports ?? {};
    let want = p.args[1];
    if (want && !want.includes('/')) want += '/tcp';
    const lines: string[] = [];
    for (const [k, binds] of Object.entries(ports)) {
      if (want && k !== want) continue;
      for (const b of binds ?? []) lines.push(want ? hostPort(b) : `${k} -> ${hostPort(b)}`);
    }
    if (want && !lines.length) throw new Error(`Error: No public port '${want}' published for ${p.args[0]}`);
    for (const l of lines) out(l);
    return 0;
  },
};

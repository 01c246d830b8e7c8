/** `ctrnet port CONTAINER [PORT[/PROTO]]`: its published ports, or where one of them is published. */
import { Command, out } from '../command';
import type { ContainerInspect } from '../wire';

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
      for (const b of binds ?? []) lines.push(want ? `${b.HostIp}:${b.HostPort}` : `${k} -> ${b.HostIp}:${b.HostPort}`);
    }
    if (want && !lines.length) throw new Error(`Error: No public port '${want}' published for ${p.args[0]}`);
    for (const l of lines) out(l);
    return 0;
  },
};

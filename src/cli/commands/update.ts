/** `ctrnet update [--memory …] [--cpus …] [--pids-limit N] [--restart POLICY] CONTAINER...`: limits changed live, as docker's. */
import { str } from '../args';
import { Command, out } from '../command';
import { parseRestartFlag } from '../../base/restart-policy';
import { eachContainer } from './_each';
import { HOST_FLAGS, resourceBody } from './_create-host';

const FLAGS = ['memory', 'memory-swap', 'memory-reservation', 'cpus', 'cpu-shares', 'cpu-period', 'cpu-quota', 'cpuset-cpus', 'cpuset-mems', 'pids-limit', 'restart'];

export const command: Command = {
  kind: 'command',
  name: 'update',
  usage: 'ctrnet update [--memory SIZE] [--memory-swap SIZE] [--cpus N] [--cpu-shares N] [--cpuset-cpus LIST] [--pids-limit N] [--restart POLICY] CONTAINER...',
  flags: Object.fromEntries(FLAGS.map((f) => [f, HOST_FLAGS[f]])),
  run(ctx, p) {
    const policy = str(p, 'restart') === undefined ? undefined : parseRestartFlag(str(p, 'restart')!);
    const body = { ...resourceBody(p), RestartPolicy: policy ? { Name: policy.name, MaximumRetryCount: policy.maxRetries } : { Name: '', MaximumRetryCount: 0 } };
    return eachContainer(ctx, p, async (id) => {
      await ctx.client.call('POST', `/containers/${encodeURIComponent(id)}/update`, body);
      out(id);
    });
  },
};

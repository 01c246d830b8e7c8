/** `ctrnet info`: the daemon's counts, runtime, network plugins and directories. */
import { Command, out } from '../command';
import type { InfoResponse } from '../wire';

export const command: Command = {
  kind: 'command',
  name: 'info',
  usage: 'ctrnet info',
  flags: null,
  async run(ctx) {
    const i = (await ctx.client.call<InfoResponse>('GET', '/info')).data;
    out(`Containers: ${i.Containers}\n Running: ${i.ContainersRunning}\n Stopped: ${i.ContainersStopped}\nImages: ${i.Images}\nServer Version: ${i.ServerVersion}\nRuntime: ${i.DefaultRuntime}\nNetwork plugins: ${i.Plugins.Network.join(' ')}\nKernel Version: ${i.KernelVersion}\nRoot Dir: ${i.DockerRootDir}\nExec Root: ${i.ExecRoot}`);
    return 0;
  },
};

/** `ctrnet version`: the client's and the daemon's versions, in docker's layout. */
import { API_VERSION } from '../../base/api-version';
import { Command, out } from '../command';
import type { VersionResponse } from '../wire';

export const command: Command = {
  kind: 'command',
  name: 'version',
  usage: 'ctrnet version',
  flags: null,
  async run(ctx) {
    const v = (await ctx.client.call<VersionResponse>('GET', '/version')).data;
    out(`Client:\n Version:    0.1.0\n API version: ${API_VERSION}\n\nServer: ctrnet\n Engine:\n  Version:    ${v.Version}\n  API version: ${v.ApiVersion} (minimum version ${v.MinAPIVersion})\n  Kernel:     ${v.KernelVersion}\n  OS/Arch:    ${v.Os}/${v.Arch}`);
    return 0;
  },
};

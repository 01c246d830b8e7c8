/** System routes: _ping, version, info; and the object types the docker CLI probes in `inspect` (only a 404 lets it try the next one). */
import os from 'node:os';
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { archName } from '../dto/image';
import { Router } from '../router';

export const API_VERSION = '1.41';
export const MIN_API_VERSION = '1.12';

export function systemRoutes(r: Router, e: Engine): void {
  const ping = (head: boolean) => async ({ res }: { res: import('node:http').ServerResponse }) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (head) {
      res.setHeader('Content-Length', '0');
      res.end();
    } else res.end('OK');
  };
  r.route('GET', '/_ping', ping(false));
  r.route('HEAD', '/_ping', ping(true));
  r.route('GET', '/version', async () => ({
    Platform: { Name: 'ctrnet' },
    Components: [{ Name: 'Engine', Version: e.info.version, Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: archName(), KernelVersion: os.release() } }],
    Version: e.info.version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: 'ctrnet',
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: archName(),
    KernelVersion: os.release(),
    BuildTime: e.info.startedAt.toISOString(),
  }));
  r.route('GET', '/info', async () => {
    const all = e.containers.list();
    return {
      ID: 'ctrnet',
      Containers: all.length,
      ContainersRunning: all.filter((c) => c.status === 'running').length,
      ContainersPaused: 0,
      ContainersStopped: all.filter((c) => c.status !== 'running').length,
      Images: e.images.list().length,
      Driver: 'overlay',
      DockerRootDir: e.info.root,
      ExecRoot: e.info.execRoot,
      KernelVersion: os.release(),
      OperatingSystem: 'ctrnet on Linux',
      OSType: 'linux',
      Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(),
      NCPU: os.cpus().length,
      MemTotal: os.totalmem(),
      Name: os.hostname(),
      ServerVersion: e.info.version,
      DefaultRuntime: 'runc',
      Runtimes: { runc: { path: 'runc' } },
      CgroupDriver: 'cgroupfs',
      LoggingDriver: 'ctrnet-shim',
      Plugins: { Network: ['bridge', 'host', 'null'], Volume: ['local'], Log: [] },
      Swarm: { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null },
      SecurityOptions: [],
      Warnings: [],
    };
  });

  r.route('GET', '/plugins/{name}/json', async ({ params }) => {
    throw new EngineError('PLUGIN_NOT_FOUND', `plugin "${params[0]}" not found`, { hint: 'ctrnet has no plugins' });
  });

  // ctrnet's own: re-apply the firewall rules now (they are also restored on their own when removed).
  r.route('POST', '/ctrnet/system/reload', async () => {
    await e.reloadFirewall();
    return { Reloaded: ['nftables'] };
  });
  // ctrnet's own: what gives a container its network, read from the kernel.
  r.route('GET', '/ctrnet/containers/{id}/explain', async ({ params }) => e.explain(params[0]));
  // ctrnet's own: the host's topology (networks, bridge ports, containers, ports, overlay peers).
  r.route('GET', '/ctrnet/topology', async () => e.topology());
}

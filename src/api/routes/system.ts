/** System routes: _ping, version, info; and the object types the docker CLI probes in `inspect` (only a 404 lets it try the next one). */
import { infoSwarmJson } from '../dto/swarm';
import os from 'node:os';
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { archName, imageSummary } from '../dto/image';
import { containerSummary } from '../dto/container';
import { volumeJson } from '../dto/volume';
import { Router } from '../router';
import { API_VERSION, atLeast, MIN_API_VERSION } from '../version';

export { API_VERSION };

export function systemRoutes(r: Router, e: Engine): void {
  const ping = (head: boolean) => async ({ res }: { res: import('node:http').ServerResponse }) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-store, must-revalidate');
    res.setHeader('Pragma', 'no-cache');
    // Docker 23+ sends it (unversioned); the CLI reads it to skip swarm probes.
    res.setHeader('Swarm', e.swarm.state() ? 'active/manager' : 'inactive');
    if (head) {
      res.setHeader('Content-Length', '0');
      res.end();
    } else res.end('OK');
  };
  r.route('GET', '/_ping', ping(false));
  r.route('HEAD', '/_ping', ping(true));
  r.route('GET', '/version', async () => ({
    Platform: { Name: 'ctrnet' },
    // The CLI's `docker version` reads the engine's fields from its component's Details.
    Components: [{
      Name: 'Engine', Version: e.info.version,
      Details: { ApiVersion: API_VERSION, Arch: archName(), BuildTime: e.info.startedAt.toISOString(), Experimental: 'false', GitCommit: 'ctrnet', GoVersion: `node${process.versions.node}`, KernelVersion: os.release(), MinAPIVersion: MIN_API_VERSION, Os: 'linux' },
    }],
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
  r.route('GET', '/info', async ({ version }) => {
    const all = e.containers.list();
    return {
      ID: 'ctrnet',
      Containers: all.length,
      ContainersRunning: all.filter((c) => c.status === 'running' && !c.paused).length,
      ContainersPaused: all.filter((c) => c.status === 'running' && c.paused).length,
      ContainersStopped: all.filter((c) => c.status !== 'running').length,
      Images: e.images.list().length,
      Driver: 'overlay2',
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
      Swarm: infoSwarmJson(e.swarm.state()),
      SecurityOptions: [],
      InitBinary: 'docker-init',
      // Fields later API versions added, each from its version on.
      ...(atLeast(version, '1.44') ? { CDISpecDirs: [] } : {}),
      ...(atLeast(version, '1.49') ? { FirewallBackend: { Driver: 'nftables' } } : {}),
      ...(atLeast(version, '1.50') ? { DiscoveredDevices: [] } : {}),
      Warnings: [],
    };
  });

  // docker system df: images, containers, volumes; ctrnet builds nothing, so no build cache.
  r.route('GET', '/system/df', async ({ q, version }) => {
    const types = q.getAll('type');
    const want = (t: string) => !atLeast(version, '1.42') || types.length === 0 || types.includes(t);
    const du = await e.diskUsage();
    const out: Record<string, unknown> = {};
    if (want('image')) {
      out.LayersSize = du.layersSize;
      out.Images = du.images.map((u) => ({ ...imageSummary(u.image, version, u.containers, u.sharedSize), Containers: u.containers }));
    }
    if (want('container')) out.Containers = du.containers.map((u) => ({ ...containerSummary(e.queries.container(u.container)), SizeRw: u.sizeRw, SizeRootFs: u.sizeRootFs }));
    if (want('volume')) out.Volumes = (await e.volumes.usage()).map((u) => ({ ...volumeJson(u.volume, e.volumes.path(u.volume.name)), UsageData: { RefCount: u.refCount, Size: u.size } }));
    if (want('build-cache')) out.BuildCache = [];
    return out;
  });
  // ctrnet does not build images: there is no build cache to prune.
  r.route('POST', '/build/prune', async () => ({ CachesDeleted: null, SpaceReclaimed: 0 }));

  // ctrnet's own: re-apply the firewall rules now (they are also restored on their own when removed).
  r.route('POST', '/ctrnet/system/reload', async () => {
    await e.reloadFirewall();
    // Docker's daemon event for a reload (of its configuration; here, of the firewall's rules).
    e.events.emit('daemon', 'reload', 'ctrnet', { name: os.hostname() });
    return { Reloaded: ['nftables'] };
  });
  // ctrnet's own: what gives a container its network, read from the kernel.
  r.route('GET', '/ctrnet/containers/{id}/explain', async ({ params }) => e.explain(params[0]));
  // ctrnet's own: the host's topology (networks, bridge ports, containers, ports, overlay peers).
  r.route('GET', '/ctrnet/topology', async () => e.topology());
}

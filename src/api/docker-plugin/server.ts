/**
 * The Docker plugin's HTTP server (ctrnetd --docker-plugin /run/docker/plugins/NAME.sock): the
 * libnetwork remote driver and IPAM APIs over a unix socket in Docker's plugin directory, so that
 * `docker network create -d NAME --ipam-driver NAME …` makes ctrnet networks. Each call is a POST of
 * JSON; the answer is JSON, with `Err` on failure (libnetwork reads Err, not the status). The driver's
 * name is the socket's basename, as Docker's plugin discovery finds it. Logic: core/attachments/docker-plugin.ts.
 */
import http from 'node:http';
import { describe } from '../../base/errors';
import { DockerPlugin } from '../../core/attachments/docker-plugin';
import { readJson } from '../http';

const CONTENT_TYPE = 'application/vnd.docker.plugins.v1.2+json';

type Handler = (p: DockerPlugin, body: Record<string, unknown>) => unknown;

/** Every call dockerd 20.10 makes of a network + IPAM plugin. */
const ROUTES: Record<string, Handler> = {
  '/Plugin.Activate': () => ({ Implements: ['NetworkDriver', 'IpamDriver'] }),
  '/NetworkDriver.GetCapabilities': (p) => p.driverCapabilities(),
  '/NetworkDriver.CreateNetwork': (p, b) => p.createNetwork(b),
  '/NetworkDriver.DeleteNetwork': (p, b) => p.deleteNetwork(b),
  '/NetworkDriver.CreateEndpoint': (p, b) => p.createEndpoint(b),
  '/NetworkDriver.EndpointOperInfo': (p, b) => p.endpointOperInfo(b),
  '/NetworkDriver.DeleteEndpoint': (p, b) => p.deleteEndpoint(b),
  '/NetworkDriver.Join': (p, b) => p.join(b),
  '/NetworkDriver.Leave': (p, b) => p.leave(b),
  '/NetworkDriver.DiscoverNew': () => ({}),
  '/NetworkDriver.DiscoverDelete': () => ({}),
  '/NetworkDriver.ProgramExternalConnectivity': () => ({}),
  '/NetworkDriver.RevokeExternalConnectivity': () => ({}),
  '/NetworkDriver.AllocateNetwork': () => ({ Options: {} }),
  '/NetworkDriver.FreeNetwork': () => ({}),
  '/IpamDriver.GetCapabilities': (p) => p.capabilities(),
  '/IpamDriver.GetDefaultAddressSpaces': (p) => p.defaultAddressSpaces(),
  '/IpamDriver.RequestPool': (p, b) => p.requestPool(b),
  '/IpamDriver.ReleasePool': (p) => p.releasePool(),
  '/IpamDriver.RequestAddress': (p, b) => p.requestAddress(b),
  '/IpamDriver.ReleaseAddress': (p, b) => p.releaseAddress(b),
};

/**
 * @example const server = createDockerPluginServer(plugin, log); server.listen('/run/docker/plugins/ctrnet.sock')
 */
export function createDockerPluginServer(plugin: DockerPlugin, log: (m: string) => void, trace = false): http.Server {
  return http.createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      let status = 200;
      let out: unknown;
      let body: Record<string, unknown> = {};
      try {
        const h = ROUTES[path];
        if (!h || req.method !== 'POST') {
          status = 404;
          throw new Error(`${req.method} ${path} is not part of the network or IPAM plugin API`);
        }
        body = await readJson(req);
        out = await h(plugin, body);
      } catch (e) {
        out = { Err: describe(e) };
        log(`docker plugin ${path}: ${describe(e)}`);
      }
      if (trace) log(`docker plugin ${path} ${JSON.stringify(body)} → ${JSON.stringify(out)}`);
      const text = JSON.stringify(out);
      res.writeHead(status, { 'Content-Type': CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    })();
  });
}

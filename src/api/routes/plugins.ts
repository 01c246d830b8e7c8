/**
 * Plugin endpoints of an engine that has no managed plugins installed: the list is empty, every
 * plugin by name is not found (the docker CLI's `inspect` probes /plugins/{name}/json and needs
 * the 404 to go on), and installing one is refused, saying so.
 *
 * Limitations: ctrnet cannot install Docker plugins (no registry, no plugin runtime).
 */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { parseFilters } from '../http';
import { Router } from '../router';

const notFound = (name: string): never => {
  throw new EngineError('PLUGIN_NOT_FOUND', `plugin "${name}" not found`, { hint: 'ctrnet has no plugins installed' });
};

export function pluginRoutes(r: Router, _e: Engine): void {
  r.route('GET', '/plugins', async ({ q }) => {
    parseFilters(q.get('filters'));
    return [];
  });
  r.route('GET', '/plugins/privileges', async () => []);
  r.route('GET', '/plugins/{name}/json', async ({ params }) => notFound(params[0]));
  r.route('DELETE', '/plugins/{name}', async ({ params }) => notFound(params[0]));
  for (const verb of ['enable', 'disable', 'upgrade', 'push', 'set']) {
    r.route('POST', `/plugins/{name}/${verb}`, async ({ params }) => notFound(params[0]));
  }
  for (const p of ['/plugins/pull', '/plugins/create']) {
    r.route('POST', p, async () => {
      throw new EngineError('NOT_SUPPORTED', 'installing Docker plugins is not supported by ctrnet', { hint: 'its network and IPAM drivers are built in: see README.md' });
    });
  }
}

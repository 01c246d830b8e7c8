/**
 * Swarm endpoints (swarm, nodes, services, tasks, secrets, configs), answered as a Docker engine
 * that is not part of a swarm answers them: 503 with Docker's words ("This node is not a swarm
 * manager…", "This node is not part of a swarm"), after the same body checks Docker makes first
 * (400 for a malformed or missing body). Clients rely on these answers: docker-py calls
 * `swarm/leave` in every network test's teardown and accepts the 503; the docker CLI reads
 * `Swarm.LocalNodeState: inactive` from /info.
 *
 * Limitations: ctrnet does not run swarm mode, so `swarm init` and `swarm join` are refused (503,
 * saying so) where Docker would make or join a swarm. Containers on several hosts use overlay
 * networks with a cluster store instead (README.md).
 */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { Ctx, Router } from '../router';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
const NOT_PART = 'This node is not part of a swarm';

const notManager = (): never => {
  throw new EngineError('SWARM_INACTIVE', NOT_MANAGER);
};

/** Reads the body as Docker does before it looks at the swarm: malformed JSON, or (when required) none, is a 400. */
async function body(c: Ctx, required: boolean): Promise<void> {
  const empty = c.req.headers['transfer-encoding'] === undefined && Number(c.req.headers['content-length'] ?? 0) === 0;
  if (required && empty) throw new EngineError('INVALID_PARAMETER', 'got EOF while reading request body');
  await c.body();
}

export function swarmRoutes(r: Router, _e: Engine): void {
  r.route('GET', '/swarm', async () => notManager());
  for (const p of ['/swarm/init', '/swarm/join']) {
    r.route('POST', p, async (c) => {
      await body(c, false);
      throw new EngineError('SWARM_INACTIVE', `ctrnet does not run swarm mode: this engine cannot ${p.endsWith('init') ? 'create' : 'join'} a swarm`, {
        hint: 'for containers on several hosts, use overlay networks (ctrnetd --cluster-store etcd://HOST:2379 --advertise-addr IP)',
      });
    });
  }
  r.route('POST', '/swarm/leave', async () => {
    throw new EngineError('SWARM_INACTIVE', NOT_PART);
  });
  r.route('POST', '/swarm/update', async (c) => {
    await body(c, true);
    notManager();
  });
  r.route('GET', '/swarm/unlockkey', async () => notManager());
  r.route('POST', '/swarm/unlock', async (c) => {
    await body(c, true);
    throw new EngineError('SWARM_INACTIVE', NOT_PART);
  });

  // Nodes, services, tasks, secrets and configs exist only in a swarm's managers.
  for (const kind of ['nodes', 'services', 'tasks', 'secrets', 'configs']) {
    r.route('GET', `/${kind}`, async () => notManager());
    r.route('GET', `/${kind}/{id}`, async () => notManager());
    if (kind !== 'tasks') r.route('DELETE', `/${kind}/{id}`, async () => notManager());
    if (kind !== 'tasks' && kind !== 'nodes') {
      r.route('POST', `/${kind}/create`, async (c) => {
        await body(c, false);
        notManager();
      });
    }
    if (kind !== 'tasks') {
      r.route('POST', `/${kind}/{id}/update`, async (c) => {
        await body(c, false);
        notManager();
      });
    }
    if (kind === 'services' || kind === 'tasks') r.route('GET', `/${kind}/{id}/logs`, async () => notManager());
  }
}

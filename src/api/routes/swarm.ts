/**
 * Swarm endpoints (swarm, nodes, services, tasks, secrets, configs). `swarm init` makes this
 * engine the one manager of a one-node swarm (core/swarm.ts), as Docker does on a single host:
 * the `ingress` network, swarm-scoped attachable overlay networks for `docker run`. Without a
 * swarm they answer as an unswarmed Docker does: 503 with Docker's words ("This node is not a
 * swarm manager…", "This node is not part of a swarm"), after the same body checks Docker makes
 * first (400 for a malformed or missing body). Clients rely on these answers: docker-py calls
 * `swarm/leave` in every network test's teardown and accepts the 503; the docker CLI reads
 * `Swarm.LocalNodeState` from /info.
 *
 * Limitations: one node. `swarm join` is refused (SWARM_UNSUPPORTED; ctrnet joins hosts
 * through `ctrnetd --cluster-store etcd://…`), and so are `swarm update`, `unlock`, node updates
 * and removal. In a swarm, services, tasks, secrets and configs are listed as none and their
 * creation is refused: ctrnet runs no services (containers start with `docker run`).
 */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { NOT_PART } from '../../core/swarm';
import { nodeJson, swarmInitRequest, swarmJson } from '../dto/swarm';
import { bool } from '../http';
import { Ctx, Router } from '../router';

/** Reads the body as Docker does before it looks at the swarm: malformed JSON, or (when required) none, is a 400. */
async function body(c: Ctx, required: boolean): Promise<Record<string, unknown>> {
  const empty = c.req.headers['transfer-encoding'] === undefined && Number(c.req.headers['content-length'] ?? 0) === 0;
  if (required && empty) throw new EngineError('INVALID_PARAMETER', 'got EOF while reading request body');
  return (await c.body()) ?? {};
}

const NO_SERVICES = 'use docker run (and docker compose) to start containers; attachable overlay networks connect them';

export function swarmRoutes(r: Router, e: Engine): void {
  const { swarm } = e;
  r.route('GET', '/swarm', async () => swarmJson(swarm.manager()));
  r.route('POST', '/swarm/init', async (c) => {
    const b = await body(c, false);
    return (await swarm.init(swarmInitRequest(b))).nodeId;
  });
  r.route('POST', '/swarm/join', async (c) => {
    await body(c, false);
    swarm.join();
  });
  r.route('POST', '/swarm/leave', async ({ q }) => {
    await swarm.leave(bool(q, 'force'));
    return undefined;
  });
  r.route('POST', '/swarm/update', async (c) => {
    await body(c, true);
    swarm.manager();
    throw new EngineError('SWARM_UNSUPPORTED', "ctrnet's one-node swarm keeps the spec it was initialised with", { hint: 'docker swarm leave --force, then docker swarm init with the new settings' });
  });
  r.route('GET', '/swarm/unlockkey', async () => {
    swarm.manager();
    return { UnlockKey: '' };
  });
  r.route('POST', '/swarm/unlock', async (c) => {
    await body(c, true);
    if (!swarm.state()) throw new EngineError('SWARM_INACTIVE', NOT_PART);
    throw new EngineError('SWARM_UNSUPPORTED', 'swarm is not locked', { hint: "ctrnet's swarm has no autolock" });
  });

  // Nodes: this engine only.
  const node = (id: string) => {
    const s = swarm.manager();
    if (id !== s.nodeId && !(id.length >= 1 && s.nodeId.startsWith(id))) throw new EngineError('SWARM_OBJECT_NOT_FOUND', `node ${id} not found`);
    return s;
  };
  r.route('GET', '/nodes', async () => [nodeJson(swarm.manager(), e.info.version)]);
  r.route('GET', '/nodes/{id}', async ({ params }) => nodeJson(node(params[0]), e.info.version));
  r.route('DELETE', '/nodes/{id}', async ({ params }) => {
    node(params[0]);
    throw new EngineError('SWARM_UNSUPPORTED', `node ${params[0]} is the swarm's one manager and cannot be removed`, { hint: 'docker swarm leave --force' });
  });
  r.route('POST', '/nodes/{id}/update', async (c) => {
    await body(c, false);
    node(c.params[0]);
    throw new EngineError('SWARM_UNSUPPORTED', "ctrnet's one node stays an active manager", { hint: 'nothing to update' });
  });

  // Services, tasks, secrets and configs: none in ctrnet's swarm (it runs no services).
  for (const [kind, one] of [['services', 'service'], ['tasks', 'task'], ['secrets', 'secret'], ['configs', 'config']] as const) {
    const none = (id: string): never => {
      swarm.manager();
      throw new EngineError('SWARM_OBJECT_NOT_FOUND', `${one} ${id} not found`);
    };
    r.route('GET', `/${kind}`, async () => {
      swarm.manager();
      return [];
    });
    r.route('GET', `/${kind}/{id}`, async ({ params }) => none(params[0]));
    if (kind !== 'tasks') {
      r.route('DELETE', `/${kind}/{id}`, async ({ params }) => none(params[0]));
      r.route('POST', `/${kind}/create`, async (c) => {
        await body(c, false);
        swarm.manager();
        throw new EngineError('SWARM_UNSUPPORTED', `ctrnet runs no ${kind}: its swarm is there for overlay networks`, { hint: NO_SERVICES });
      });
      r.route('POST', `/${kind}/{id}/update`, async (c) => {
        await body(c, false);
        none(c.params[0]);
      });
    }
    if (kind === 'services' || kind === 'tasks') r.route('GET', `/${kind}/{id}/logs`, async ({ params }) => none(params[0]));
  }
}

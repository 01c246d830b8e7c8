/**
 * Documented Engine API endpoints that ctrnet does not serve, answered clearly (400 NOT_SUPPORTED,
 * naming what is missing) instead of Docker's "page not found" for paths that are not Docker's.
 * Registered after every other route: an endpoint that gets a real route elsewhere wins over its
 * entry here, so this list only shrinks.
 */
import { EngineError } from '../../base/errors';
import { Engine } from '../../core/engine';
import { Router } from '../router';

/** method, path, what Docker does there (for the message), and what to do instead */
const UNSERVED: [string, string, string, string?][] = [
  ['POST', '/build', 'building images', 'build elsewhere and `docker save | docker load` or import the root filesystem'],
  ['POST', '/session', 'BuildKit sessions'],
  ['GET', '/images/search', 'searching a registry', 'pull by name: `docker pull HOST/NAME:TAG`'],
  ['GET', '/distribution/{name*}/json', 'reading a manifest from a registry', 'pull the image and inspect it'],
  ['GET', '/containers/{id}/archive', 'copying files out of a container (docker cp)', 'use `docker exec ID cat FILE`'],
  ['HEAD', '/containers/{id}/archive', 'copying files out of a container (docker cp)', 'use `docker exec ID cat FILE`'],
  ['PUT', '/containers/{id}/archive', 'copying files into a container (docker cp)', 'use `docker exec -i ID sh -c "cat > FILE"`'],
  ['GET', '/containers/{id}/attach/ws', 'attaching over a websocket', 'attach over the hijacked connection (POST /containers/{id}/attach)'],
  ['PUT', '/volumes/{name}', 'cluster volumes'],
];

export function unsupportedRoutes(r: Router, _e: Engine): void {
  for (const [method, path, what, hint] of UNSERVED) {
    r.route(method, path, async () => {
      throw new EngineError('NOT_SUPPORTED', `${what} (${method} ${path}) is not supported by ctrnet`, { hint: hint ?? 'see README.md (API) for what ctrnet serves' });
    });
  }
}

/** `GET /containers/{id}/export`: a container's root filesystem as a tar stream (`docker export`). */
import { Engine } from '../../core/engine';
import { Router } from '../router';

export function containerArchiveRoutes(r: Router, e: Engine): void {
  r.route('GET', '/containers/{id}/export', async ({ params, res }) => {
    const tar = await e.containers.export(params[0]);
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    await new Promise<void>((resolve) => {
      // A failure midway cuts the answer: the client sees a short archive, as with Docker.
      tar.on('error', (err) => {
        res.destroy(err);
        resolve();
      });
      res.on('close', resolve);
      tar.pipe(res);
    });
  });
}

/**
 * Removing a legacy link (`DELETE /containers/NAME/ALIAS?link=1`, `docker rm --link`): the record
 * of the link goes; what it gave the linking container while running (hosts entry, environment)
 * stays until its next start, as in Docker.
 */
import { ContainerSpec } from '../../base/container-spec';
import { EngineError } from '../../base/errors';
import { Container } from '../../base/model';

/** The spec without the link ALIAS; CONTAINER_NOT_FOUND (Docker's words) when there is none. */
export function withoutLink(c: Container, alias: string): ContainerSpec {
  const links = c.spec.links ?? [];
  const keep = links.filter((l) => l.alias !== alias);
  if (keep.length === links.length) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${c.name}/${alias}`);
  return { ...c.spec, links: keep };
}

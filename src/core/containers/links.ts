/**
 * Legacy links (--link TARGET[:ALIAS]) as records: checked at create (the target must exist, in
 * Docker's words), kept in Docker's form ("/TARGET:/NAME/ALIAS"), shown in inspect, and removed
 * with `DELETE /containers/NAME/ALIAS?link=1`.
 *
 * Limitations: what a link gives the linking container (the hosts entry, the ALIAS_PORT_… env
 * variables) is issue 14's; this keeps and removes the records only.
 */
import { ContainerSpec } from '../../base/container-spec';
import { EngineError } from '../../base/errors';
import { Container } from '../../base/model';

/** HostConfig.Links of a create request ("TARGET:ALIAS" or "TARGET") → Docker's stored form. */
export function resolveLinks(spec: ContainerSpec, name: string, find: (ref: string) => Container | undefined): ContainerSpec {
  if (!spec.links?.length) return spec;
  const links = spec.links.map((l) => {
    const [target, alias] = l.replace(/^\//, '').split(':');
    const t = find(target);
    if (!t) throw new EngineError('INVALID_PARAMETER', `could not get container for ${target}: No such container: ${target}`, { hint: 'create the container to link to first' });
    return `/${t.name}:/${name}/${(alias ?? target).replace(/^.*\//, '')}`;
  });
  return { ...spec, links };
}

/** The spec without the link ALIAS; CONTAINER_NOT_FOUND (Docker's words) when there is none. */
export function withoutLink(c: Container, alias: string): ContainerSpec {
  const links = c.spec.links ?? [];
  const keep = links.filter((l) => l.split(':')[1] !== `/${c.name}/${alias}`);
  if (keep.length === links.length) throw new EngineError('CONTAINER_NOT_FOUND', `No such container: ${c.name}/${alias}`);
  return { ...c.spec, links: keep };
}

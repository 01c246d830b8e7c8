/** Docker's JSON for networks (Engine API v1.41): a network (a core NetworkView) as list and inspect show it, and the create request. */
import { EngineError } from '../../base/errors';
import { CreateNetwork } from '../../core/networks';
import { NetworkView } from '../../core/queries';
import { API_VERSION, atLeast } from '../version';
import { Json, obj, str, stringMap } from './common';
import { createAddressing, enableFlags, ipamConfigs, memberAddresses } from './ipv6';

export function networkJson(v: NetworkView, version = API_VERSION): Json {
  const n = v.network;
  const containers: Json = {};
  for (const { container: c, endpoint: ep } of v.members) {
    containers[c.id] = ep
      ? { Name: c.name, EndpointID: ep.id, MacAddress: ep.mac, ...memberAddresses(n, ep) }
      : { Name: c.name, EndpointID: '', MacAddress: '', IPv4Address: '', IPv6Address: '' };
  }
  // Sandboxes of other runtimes (CNI, Docker's plugin) are members too, under their attachment's id.
  for (const { attachment: a, endpoint: ep } of v.external ?? []) {
    containers[a.id] = { Name: a.name, EndpointID: ep.id, MacAddress: ep.mac, IPv4Address: `${ep.ip}/${n.subnet?.split('/')[1] ?? 32}`, IPv6Address: '' };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: v.scope,
    Driver: n.driver,
    // EnableIPv4 (API 1.48), then EnableIPv6: whether the network has each family.
    ...(atLeast(version, '1.48') ? { EnableIPv4: enableFlags(n).EnableIPv4 } : {}),
    EnableIPv6: enableFlags(n).EnableIPv6,
    IPAM: {
      Driver: 'default',
      // Docker shows what the request gave: {} from the docker CLI, null from docker-py (and for the predefined networks)
      Options: n.ipamOptions ?? null,
      // Docker 20.10 shows no gateway in the default bridge's config
      Config: ipamConfigs(n, v.predefined),
    },
    Internal: n.internal,
    Attachable: n.attachable === true,
    Ingress: n.ingress === true,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}

/** POST /networks/create body → what Networks.create takes. */
export function networkCreateRequest(body: Json): CreateNetwork {
  const name = str(body.Name, 'Name');
  if (!name) throw new EngineError('INVALID_PARAMETER', 'a network needs a name');
  const ipam = obj(body.IPAM, 'IPAM');
  const ipamOptions = ipam.Options === undefined || ipam.Options === null ? undefined : stringMap(ipam.Options, 'IPAM.Options');
  return {
    name,
    driver: str(body.Driver, 'Driver') || 'bridge',
    ...createAddressing(body),
    ...(ipamOptions ? { ipamOptions } : {}),
    internal: body.Internal === true,
    labels: stringMap(body.Labels, 'Labels'),
    options: stringMap(body.Options, 'Options'),
    ...(body.Attachable === true ? { attachable: true } : {}),
    ...(body.Ingress === true ? { ingress: true } : {}),
    ...(str(body.Scope, 'Scope') ? { scope: str(body.Scope, 'Scope') } : {}),
  };
}

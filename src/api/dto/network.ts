/** Docker's JSON for networks (Engine API v1.41): a network (a core NetworkView) as list and inspect show it, and the create request. */
import { EngineError } from '../../base/errors';
import { CreateNetwork } from '../../core/networks';
import { NetworkView } from '../../core/queries';
import { API_VERSION, atLeast } from '../version';
import { Json, obj, str, stringMap } from './common';

export function networkJson(v: NetworkView, version = API_VERSION): Json {
  const n = v.network;
  const containers: Json = {};
  for (const { container: c, endpoint: ep } of v.members) {
    containers[c.id] = ep
      ? { Name: c.name, EndpointID: ep.id, MacAddress: ep.mac, IPv4Address: `${ep.ip}/${n.subnet?.split('/')[1] ?? 32}`, IPv6Address: '' }
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
    // EnableIPv4 (1.48): ctrnet's networks always have IPv4.
    ...(atLeast(version, '1.48') ? { EnableIPv4: true } : {}),
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      // Docker shows what the request gave: {} from the docker CLI, null from docker-py (and for the predefined networks)
      Options: n.ipamOptions ?? null,
      // Docker 20.10 shows no gateway in the default bridge's config
      Config: n.subnet ? [{ Subnet: n.subnet, ...(n.ipRange ? { IPRange: n.ipRange } : {}), ...(v.predefined ? {} : { Gateway: n.gateway }), ...(n.auxAddresses ? { AuxiliaryAddresses: n.auxAddresses } : {}) }] : [],
    },
    Internal: n.internal,
    Attachable: false,
    Ingress: false,
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
  const configs = Array.isArray(ipam.Config) ? (ipam.Config as unknown[]).map((c) => obj(c, 'IPAM.Config[]')) : [];
  if (configs.length > 1) throw new EngineError('NOT_SUPPORTED', 'one IPAM config (one subnet) per network is supported', { hint: 'IPv4 only: give one subnet' });
  const c = configs[0] ?? {};
  if (body.EnableIPv4 === false) throw new EngineError('INVALID_PARAMETER', 'IPv4 can only be disabled if experimental features are enabled', { hint: 'ctrnet networks always have IPv4' });
  if (body.Ingress === true) throw new EngineError('FORBIDDEN', 'Ingress network can only be global scope network');
  const aux = stringMap(c.AuxiliaryAddresses, 'AuxiliaryAddresses');
  const ipamOptions = ipam.Options === undefined || ipam.Options === null ? undefined : stringMap(ipam.Options, 'IPAM.Options');
  return {
    name,
    driver: str(body.Driver, 'Driver') || 'bridge',
    subnet: str(c.Subnet, 'Subnet') || undefined,
    gateway: str(c.Gateway, 'Gateway') || undefined,
    ipRange: str(c.IPRange, 'IPRange') || undefined,
    ...(Object.keys(aux).length ? { auxAddresses: aux } : {}),
    ...(ipamOptions ? { ipamOptions } : {}),
    internal: body.Internal === true,
    labels: stringMap(body.Labels, 'Labels'),
    options: stringMap(body.Options, 'Options'),
  };
}

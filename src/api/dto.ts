/**
 * Docker Engine API (v1.41) JSON shapes: the only place where Docker's PascalCase lives.
 * Requests are converted to engine types here, engine rows to responses.
 */
import { ContainerSpec } from '../base/container-spec';
import { Engine } from '../core/engine';
import { EngineError } from '../base/errors';
import { PortSpec } from '../base/port-spec';
import { CreateNetwork } from '../core/networks';
import { ContainerRow, NetworkRow } from '../state/store';
import { isIPv4 } from '../ipam/ipam';
import { attachments, modeOf } from '../core/sandbox';
import { humanDuration } from '../base/time';

export { humanDuration };

const ZERO_TIME = '0001-01-01T00:00:00Z';
type Json = Record<string, unknown>;

// ------------------------------------------------------------------ requests

function strings(v: unknown, field: string): string[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new EngineError('INVALID_PARAMETER', `${field} must be a list of strings`);
  return v as string[];
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new EngineError('INVALID_PARAMETER', `${field} must be a string`);
  return v;
}

function obj(v: unknown, field: string): Json {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new EngineError('INVALID_PARAMETER', `${field} must be an object`);
  return v as Json;
}

function stringMap(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  if (Object.values(o).some((x) => typeof x !== 'string')) throw new EngineError('INVALID_PARAMETER', `${field} values must be strings`);
  return o as Record<string, string>;
}

/** "80/tcp" → [80, "tcp"] */
function portKey(k: string): { port: number; proto: 'tcp' | 'udp' } {
  const m = /^(\d+)(?:\/(tcp|udp))?$/.exec(k);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > 65535) throw new EngineError('INVALID_PORT_SPEC', `invalid container port "${k}"`, { hint: 'write it as PORT/tcp or PORT/udp' });
  return { port: Number(m[1]), proto: (m[2] as 'tcp' | 'udp') ?? 'tcp' };
}

/** POST /containers/create body → name, image and spec. */
export function createRequest(body: Json): { image: string; spec: ContainerSpec } {
  const image = str(body.Image, 'Image');
  if (!image) throw new EngineError('INVALID_PARAMETER', 'no image given', { hint: 'name an image, e.g. busybox' });
  const hc = obj(body.HostConfig, 'HostConfig');
  const portBindings: PortSpec[] = [];
  for (const [k, v] of Object.entries(obj(hc.PortBindings, 'HostConfig.PortBindings'))) {
    const { port, proto } = portKey(k);
    if (v !== null && !Array.isArray(v)) throw new EngineError('INVALID_PARAMETER', `HostConfig.PortBindings["${k}"] must be a list of bindings`);
    for (const entry of (v ?? []) as unknown[]) {
      const b = obj(entry, `HostConfig.PortBindings["${k}"][]`);
      if (entry === null) throw new EngineError('INVALID_PARAMETER', `HostConfig.PortBindings["${k}"] holds a null binding`);
      const hostIp = str(b.HostIp, 'HostIp') || '0.0.0.0';
      if (!isIPv4(hostIp)) throw new EngineError('INVALID_PORT_SPEC', `invalid host address "${hostIp}" for port ${k}`, { hint: 'give an IPv4 address' });
      const hp = str(b.HostPort, 'HostPort');
      const hostPort = hp === '' ? 0 : /^\d{1,5}$/.test(hp) ? Number(hp) : NaN;
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) throw new EngineError('INVALID_PORT_SPEC', `invalid host port "${hp}" for ${k}`, { hint: 'use a number from 1 to 65535' });
      portBindings.push({ proto, hostIp, hostPort, containerPort: port });
    }
  }
  const networks: ContainerSpec['networks'] = {};
  const nc = obj(body.NetworkingConfig, 'NetworkingConfig');
  for (const [name, cfg] of Object.entries(obj(nc.EndpointsConfig, 'EndpointsConfig'))) {
    const c = obj(cfg, `EndpointsConfig.${name}`);
    const ipv4 = str(obj(c.IPAMConfig, 'IPAMConfig').IPv4Address, 'IPv4Address') || undefined;
    networks[name] = { ipv4, aliases: strings(c.Aliases, 'Aliases') };
  }
  const spec: ContainerSpec = {
    cmd: strings(body.Cmd, 'Cmd'),
    entrypoint: strings(body.Entrypoint, 'Entrypoint'),
    env: strings(body.Env, 'Env'),
    workingDir: str(body.WorkingDir, 'WorkingDir'),
    hostname: str(body.Hostname, 'Hostname'),
    tty: body.Tty === true,
    openStdin: body.OpenStdin === true,
    stdinOnce: body.StdinOnce === true,
    labels: stringMap(body.Labels, 'Labels'),
    networkMode: str(hc.NetworkMode, 'NetworkMode') || 'bridge',
    portBindings,
    exposedPorts: Object.keys(obj(body.ExposedPorts, 'ExposedPorts')),
    autoRemove: hc.AutoRemove === true,
    dns: strings(hc.Dns, 'HostConfig.Dns'),
    macAddress: str(body.MacAddress, 'MacAddress').toLowerCase(),
    networks,
  };
  for (const d of spec.dns) if (!isIPv4(d)) throw new EngineError('INVALID_PARAMETER', `invalid --dns address "${d}"`, { hint: 'give an IPv4 address' });
  if (spec.macAddress && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(spec.macAddress)) {
    throw new EngineError('INVALID_PARAMETER', `invalid MAC address "${spec.macAddress}"`, { hint: 'write it as 02:42:ac:11:00:02' });
  }
  return { image, spec };
}

// ------------------------------------------------------------------ responses

export function statusText(c: ContainerRow, now = Date.now()): string {
  if (c.status === 'running') return `Up ${humanDuration(now - Date.parse(c.started_at!))}`;
  if (c.status === 'exited') return `Exited (${c.exit_code}) ${humanDuration(now - Date.parse(c.finished_at!))} ago`;
  if (c.status === 'removing') return 'Removal In Progress';
  return 'Created';
}

const command = (s: ContainerSpec): string => [...s.entrypoint, ...s.cmd].join(' ');

function portsMap(e: Engine, c: ContainerRow, spec: ContainerSpec): Json {
  const out: Json = {};
  for (const p of spec.exposedPorts) out[p] = null;
  for (const b of spec.portBindings) out[`${b.containerPort}/${b.proto}`] = null;
  for (const r of e.store.ports(c.id)) {
    const k = `${r.container_port}/${r.proto}`;
    out[k] = [...((out[k] as Json[] | null) ?? []), { HostIp: r.host_ip, HostPort: String(r.host_port) }];
  }
  return out;
}

function endpointsJson(e: Engine, c: ContainerRow, spec: ContainerSpec): Json {
  const nets: Json = {};
  const eps = e.store.endpoints({ containerId: c.id });
  const mode = modeOf(spec.networkMode);
  if (mode.kind === 'host' || mode.kind === 'none') {
    const row = e.store.network(mode.kind)!;
    nets[mode.kind] = endpointJson(row.id, '', '', '', 0, '', []);
  } else if (mode.kind === 'network') {
    for (const name of attachments(spec)) {
      const row = e.store.network(name);
      if (!row) continue;
      const ep = eps.find((x) => x.network_id === row.id);
      const cfg = spec.networks[row.name];
      const json = ep
        ? endpointJson(row.id, ep.id, row.gateway ?? '', ep.ip, Number(row.subnet?.split('/')[1] ?? 0), ep.mac, JSON.parse(ep.aliases) as string[])
        : endpointJson(row.id, '', '', '', 0, '', cfg?.aliases ?? []);
      if (cfg?.ipv4) json.IPAMConfig = { IPv4Address: cfg.ipv4 };
      nets[row.name] = json;
    }
  }
  return nets;
}

function endpointJson(netId: string, epId: string, gw: string, ip: string, plen: number, mac: string, aliases: string[]): Json {
  return {
    IPAMConfig: null, Links: null, Aliases: aliases.length ? aliases : null, NetworkID: netId, EndpointID: epId, Gateway: gw,
    IPAddress: ip, IPPrefixLen: plen, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: mac, DriverOpts: null,
  };
}

export function containerSummary(e: Engine, c: ContainerRow): Json {
  const spec = JSON.parse(c.spec) as ContainerSpec;
  const rows = e.store.ports(c.id);
  const ports = rows.map((r) => ({ IP: r.host_ip, PrivatePort: r.container_port, PublicPort: r.host_port, Type: r.proto }));
  const published = new Set(rows.map((r) => `${r.container_port}/${r.proto}`));
  for (const p of spec.exposedPorts) {
    const { port, proto } = portKey(p);
    if (!published.has(`${port}/${proto}`)) ports.push({ PrivatePort: port, Type: proto } as (typeof ports)[number]);
  }
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image,
    ImageID: c.image_id,
    Command: command(spec),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: ports,
    Labels: spec.labels,
    State: c.status,
    Status: statusText(c),
    HostConfig: { NetworkMode: spec.networkMode },
    NetworkSettings: { Networks: endpointsJson(e, c, spec) },
    Mounts: [],
  };
}

export function containerInspect(e: Engine, c: ContainerRow): Json {
  const spec = JSON.parse(c.spec) as ContainerSpec;
  const nets = endpointsJson(e, c, spec);
  const first = Object.values(nets)[0] as Json | undefined;
  const mode = modeOf(spec.networkMode);
  let sandboxKey = '';
  if (c.status === 'running' && mode.kind !== 'host') sandboxKey = e.sandboxes.netnsOf(c);
  const defaultBridge = mode.kind === 'network' && mode.network === 'bridge';
  const portBindings: Json = {};
  for (const b of spec.portBindings) {
    const k = `${b.containerPort}/${b.proto}`;
    portBindings[k] = [...((portBindings[k] as Json[]) ?? []), { HostIp: b.hostIp === '0.0.0.0' ? '' : b.hostIp, HostPort: b.hostPort ? String(b.hostPort) : '' }];
  }
  return {
    Id: c.id,
    Created: c.created,
    Path: [...spec.entrypoint, ...spec.cmd][0] ?? '',
    Args: [...spec.entrypoint, ...spec.cmd].slice(1),
    State: {
      Status: c.status === 'removing' ? 'removing' : c.status,
      Running: c.status === 'running',
      Paused: false,
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: c.pid,
      ExitCode: c.exit_code,
      Error: c.error,
      StartedAt: c.started_at ?? ZERO_TIME,
      FinishedAt: c.finished_at ?? ZERO_TIME,
    },
    Image: c.image_id,
    ResolvConfPath: '',
    HostnamePath: '',
    HostsPath: '',
    LogPath: `${e.info.root}/containers/${c.id}/log`,
    Name: `/${c.name}`,
    RestartCount: 0,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: [...e.containers.execs.values()].filter((x) => x.containerId === c.id).map((x) => x.id),
    HostConfig: {
      NetworkMode: spec.networkMode,
      PortBindings: portBindings,
      AutoRemove: spec.autoRemove,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      PublishAllPorts: false,
    },
    Mounts: [],
    Config: {
      Hostname: spec.hostname,
      Domainname: '',
      User: '',
      AttachStdin: spec.openStdin,
      AttachStdout: true,
      AttachStderr: true,
      ExposedPorts: Object.fromEntries([...spec.exposedPorts, ...spec.portBindings.map((b) => `${b.containerPort}/${b.proto}`)].map((k) => [k, {}])),
      Tty: spec.tty,
      OpenStdin: spec.openStdin,
      StdinOnce: spec.stdinOnce,
      Env: spec.env,
      Cmd: spec.cmd,
      Image: c.image,
      Volumes: null,
      WorkingDir: spec.workingDir,
      Entrypoint: spec.entrypoint.length ? spec.entrypoint : null,
      Labels: spec.labels,
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: sandboxKey ? c.id : '',
      SandboxKey: sandboxKey,
      Ports: c.status === 'running' ? portsMap(e, c, spec) : {},
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: defaultBridge ? (first?.EndpointID ?? '') : '',
      Gateway: defaultBridge ? (first?.Gateway ?? '') : '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      IPAddress: defaultBridge ? (first?.IPAddress ?? '') : '',
      IPPrefixLen: defaultBridge ? (first?.IPPrefixLen ?? 0) : 0,
      IPv6Gateway: '',
      MacAddress: defaultBridge ? (first?.MacAddress ?? '') : '',
      Networks: mode.kind === 'container' ? {} : nets,
    },
  };
}

export function networkJson(e: Engine, n: NetworkRow): Json {
  const containers: Json = {};
  for (const ep of e.store.endpoints({ networkId: n.id })) {
    const c = e.store.container(ep.container_id);
    containers[ep.container_id] = {
      Name: c?.name ?? '',
      EndpointID: ep.id,
      MacAddress: ep.mac,
      IPv4Address: `${ep.ip}/${n.subnet?.split('/')[1] ?? 32}`,
      IPv6Address: '',
    };
  }
  if (n.driver === 'host' || n.driver === 'null') {
    for (const c of e.store.containers()) {
      const spec = JSON.parse(c.spec) as ContainerSpec;
      if (c.status === 'running' && spec.networkMode === (n.driver === 'host' ? 'host' : 'none')) {
        containers[c.id] = { Name: c.name, EndpointID: '', MacAddress: '', IPv4Address: '', IPv6Address: '' };
      }
    }
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: n.driver === 'overlay' ? 'swarm' : 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.subnet ? [{ Subnet: n.subnet, ...(n.ip_range ? { IPRange: n.ip_range } : {}), Gateway: n.gateway }] : [] },
    Internal: n.internal === 1,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: JSON.parse(n.options),
    Labels: JSON.parse(n.labels),
  };
}

/** POST /networks/create body → what Networks.create takes. */
export function networkCreateRequest(body: Json): CreateNetwork {
  const name = str(body.Name, 'Name');
  if (!name) throw new EngineError('INVALID_PARAMETER', 'a network needs a name');
  const ipam = obj(body.IPAM, 'IPAM');
  const configs = Array.isArray(ipam.Config) ? (ipam.Config as unknown[]).map((c) => obj(c, 'IPAM.Config[]')) : [];
  if (configs.length > 1) throw new EngineError('NOT_IMPLEMENTED', 'one IPAM config (one subnet) per network is supported');
  const c = configs[0] ?? {};
  return {
    name,
    driver: str(body.Driver, 'Driver') || 'bridge',
    subnet: str(c.Subnet, 'Subnet') || undefined,
    gateway: str(c.Gateway, 'Gateway') || undefined,
    ipRange: str(c.IPRange, 'IPRange') || undefined,
    internal: body.Internal === true,
    labels: stringMap(body.Labels, 'Labels'),
    options: stringMap(body.Options, 'Options'),
  };
}

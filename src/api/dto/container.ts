/**
 * Docker's JSON for containers (Engine API v1.41): the create request converted to a ContainerSpec,
 * and a container (a core ContainerView) converted to the list summary and to inspect's shape.
 * Docker's PascalCase exists only in api/dto/.
 */
import { ContainerSpec } from '../../base/container-spec';
import { EngineError } from '../../base/errors';
import { isIP, isIPv4 } from '../../base/ip';
import { Container } from '../../base/model';
import { PortSpec } from '../../base/port-spec';
import { humanDuration } from '../../base/time';
import { parseExtraHost, parseLink } from '../../core/containers/etc-hosts';
import { ContainerView } from '../../core/queries';
import { API_VERSION, atLeast } from '../version';
import { logConfigOf } from '../../base/container-defaults';
import { shortId } from '../../base/names';
import { Json, obj, portKey, str, stringMap, strings, ZERO_TIME } from './common';
import { endpointIpv6, hostIpOf, ipamConfigJson, ipv6AddressOf, isLinkLocal, portBindingJson, portSummaryJson } from './ipv6';
import { healthcheckJson, healthSuffix, hostExtras, mountsJson, stateExtras } from './container-host';
import { hostConfigJson } from './host-config';
import { checkEndpointCount, createOptions, endpointOptions } from './create-options';

// ------------------------------------------------------------------ requests

/** POST /containers/create body → name, image and spec, read at the request's API version. */
export function createRequest(body: Json, version = API_VERSION): { image: string; spec: ContainerSpec } {
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
      const hostIp = hostIpOf(str(b.HostIp, 'HostIp'), k);
      const hp = str(b.HostPort, 'HostPort');
      const hostPort = hp === '' ? 0 : /^\d{1,5}$/.test(hp) ? Number(hp) : NaN;
      if (!Number.isInteger(hostPort) || hostPort < 0 || hostPort > 65535) throw new EngineError('INVALID_PORT_SPEC', `invalid host port "${hp}" for ${k}`, { hint: 'use a number from 1 to 65535' });
      portBindings.push({ proto, hostIp, hostPort, containerPort: port });
    }
  }
  const networks: ContainerSpec['networks'] = {};
  const nc = obj(body.NetworkingConfig, 'NetworkingConfig');
  const endpoints = Object.entries(obj(nc.EndpointsConfig, 'EndpointsConfig'));
  checkEndpointCount(endpoints.map(([n]) => n), version);
  for (const [name, cfg] of endpoints) {
    const c = obj(cfg, `EndpointsConfig.${name}`);
    networks[name] = { ...endpointConfig(c), ...endpointOptions(c, `EndpointsConfig.${name}`, version) };
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
    ...hostExtras(body, hc),
    ...createOptions(body, hc, version),
  };
  // Later fields only when given: a spec stays as small as before for a container without them.
  const extraHosts = strings(hc.ExtraHosts, 'HostConfig.ExtraHosts');
  for (const e of extraHosts) parseExtraHost(e);
  if (extraHosts.length) spec.extraHosts = extraHosts;
  const dnsSearch = strings(hc.DnsSearch, 'HostConfig.DnsSearch');
  if (dnsSearch.length) spec.dnsSearch = dnsSearch;
  const dnsOptions = strings(hc.DnsOptions, 'HostConfig.DnsOptions');
  if (dnsOptions.length) spec.dnsOptions = dnsOptions;
  const links = strings(hc.Links, 'HostConfig.Links').map(parseLink);
  if (links.length) spec.links = links;
  if (hc.PublishAllPorts === true) spec.publishAll = true;
  const sysctls = stringMap(hc.Sysctls, 'HostConfig.Sysctls');
  if (Object.keys(sysctls).length) spec.sysctls = sysctls;
  const domainname = str(body.Domainname, 'Domainname');
  if (domainname) spec.domainname = domainname;
  // Only when given: a spec without them takes the image's (core/containers/image-defaults.ts).
  const user = str(body.User, 'User');
  if (user) spec.user = user;
  const stopSignal = str(body.StopSignal, 'StopSignal');
  if (stopSignal) spec.stopSignal = stopSignal;
  for (const d of spec.dns) if (!isIP(d)) throw new EngineError('INVALID_PARAMETER', `invalid --dns address "${d}"`, { hint: 'give an IPv4 or IPv6 address' });
  if (spec.macAddress && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(spec.macAddress)) {
    throw new EngineError('INVALID_PARAMETER', `invalid MAC address "${spec.macAddress}"`, { hint: 'write it as 02:42:ac:11:00:02' });
  }
  return { image, spec };
}

/** Docker's EndpointSettings (create's EndpointsConfig, connect's EndpointConfig) → what a container asks of a network. */
export function endpointConfig(c: Json): ContainerSpec['networks'][string] {
  const ipam = obj(c.IPAMConfig, 'IPAMConfig');
  const ipv4 = str(ipam.IPv4Address, 'IPv4Address') || undefined;
  if (ipv4 && !isIPv4(ipv4)) throw new EngineError('INVALID_PARAMETER', `invalid IPv4 address: ${ipv4}`);
  const ipv6 = ipv6AddressOf(ipam);
  const linkLocalIps = strings(ipam.LinkLocalIPs, 'IPAMConfig.LinkLocalIPs');
  for (const ip of linkLocalIps) if (!isLinkLocal(ip)) throw new EngineError('INVALID_PARAMETER', `invalid link-local IP address: ${ip}`, { hint: 'give an IPv4 address in 169.254.0.0/16 or an IPv6 one in fe80::/10' });
  const driverOpts = stringMap(c.DriverOpts, 'DriverOpts');
  const links = strings(c.Links, 'Links').map(parseLink);
  return {
    ipv4,
    ...(ipv6 ? { ipv6 } : {}),
    aliases: strings(c.Aliases, 'Aliases'),
    ...(linkLocalIps.length ? { linkLocalIps } : {}),
    ...(Object.keys(driverOpts).length ? { driverOpts } : {}),
    ...(links.length ? { links } : {}),
  };
}

// ------------------------------------------------------------------ responses

/** A container waiting for its restart policy's start: "Restarting (1) 2 seconds ago". */
export function restartingText(c: Container, now = Date.now()): string {
  return `Restarting (${c.exitCode}) ${humanDuration(now - Date.parse(c.finishedAt ?? new Date(now).toISOString()))} ago`;
}

export function statusText(c: Container, now = Date.now()): string {
  if (c.status === 'running') return `Up ${humanDuration(now - Date.parse(c.startedAt!))}${c.paused ? ' (Paused)' : ''}`;
  if (c.status === 'exited') return `Exited (${c.exitCode}) ${humanDuration(now - Date.parse(c.finishedAt!))} ago`;
  if (c.status === 'removing') return 'Removal In Progress';
  return 'Created';
}

const command = (s: ContainerSpec): string => [...s.entrypoint, ...s.cmd].join(' ');

function portsMap(v: ContainerView): Json {
  const out: Json = {};
  const { spec } = v.container;
  for (const p of spec.exposedPorts) out[p] = null;
  for (const b of spec.portBindings) out[`${b.containerPort}/${b.proto}`] = null;
  for (const r of v.ports) {
    const k = `${r.containerPort}/${r.proto}`;
    out[k] = [...((out[k] as Json[] | null) ?? []), portBindingJson(r)];
  }
  return out;
}

/** `summary`: the list's entries, where Docker shows no aliases. */
function endpointsJson(v: ContainerView, version = API_VERSION, summary = false): Json {
  const nets: Json = {};
  const c = v.container;
  for (const a of v.networks) {
    const ep = a.endpoint;
    const cfg = a.config;
    const short = shortId(c.id);
    const given = (cfg?.aliases ?? ep?.aliases ?? []).filter((x) => x !== short);
    // Before 1.45 Docker added the short id to the aliases on user-defined networks when the container first started.
    const aliases = summary ? [] : !atLeast(version, '1.45') && !a.predefined && (ep || c.startedAt) ? [...given, short] : given;
    const json = ep
      ? endpointJson(a.network.id, ep.id, ep.ip ? (a.network.gateway ?? '') : '', ep.ip, ep.ip ? Number(a.network.subnet?.split('/')[1] ?? 0) : 0, ep.mac, aliases)
      : endpointJson(a.network.id, '', '', '', 0, '', aliases);
    Object.assign(json, endpointIpv6(a.network, ep));
    const ipamConfig = ipamConfigJson(cfg);
    if (ipamConfig) json.IPAMConfig = ipamConfig;
    if (cfg?.links?.length) json.Links = cfg.links.map((l) => `${l.target}:${l.alias}`);
    if (cfg?.driverOpts) json.DriverOpts = cfg.driverOpts;
    // From 1.44: the names the embedded resolver answers for it on a user-defined network.
    if (atLeast(version, '1.44')) json.DNSNames = !a.predefined && c.status === 'running' ? [c.name, short, ...given] : null;
    nets[a.network.name] = json;
  }
  return nets;
}

function endpointJson(netId: string, epId: string, gw: string, ip: string, plen: number, mac: string, aliases: string[]): Json {
  return {
    IPAMConfig: null, Links: null, Aliases: aliases.length ? aliases : null, NetworkID: netId, EndpointID: epId, Gateway: gw,
    IPAddress: ip, IPPrefixLen: plen, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, MacAddress: mac, DriverOpts: null,
  };
}

/** Config.ExposedPorts: left out when there are none, as Docker leaves it out. */
function exposedPortsJson(spec: ContainerSpec): Json {
  const keys = [...new Set([...spec.exposedPorts, ...spec.portBindings.map((b) => `${b.containerPort}/${b.proto}`)])];
  return keys.length ? { ExposedPorts: Object.fromEntries(keys.map((k) => [k, {}])) } : {};
}

/** State, as Docker shows it: a paused container is running and paused. */
export function stateJson(c: Container): Json {
  return {
    Status: c.status === 'running' && c.paused ? 'paused' : c.status,
    Running: c.status === 'running',
    Paused: c.status === 'running' && !!c.paused,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: c.pid,
    ExitCode: c.exitCode,
    Error: c.error,
    StartedAt: c.startedAt ?? ZERO_TIME,
    FinishedAt: c.finishedAt ?? ZERO_TIME,
  };
}

/** Where the root filesystem is (overlay2's layout: the layers below, the writable one, the mount). */
function graphDriverJson(v: ContainerView): Json {
  const d = v.rootfs;
  return {
    Data: d ? { LowerDir: d.lower.join(':'), MergedDir: d.merged, UpperDir: d.upper, WorkDir: d.work } : null,
    Name: 'overlay2',
  };
}

export function containerSummary(v: ContainerView, version = API_VERSION): Json {
  const c = v.container;
  const ports = v.ports.map(portSummaryJson);
  const published = new Set(v.ports.map((r) => `${r.containerPort}/${r.proto}`));
  for (const p of c.spec.exposedPorts) {
    const { port, proto } = portKey(p);
    if (!published.has(`${port}/${proto}`)) ports.push({ PrivatePort: port, Type: proto } as (typeof ports)[number]);
  }
  return {
    Id: c.id,
    Names: [`/${c.name}`],
    Image: c.image,
    ImageID: c.imageId,
    Command: command(c.spec),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: ports,
    Labels: c.spec.labels,
    State: v.restarting ? 'restarting' : c.status === 'running' && c.paused ? 'paused' : c.status,
    Status: v.restarting ? restartingText(c) : statusText(c) + healthSuffix(c),
    HostConfig: { NetworkMode: c.spec.networkMode },
    NetworkSettings: { Networks: endpointsJson(v, version, true) },
    Mounts: mountsJson(v),
  };
}

export function containerInspect(v: ContainerView, version = API_VERSION): Json {
  const c = v.container;
  const { spec } = c;
  const nets = endpointsJson(v, version);
  const first = Object.values(nets)[0] as Json | undefined;
  const defaultBridge = spec.networkMode === 'bridge';
  return {
    Id: c.id,
    Created: c.created,
    Path: [...spec.entrypoint, ...spec.cmd][0] ?? '',
    Args: [...spec.entrypoint, ...spec.cmd].slice(1),
    State: { ...stateJson(c), ...stateExtras(c, v.restarting) },
    Image: c.imageId,
    ResolvConfPath: v.etcFiles?.resolvConf ?? '',
    HostnamePath: v.etcFiles?.hostname ?? '',
    HostsPath: v.etcFiles?.hosts ?? '',
    LogPath: logConfigOf(spec).type === 'none' ? '' : v.logPath,
    Name: `/${c.name}`,
    RestartCount: c.restartCount ?? 0,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: v.execIds.length ? v.execIds : null,
    HostConfig: hostConfigJson(v, version),
    GraphDriver: graphDriverJson(v),
    Mounts: mountsJson(v),
    Config: {
      Hostname: spec.hostname,
      Domainname: spec.domainname ?? '',
      User: spec.user ?? '',
      AttachStdin: spec.openStdin,
      AttachStdout: spec.attachStdout ?? true,
      AttachStderr: spec.attachStderr ?? true,
      ...exposedPortsJson(spec),
      Tty: spec.tty,
      OpenStdin: spec.openStdin,
      StdinOnce: spec.stdinOnce,
      Env: spec.env.length ? spec.env : null,
      Cmd: spec.cmd,
      Image: c.image,
      Volumes: spec.volumes?.length ? Object.fromEntries(spec.volumes.map((p) => [p, {}])) : null,
      WorkingDir: spec.workingDir,
      Entrypoint: spec.entrypoint.length ? spec.entrypoint : null,
      OnBuild: null,
      Labels: spec.labels,
      ...(spec.macAddress ? { MacAddress: spec.macAddress } : {}),
      ...(spec.stopSignal ? { StopSignal: spec.stopSignal } : {}),
      ...(spec.stopTimeout !== undefined ? { StopTimeout: spec.stopTimeout } : {}),
      ...(spec.healthcheck ? { Healthcheck: healthcheckJson(spec.healthcheck) } : {}),
    },
    NetworkSettings: {
      Bridge: '',
      SandboxID: v.sandboxKey ? c.id : '',
      SandboxKey: v.sandboxKey,
      Ports: c.status === 'running' ? portsMap(v) : {},
      HairpinMode: false,
      LinkLocalIPv6Address: '',
      LinkLocalIPv6PrefixLen: 0,
      SecondaryIPAddresses: null,
      SecondaryIPv6Addresses: null,
      EndpointID: defaultBridge ? (first?.EndpointID ?? '') : '',
      Gateway: defaultBridge ? (first?.Gateway ?? '') : '',
      GlobalIPv6Address: defaultBridge ? (first?.GlobalIPv6Address ?? '') : '',
      GlobalIPv6PrefixLen: defaultBridge ? (first?.GlobalIPv6PrefixLen ?? 0) : 0,
      IPAddress: defaultBridge ? (first?.IPAddress ?? '') : '',
      IPPrefixLen: defaultBridge ? (first?.IPPrefixLen ?? 0) : 0,
      IPv6Gateway: defaultBridge ? (first?.IPv6Gateway ?? '') : '',
      MacAddress: defaultBridge ? (first?.MacAddress ?? '') : '',
      Networks: nets,
    },
  };
}

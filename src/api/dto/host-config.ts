/**
 * Container inspect's HostConfig, field by field as Docker 20.10 answers it, built from sections
 * (one small function each) and laid out in Docker's key order:
 *   network     NetworkMode, PortBindings, Dns*, ExtraHosts, Links, PublishAllPorts, Sysctls
 *   restart     AutoRemove
 *   storage     VolumeDriver
 *   namespaces  IpcMode, PidMode, UTSMode, CgroupnsMode, UsernsMode, Cgroup, Init
 *   runtime     LogConfig, Runtime, ConsoleSize, Isolation, security fields, paths
 *   resources   Docker's zero values of what ctrnet does not limit
 *   extras      mounts, restart policy, limits (dto/container-host.ts hostConfigExtras)
 * A section may return keys that are not in the order list; they follow the listed ones.
 */
import { ContainerSpec } from '../../base/container-spec';
import { ipcModeOf, logConfigOf, MASKED_PATHS, READONLY_PATHS } from '../../base/container-defaults';
import { ContainerView } from '../../core/queries';
import { atLeast } from '../version';
import { Json } from './common';
import { hostConfigExtras } from './container-host';

/** Docker's order of HostConfig's keys (container inspect). */
const ORDER = [
  'Binds', 'ContainerIDFile', 'LogConfig', 'NetworkMode', 'PortBindings', 'RestartPolicy', 'AutoRemove', 'VolumeDriver', 'VolumesFrom',
  'CapAdd', 'CapDrop', 'CgroupnsMode', 'Dns', 'DnsOptions', 'DnsSearch', 'ExtraHosts', 'GroupAdd', 'IpcMode', 'Cgroup', 'Links',
  'OomScoreAdj', 'PidMode', 'Privileged', 'PublishAllPorts', 'ReadonlyRootfs', 'SecurityOpt', 'StorageOpt', 'Tmpfs', 'UTSMode', 'UsernsMode', 'ShmSize',
  'Sysctls', 'Runtime', 'ConsoleSize', 'Annotations', 'Isolation', 'CpuShares', 'Memory', 'NanoCpus', 'CgroupParent', 'BlkioWeight', 'BlkioWeightDevice', 'BlkioDeviceReadBps',
  'BlkioDeviceWriteBps', 'BlkioDeviceReadIOps', 'BlkioDeviceWriteIOps', 'CpuPeriod', 'CpuQuota', 'CpuRealtimePeriod', 'CpuRealtimeRuntime',
  'CpusetCpus', 'CpusetMems', 'Devices', 'DeviceCgroupRules', 'DeviceRequests', 'KernelMemory', 'KernelMemoryTCP', 'MemoryReservation', 'MemorySwap',
  'MemorySwappiness', 'OomKillDisable', 'PidsLimit', 'Ulimits', 'CpuCount', 'CpuPercent', 'IOMaximumIOps', 'IOMaximumBandwidth', 'Mounts',
  'MaskedPaths', 'ReadonlyPaths', 'Init',
];

function portBindingsJson(spec: ContainerSpec): Json {
  const out: Json = {};
  for (const b of spec.portBindings) {
    const k = `${b.containerPort}/${b.proto}`;
    out[k] = [...((out[k] as Json[]) ?? []), { HostIp: b.hostIp === '0.0.0.0' ? '' : b.hostIp, HostPort: b.hostPort ? String(b.hostPort) : '' }];
  }
  return out;
}

export function networkSection(v: ContainerView): Json {
  const { spec, name } = v.container;
  return {
    NetworkMode: spec.networkMode, PortBindings: portBindingsJson(spec), Dns: spec.dns, DnsOptions: spec.dnsOptions ?? [], DnsSearch: spec.dnsSearch ?? [],
    ExtraHosts: spec.extraHosts?.length ? spec.extraHosts : null,
    Links: spec.links?.length ? spec.links.map((l) => `/${v.linkNames[l.target] ?? l.target}:/${name}/${l.alias}`) : null,
    PublishAllPorts: spec.publishAll === true,
    ...(spec.sysctls ? { Sysctls: spec.sysctls } : {}),
  };
}

export function restartSection(spec: ContainerSpec): Json {
  return { AutoRemove: spec.autoRemove };
}

export function storageSection(spec: ContainerSpec): Json {
  return { VolumeDriver: spec.volumeDriver ?? '' };
}

/** A container mode names the container by its id (resolved at create), as Docker shows it. */
const shownMode = (m: string | undefined): string => m ?? '';

export function namespacesSection(spec: ContainerSpec): Json {
  const out: Json = { CgroupnsMode: 'host', IpcMode: ipcModeOf(spec), Cgroup: '', PidMode: shownMode(spec.pidMode), UTSMode: shownMode(spec.utsMode), UsernsMode: '' };
  // Docker shows Init only when it was set.
  if (spec.init) out.Init = true;
  return out;
}

export function runtimeSection(spec: ContainerSpec, version: string): Json {
  const log = logConfigOf(spec);
  const out: Json = {
    ContainerIDFile: '', LogConfig: { Type: log.type, Config: log.config }, CapAdd: null, CapDrop: null, GroupAdd: null, OomScoreAdj: 0, Privileged: false,
    SecurityOpt: null, Runtime: 'runc', Isolation: '', MaskedPaths: MASKED_PATHS, ReadonlyPaths: READONLY_PATHS,
    ConsoleSize: spec.consoleSize ?? [0, 0],
  };
  if (atLeast(version, '1.43')) out.Annotations = spec.annotations ?? null;
  return out;
}

/** Resource limits: Docker's zero values (nothing is limited). */
export function resourcesSection(_spec: ContainerSpec, version: string): Json {
  const out: Json = {
    CpuShares: 0, Memory: 0, NanoCpus: 0, CgroupParent: '', BlkioWeight: 0, BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [],
    BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [], CpuPeriod: 0, CpuQuota: 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0, CpusetCpus: '', CpusetMems: '',
    Devices: [], DeviceCgroupRules: null, DeviceRequests: null, MemoryReservation: 0, MemorySwap: 0, MemorySwappiness: null, OomKillDisable: false,
    PidsLimit: null, Ulimits: [], CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
  };
  // From 1.42 Docker omits KernelMemory (and KernelMemoryTCP) when not set.
  if (!atLeast(version, '1.42')) Object.assign(out, { KernelMemory: 0, KernelMemoryTCP: 0 });
  return out;
}

/** Lays the sections out in Docker's order; keys no list knows follow. */
export function ordered(fields: Json, order: readonly string[]): Json {
  const out: Json = {};
  for (const k of order) if (k in fields) out[k] = fields[k];
  for (const k of Object.keys(fields)) if (!(k in out)) out[k] = fields[k];
  return out;
}

export function hostConfigJson(v: ContainerView, version: string): Json {
  const spec = v.container.spec;
  return ordered(
    // The extras' real values (limits, policy, mounts) over the sections' zero values.
    { ...networkSection(v), ...restartSection(spec), ...resourcesSection(spec, version), ...hostConfigExtras(spec), ...storageSection(spec), ...namespacesSection(spec), ...runtimeSection(spec, version) },
    ORDER,
  );
}

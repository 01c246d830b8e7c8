/**
 * The Docker Engine API's JSON as the CLI sends and reads it: typed views with only the fields the
 * commands use (the daemon sends more; api/dto.ts is its side of the wire). Types only.
 */

/** POST /containers/create: the body `run` and `create` build from their flags */
export interface ContainerCreateBody {
  Hostname: string;
  Image: string;
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  Env: string[];
  WorkingDir: string;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Labels: Record<string, string>;
  ExposedPorts: Record<string, Record<string, never>>;
  MacAddress: string;
  User?: string;
  StopSignal?: string;
  HostConfig: {
    NetworkMode: string; PortBindings: Record<string, PortBinding[]>; AutoRemove: boolean; Dns: string[];
    DnsSearch?: string[]; DnsOptions?: string[]; ExtraHosts?: string[]; Links?: string[]; PublishAllPorts?: boolean; Sysctls?: Record<string, string>;
  } & HostConfigExtras;
  NetworkingConfig: { EndpointsConfig?: Record<string, EndpointSettings> };
  Domainname?: string;
  Volumes?: Record<string, Record<string, never>>;
  Healthcheck?: object;
}

/** HostConfig's mounts, restart policy and limits (also the body of POST /containers/{id}/update). */
export interface HostConfigExtras {
  Binds?: string[] | null;
  Mounts?: object[];
  Tmpfs?: Record<string, string>;
  VolumesFrom?: string[] | null;
  ReadonlyRootfs?: boolean;
  RestartPolicy?: { Name: string; MaximumRetryCount: number };
  Memory?: number;
  MemorySwap?: number;
  MemoryReservation?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuPeriod?: number;
  CpuQuota?: number;
  CpusetCpus?: string;
  CpusetMems?: string;
  PidsLimit?: number;
  Ulimits?: { Name: string; Soft: number; Hard: number }[] | null;
  ShmSize?: number;
}

/** A volume (GET /volumes/{name}, an entry of GET /volumes). */
export interface VolumeJson {
  Name: string;
  Driver: string;
  Mountpoint: string;
  CreatedAt: string;
  Labels: Record<string, string> | null;
  Options: Record<string, string> | null;
  Scope: string;
}

export interface EndpointSettings {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] };
  Aliases?: string[];
}

export interface PortBinding {
  HostIp: string;
  HostPort: string;
}

/** POST /containers/create, POST /containers/{id}/exec, POST /networks/create */
export interface IdResponse {
  Id: string;
  Warnings?: string[] | null;
}

/** POST /containers/{id}/wait (streamed: the body comes when the container exits) */
export interface WaitResponse {
  StatusCode: number;
  Error?: { Message?: string } | null;
}

/** GET /containers/json */
export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  Command: string;
  /** seconds since the epoch */
  Created: number;
  Status: string;
  Ports: PortSummary[];
}

export interface PortSummary {
  IP?: string;
  PrivatePort: number;
  PublicPort?: number;
  Type: string;
}

/** GET /containers/{id}/json */
export interface ContainerInspect {
  Config: { Tty: boolean };
  NetworkSettings: { Ports: Record<string, PortBinding[] | null> | null };
}

/** POST /containers/{id}/exec */
export interface ExecCreateBody {
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  Tty: boolean;
  Env: string[];
  WorkingDir: string;
  Cmd: string[];
}

/** GET /exec/{id}/json */
export interface ExecInspect {
  ExitCode: number | null;
}

/** GET /images/json */
export interface ImageSummary {
  Id: string;
  RepoTags: string[];
  RepoDigests?: string[] | null;
  /** seconds since the epoch */
  Created: number;
  /** bytes */
  Size: number;
}

/** DELETE /images/{name}: one line per tag removed and layer deleted */
export interface ImageDeleteItem {
  Untagged?: string;
  Deleted?: string;
}

/** POST /images/create?fromSrc=- */
export interface ImageImportResponse {
  status: string;
}

/** GET /networks */
export interface NetworkSummary {
  Id: string;
  Name: string;
  Driver: string;
  Scope: string;
}

/** POST /networks/create */
export interface NetworkCreateBody {
  Name: string;
  Driver: string;
  Internal: boolean;
  IPAM: { Driver: string; Options: Record<string, string>; Config: IpamConfig[] };
  Options: Record<string, string>;
  Labels: Record<string, string>;
  CheckDuplicate: boolean;
  EnableIPv6?: boolean;
  EnableIPv4?: boolean;
}

export interface IpamConfig {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
  AuxiliaryAddresses?: Record<string, string>;
}

/** POST /networks/{id}/connect */
export interface NetworkConnectBody {
  Container: string;
  EndpointConfig: { IPAMConfig: { IPv4Address?: string; IPv6Address?: string }; Aliases: string[]; Links?: string[] };
}

/** POST /networks/prune */
export interface NetworksPruneResponse {
  NetworksDeleted: string[] | null;
}

/** GET /version */
export interface VersionResponse {
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  KernelVersion: string;
  Os: string;
  Arch: string;
}

/** GET /info */
export interface InfoResponse {
  Containers: number;
  ContainersRunning: number;
  ContainersStopped: number;
  Images: number;
  ServerVersion: string;
  DefaultRuntime: string;
  Plugins: { Network: string[] };
  KernelVersion: string;
  DockerRootDir: string;
  ExecRoot: string;
}

/**
 * What a user asked for when creating a container, as stored with it (JSON in the containers table).
 * Docker's PascalCase request is converted to this at the API boundary (api/dto.ts).
 */
import { HealthConfig } from './health';
import { MountPoint } from './mount-spec';
import { PortSpec } from './port-spec';
import { NO_RESOURCES, Resources } from './resources';
import { NO_RESTART, RestartPolicy } from './restart-policy';

/** A link (`--link TARGET:ALIAS`): the target (its id for --link, as given for an endpoint's links) and the alias. */
export interface Link {
  target: string;
  alias: string;
}

/** What a container asks of one of its networks (Docker's EndpointSettings). */
export interface EndpointConfig {
  /** a fixed address (--ip) */
  ipv4?: string;
  aliases: string[];
  /** --link-local-ip: extra link-local addresses on the interface */
  linkLocalIps?: string[];
  /** the endpoint's driver options, as given (shown by inspect) */
  driverOpts?: Record<string, string>;
  /** links given with `network connect --link`: aliases of other containers on this network */
  links?: Link[];
  /** API 1.44+: this endpoint's MAC address */
  macAddress?: string;
  /** API 1.48+: the endpoint with the highest priority gives the default route */
  gwPriority?: number;
  /** a fixed IPv6 address (--ip6) */
  ipv6?: string;
}

export interface ContainerSpec {
  cmd: string[];
  entrypoint: string[];
  env: string[];
  workingDir: string;
  /** empty: the short id, as Docker does */
  hostname: string;
  tty: boolean;
  openStdin: boolean;
  stdinOnce: boolean;
  labels: Record<string, string>;
  /** "bridge" (default), "host", "none", "container:<id>" (resolved to a full id at create) or a network name */
  networkMode: string;
  portBindings: PortSpec[];
  exposedPorts: string[];
  autoRemove: boolean;
  /** name servers for /etc/resolv.conf (--dns); empty: the host's, as Docker filters them */
  dns: string[];
  /** --mac-address; empty: derived from the address */
  macAddress: string;
  /** per-network settings (requested address, aliases), by network name */
  networks: Record<string, EndpointConfig>;
  // Fields added later: optional, so that specs stored by older daemons still load.
  /** --add-host, as given ("NAME:IP"); IP may be "host-gateway" */
  extraHosts?: string[];
  /** --dns-search */
  dnsSearch?: string[];
  /** --dns-option */
  dnsOptions?: string[];
  /** --link: on the default bridge a hosts entry and Docker's legacy environment variables, on other networks a name */
  links?: Link[];
  /** -P: every exposed port (the container's and its image's) on a free host port */
  publishAll?: boolean;
  /** disconnected from every network: it stays in its network mode, with only lo, until connected again */
  noNetworks?: boolean;
  /** --sysctl: namespaced kernel settings (net.* live in the container's network namespace) */
  sysctls?: Record<string, string>;
  /** --domainname (the NIS domain name; /etc/hosts gets HOSTNAME.DOMAIN too) */
  domainname?: string;
  /** name|uid[:group|gid] (--user, or the image's User); absent: root */
  user?: string;
  /** the signal `stop` sends first (--stop-signal, or the image's StopSignal); absent: SIGTERM */
  stopSignal?: string;
  // Storage, restarts, health checks, limits. Optional: a spec stored before them lacks them
  // (read them with mountsOf, restartOf, resourcesOf).
  /** every mount, settled at create (volumes named, --volumes-from copied): base/mount-spec.ts */
  mounts?: MountPoint[];
  /** as asked, for inspect: HostConfig.Binds, HostConfig.Tmpfs, HostConfig.VolumesFrom, Config.Volumes */
  binds?: string[];
  tmpfs?: Record<string, string>;
  volumesFrom?: string[];
  volumes?: string[];
  /** --read-only */
  readonlyRootfs?: boolean;
  restartPolicy?: RestartPolicy;
  /** the container's own Config.Healthcheck (the image's fills what it leaves unset) */
  healthcheck?: HealthConfig;
  resources?: Resources;
  // Added by issue 16 (read them with the defaults of base/container-defaults.ts).
  /** seconds `stop` waits before SIGKILL (--stop-timeout); absent: 10 */
  stopTimeout?: number;
  /** --pid: "" (its own), "host", "container:<id>" (resolved to a full id at create) */
  pidMode?: string;
  /** --uts: "" (its own), "host" */
  utsMode?: string;
  /** --ipc: "private" (default), "shareable", "none", "host", "container:<id>" */
  ipcMode?: string;
  /** --init: tini runs as PID 1 and reaps */
  init?: boolean;
  /** --log-driver / --log-opt: json-file (default), local or none */
  logConfig?: { type: string; config: Record<string, string> };
  /** --volume-driver, as given */
  volumeDriver?: string;
  /** the terminal size at start (API 1.42+: HostConfig.ConsoleSize, rows then columns) */
  consoleSize?: [number, number];
  /** Config.AttachStdout/AttachStderr as asked (absent: true) */
  attachStdout?: boolean;
  attachStderr?: boolean;
  /** API 1.43+: HostConfig.Annotations, passed to the runtime as the OCI bundle's annotations */
  annotations?: Record<string, string>;
}

export const mountsOf = (s: ContainerSpec): MountPoint[] => s.mounts ?? [];
export const restartOf = (s: ContainerSpec): RestartPolicy => s.restartPolicy ?? NO_RESTART;
export const resourcesOf = (s: ContainerSpec): Resources => ({ ...NO_RESOURCES, ...s.resources });

export const CONTAINER_MODE_PREFIX = 'container:';

const ADJECTIVES = ['brave', 'calm', 'eager', 'fancy', 'gentle', 'happy', 'jolly', 'kind', 'lively', 'nifty', 'proud', 'quirky', 'relaxed', 'silly', 'sleepy', 'wizardly', 'zealous', 'bold', 'clever', 'focused'];
const NAMES = ['turing', 'hopper', 'lovelace', 'ritchie', 'thompson', 'torvalds', 'knuth', 'dijkstra', 'hamilton', 'liskov', 'lamport', 'cerf', 'kahn', 'postel', 'shannon', 'noether', 'curie', 'babbage', 'perlman', 'metcalfe'];

/** Docker-style random names such as "eager_lovelace". */
export function randomName(taken: (name: string) => boolean): string {
  for (let i = 0; ; i++) {
    const a = ADJECTIVES[Math.floor(Math.random() * ADJECTIVES.length)];
    const n = NAMES[Math.floor(Math.random() * NAMES.length)];
    const name = i < 10 ? `${a}_${n}` : `${a}_${n}${i}`;
    if (!taken(name)) return name;
  }
}

/** Container and network names Docker accepts. */
export const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** A container's network mode, parsed. */
export type Mode = { kind: 'host' } | { kind: 'none' } | { kind: 'container'; target: string } | { kind: 'network'; network: string };

export function modeOf(networkMode: string): Mode {
  if (networkMode === 'host') return { kind: 'host' };
  if (networkMode === 'none') return { kind: 'none' };
  if (networkMode.startsWith(CONTAINER_MODE_PREFIX)) return { kind: 'container', target: networkMode.slice(CONTAINER_MODE_PREFIX.length) };
  return { kind: 'network', network: networkMode === 'default' || networkMode === '' ? 'bridge' : networkMode };
}

/**
 * A network's endpoint settings in a spec: keyed by the network's id when another network shares
 * its name (API < 1.44 made a duplicate), else by its name.
 */
export function endpointConfigOf(spec: Pick<ContainerSpec, 'networks'>, net: { id: string; name: string }): EndpointConfig | undefined {
  return spec.networks[net.id] ?? spec.networks[net.name];
}

/** The networks a container in network mode joins, the primary (its network mode) first. */
export function attachments(spec: ContainerSpec): string[] {
  const mode = modeOf(spec.networkMode);
  if (mode.kind !== 'network' || spec.noNetworks) return [];
  const rest = Object.keys(spec.networks).filter((n) => n !== mode.network);
  return spec.networks[mode.network] || Object.keys(spec.networks).length === 0 ? [mode.network, ...rest] : rest;
}

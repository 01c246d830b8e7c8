/**
 * What a user asked for when creating a container, as stored with it (JSON in the containers table).
 * Docker's PascalCase request is converted to this at the API boundary (api/dto.ts).
 */
import { PortSpec } from './port-spec';

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
  networks: Record<string, { ipv4?: string; aliases: string[] }>;
}

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

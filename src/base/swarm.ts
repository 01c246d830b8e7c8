/**
 * The record of the one-node swarm this engine may manage (core/swarm.ts): its cluster id, this
 * node's id and addresses, the spec with Docker's defaults, the join tokens. Plain data: the
 * state store keeps it, the API shows it in Docker's shapes (api/dto/swarm.ts).
 */

/** Docker's swarm spec, the fields ctrnet keeps (durations in nanoseconds, as Docker's JSON has them). */
export interface SwarmSpec {
  name: string;
  labels: Record<string, string>;
  taskHistoryRetentionLimit: number;
  snapshotInterval: number;
  keepOldSnapshots: number;
  logEntriesForSlowFollowers: number;
  electionTick: number;
  heartbeatTick: number;
  heartbeatPeriod: number;
  nodeCertExpiry: number;
  autoLockManagers: boolean;
}

/** Docker's defaults (swarmkit's): what `docker swarm init` without flags gets. */
export const DEFAULT_SWARM_SPEC: SwarmSpec = {
  name: 'default',
  labels: {},
  taskHistoryRetentionLimit: 5,
  snapshotInterval: 10000,
  keepOldSnapshots: 0,
  logEntriesForSlowFollowers: 500,
  electionTick: 10,
  heartbeatTick: 1,
  heartbeatPeriod: 5_000_000_000,
  nodeCertExpiry: 7_776_000_000_000_000,
  autoLockManagers: false,
};

export interface SwarmState {
  /** the cluster's id (25 characters, as swarmkit's) */
  id: string;
  /** this node's id, the one manager */
  nodeId: string;
  created: string;
  updated: string;
  /** the address other nodes would reach this one at (no port) */
  advertiseAddr: string;
  /** host:port the swarm's control plane would listen on (ctrnet opens no port for it) */
  listenAddr: string;
  dataPathPort: number;
  defaultAddrPool: string[];
  subnetSize: number;
  spec: SwarmSpec;
  joinTokens: { worker: string; manager: string };
  /** Docker's object version: raised by each change */
  version: number;
}

/** Docker's JSON for the swarm (Engine API v1.41): the swarm, its one node, /info's Swarm section, and the init request. */
import os from 'node:os';
import { EngineError } from '../../base/errors';
import { SwarmSpec, SwarmState } from '../../base/swarm';
import { SwarmInit } from '../../core/swarm';
import { Json, obj, str, stringMap, strings } from './common';

function specJson(s: SwarmSpec): Json {
  return {
    Name: s.name,
    Labels: s.labels,
    Orchestration: { TaskHistoryRetentionLimit: s.taskHistoryRetentionLimit },
    Raft: { SnapshotInterval: s.snapshotInterval, KeepOldSnapshots: s.keepOldSnapshots, LogEntriesForSlowFollowers: s.logEntriesForSlowFollowers, ElectionTick: s.electionTick, HeartbeatTick: s.heartbeatTick },
    Dispatcher: { HeartbeatPeriod: s.heartbeatPeriod },
    CAConfig: { NodeCertExpiry: s.nodeCertExpiry },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: s.autoLockManagers },
  };
}

/** The cluster as /info's Swarm.Cluster shows it (no join tokens). */
function clusterJson(s: SwarmState): Json {
  return {
    ID: s.id,
    Version: { Index: s.version },
    CreatedAt: s.created,
    UpdatedAt: s.updated,
    Spec: specJson(s.spec),
    // ctrnet's swarm has no CA: nothing is signed.
    TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
    RootRotationInProgress: false,
    DefaultAddrPool: s.defaultAddrPool,
    SubnetSize: s.subnetSize,
    DataPathPort: s.dataPathPort,
  };
}

/** GET /swarm */
export function swarmJson(s: SwarmState): Json {
  return { ...clusterJson(s), JoinTokens: { Worker: s.joinTokens.worker, Manager: s.joinTokens.manager } };
}

const managerAddr = (s: SwarmState) => `${s.advertiseAddr.includes(':') ? `[${s.advertiseAddr}]` : s.advertiseAddr}:${s.listenAddr.split(':').pop()}`;

/** GET /nodes/{id}: this engine, the one manager and leader. */
export function nodeJson(s: SwarmState, engineVersion: string): Json {
  return {
    ID: s.nodeId,
    Version: { Index: s.version - 1 },
    CreatedAt: s.created,
    UpdatedAt: s.updated,
    Spec: { Labels: {}, Role: 'manager', Availability: 'active' },
    Description: {
      Hostname: os.hostname(),
      Platform: { Architecture: os.arch() === 'x64' ? 'x86_64' : os.arch(), OS: 'linux' },
      Resources: { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() },
      Engine: { EngineVersion: engineVersion, Plugins: [{ Type: 'Network', Name: 'bridge' }, { Type: 'Network', Name: 'host' }, { Type: 'Network', Name: 'null' }, { Type: 'Network', Name: 'overlay' }, { Type: 'Volume', Name: 'local' }] },
      TLSInfo: { TrustRoot: '', CertIssuerSubject: '', CertIssuerPublicKey: '' },
    },
    Status: { State: 'ready', Addr: s.advertiseAddr },
    ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: managerAddr(s) },
  };
}

/** /info's Swarm section, in a swarm or not. */
export function infoSwarmJson(s: SwarmState | undefined): Json {
  if (!s) return { LocalNodeState: 'inactive', NodeID: '', NodeAddr: '', ControlAvailable: false, Error: '', RemoteManagers: null };
  return {
    NodeID: s.nodeId, NodeAddr: s.advertiseAddr, LocalNodeState: 'active', ControlAvailable: true, Error: '',
    RemoteManagers: [{ NodeID: s.nodeId, Addr: managerAddr(s) }], Nodes: 1, Managers: 1, Cluster: clusterJson(s),
  };
}

const num = (v: unknown, field: string): number | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new EngineError('INVALID_PARAMETER', `${field} must be a non-negative integer`);
  return v;
};

/** POST /swarm/init body → what Swarm.init takes. */
export function swarmInitRequest(body: Json): SwarmInit {
  const spec = obj(body.Spec, 'Spec');
  const raft = obj(spec.Raft, 'Spec.Raft');
  const given: Partial<SwarmSpec> = {};
  const set = <K extends keyof SwarmSpec>(k: K, v: SwarmSpec[K] | undefined) => {
    if (v !== undefined && v !== 0 && v !== '') given[k] = v;
  };
  set('name', str(spec.Name, 'Spec.Name'));
  if (spec.Labels) given.labels = stringMap(spec.Labels, 'Spec.Labels');
  set('taskHistoryRetentionLimit', num(obj(spec.Orchestration, 'Spec.Orchestration').TaskHistoryRetentionLimit, 'TaskHistoryRetentionLimit'));
  set('snapshotInterval', num(raft.SnapshotInterval, 'SnapshotInterval'));
  set('keepOldSnapshots', num(raft.KeepOldSnapshots, 'KeepOldSnapshots'));
  set('logEntriesForSlowFollowers', num(raft.LogEntriesForSlowFollowers, 'LogEntriesForSlowFollowers'));
  set('electionTick', num(raft.ElectionTick, 'ElectionTick'));
  set('heartbeatTick', num(raft.HeartbeatTick, 'HeartbeatTick'));
  set('heartbeatPeriod', num(obj(spec.Dispatcher, 'Spec.Dispatcher').HeartbeatPeriod, 'HeartbeatPeriod'));
  set('nodeCertExpiry', num(obj(spec.CAConfig, 'Spec.CAConfig').NodeCertExpiry, 'NodeCertExpiry'));
  if (obj(spec.EncryptionConfig, 'Spec.EncryptionConfig').AutoLockManagers === true) {
    throw new EngineError('NOT_SUPPORTED', 'autolock: ctrnet\'s swarm keeps no encrypted Raft state to lock', { hint: 'leave --autolock out' });
  }
  const pool = strings(body.DefaultAddrPool, 'DefaultAddrPool');
  const dataPathPort = num(body.DataPathPort, 'DataPathPort');
  const subnetSize = num(body.SubnetSize, 'SubnetSize');
  return {
    advertiseAddr: str(body.AdvertiseAddr, 'AdvertiseAddr'),
    listenAddr: str(body.ListenAddr, 'ListenAddr'),
    forceNewCluster: body.ForceNewCluster === true,
    ...(dataPathPort ? { dataPathPort } : {}),
    ...(pool.length ? { defaultAddrPool: pool } : {}),
    ...(subnetSize ? { subnetSize } : {}),
    spec: given,
  };
}

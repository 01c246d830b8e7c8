/**
 * The engine as the API and the live views see it: the services, wired together in one pass in
 * daemon/main.ts, and the two whole-host reads (explain, topology).
 */
import { EngineEvents } from '../base/events';
import { ImageStore } from '../images/image-store';
import { ExternalAttachments } from './attachments/external';
import { Containers } from './containers/containers';
import { CommitRequest } from './containers/commit';
import { Execs } from './containers/execs';
import { Introspection } from './containers/introspection';
import { Stdio } from './containers/stdio';
import { DiskUsage } from './disk-usage';
import { EventLog } from './event-log';
import { Prune } from './prune';
import type { Container } from '../base/model';
import type { Image } from '../images/image-store';
import type { Explanation } from '../base/explanation';
import { Networks } from './networks';
import { Queries } from './queries';
import { Swarm } from './swarm';
import { Volumes } from './volumes';
import type { Topology } from '../base/topology';

export interface EngineInfo {
  version: string;
  root: string;
  execRoot: string;
  bridge: string;
  mtu: number;
  startedAt: Date;
}

export interface Engine {
  containers: Containers;
  stdio: Stdio;
  execs: Execs;
  networks: Networks;
  images: ImageStore;
  volumes: Volumes;
  queries: Queries;
  /** sandboxes of other runtimes on ctrnet networks (the CNI and Docker plugins) */
  attachments: ExternalAttachments;
  events: EngineEvents;
  /** the recent events and live subscriptions behind /events */
  eventLog: EventLog;
  /** top, stats, diff */
  introspection: Introspection;
  prune: Prune;
  /** the one-node swarm this engine may manage */
  swarm: Swarm;
  /** docker commit: a new image from a container's writable layer */
  commit(c: Container, req: CommitRequest): Promise<Image>;
  /** docker system df */
  diskUsage(): Promise<DiskUsage>;
  info: EngineInfo;
  /** what gives a container its network, read from the kernel */
  explain(idOrName: string): Promise<Explanation>;
  topology(): Promise<Topology>;
  /** re-applies the firewall's whole desired state (`ctrnet system reload`) */
  reloadFirewall(): Promise<void>;
}

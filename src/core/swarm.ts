/**
 * A one-node swarm: `docker swarm init` makes this engine the one manager of its own swarm, as
 * Docker does on a single host, so that Docker users' network workflows work: the `ingress`
 * network, overlay networks that are swarm-scoped, attachable, and reachable by `docker run`.
 * The record (base/swarm.ts) is kept in the state store and survives restarts.
 *
 * Overlay networks of a daemon without `--cluster-store` live in the one-member cluster store
 * (state/local-cluster-store.ts), which accepts them only while the swarm exists; leaving removes
 * them. With `--cluster-store`, overlay networks are etcd's as before and outlive the swarm; only
 * the ingress network is the swarm's.
 *
 * Limitations: one node. Joining (`swarm join`) is refused: ctrnet joins hosts through
 * `ctrnetd --cluster-store etcd://…`. No services, tasks, secrets or configs (ctrnet runs
 * containers with `docker run`); no Raft, no TLS CA, no control port is opened (the listen
 * address is recorded only); the join tokens are shown as Docker shows them and accepted nowhere.
 * `leave --force` refuses while containers are attached to the swarm's networks (Docker would
 * disconnect them): stop or disconnect them first.
 */
import { randomBytes } from 'node:crypto';
import { EngineError } from '../base/errors';
import { Network } from '../base/model';
import { DEFAULT_SWARM_SPEC, SwarmSpec, SwarmState } from '../base/swarm';
import { Kernel } from '../kernel/kernel';
import { AttachmentRepo, ContainerRepo, EndpointRepo, SwarmRepo } from '../state/repos';
import { Networks } from './networks';

export interface SwarmInit {
  /** an address, address:port, or an interface name; "" to let the engine choose */
  advertiseAddr: string;
  /** host:port (default 0.0.0.0:2377) */
  listenAddr: string;
  forceNewCluster: boolean;
  dataPathPort?: number;
  defaultAddrPool?: string[];
  subnetSize?: number;
  spec?: Partial<SwarmSpec>;
}

export const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
export const NOT_PART = 'This node is not part of a swarm';
const ALREADY = 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
const LAST_MANAGER = 'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.';

const INGRESS = { name: 'ingress', subnet: '10.0.0.0/24', gateway: '10.0.0.1' };
const SWARM_PORT = 2377;

/** swarmkit's ids: 25 characters of [0-9a-z]. */
function swarmId(): string {
  const alphabet = '0123456789abcdefghijklmnopqrstuvwxyz';
  return [...randomBytes(25)].map((b) => alphabet[b % 36]).join('');
}

export interface SwarmRepos {
  swarm: SwarmRepo;
  endpoints: EndpointRepo;
  containers: ContainerRepo;
  attachments: AttachmentRepo;
}

export class Swarm {
  constructor(
    private readonly repo: SwarmRepos,
    private readonly networks: Networks,
    private readonly kernel: Kernel,
    /** whether overlay networks are etcd's (`--cluster-store`): then they are not the swarm's to remove */
    private readonly clusterStore: boolean,
  ) {}

  /** The swarm, or undefined when this engine is not in one. */
  state(): SwarmState | undefined {
    return this.repo.swarm.get();
  }

  /** The swarm; SWARM_INACTIVE (Docker's "not a swarm manager") without one. */
  manager(): SwarmState {
    const s = this.state();
    if (!s) throw new EngineError('SWARM_INACTIVE', NOT_MANAGER);
    return s;
  }

  async init(req: SwarmInit): Promise<SwarmState> {
    const had = this.state();
    if (had && !req.forceNewCluster) throw new EngineError('SWARM_ACTIVE', ALREADY);
    // --force-new-cluster on the one manager: a new cluster from the current state, which is this one.
    if (had) return had;
    const listenAddr = withPort(req.listenAddr || `0.0.0.0:${SWARM_PORT}`);
    const advertiseAddr = await this.chooseAdvertise(req.advertiseAddr, listenAddr);
    const now = new Date().toISOString();
    const token = () => `SWMTKN-1-${swarmId()}${swarmId()}-${swarmId()}`;
    const s: SwarmState = {
      id: swarmId(), nodeId: swarmId(), created: now, updated: now, advertiseAddr, listenAddr,
      dataPathPort: req.dataPathPort || 4789,
      defaultAddrPool: req.defaultAddrPool?.length ? req.defaultAddrPool : ['10.0.0.0/8'],
      subnetSize: req.subnetSize || 24,
      spec: { ...DEFAULT_SWARM_SPEC, ...req.spec, labels: req.spec?.labels ?? {} },
      joinTokens: { worker: token(), manager: token() },
      version: 10,
    };
    if (s.defaultAddrPool.join() !== '10.0.0.0/8' || s.subnetSize !== 24) {
      throw new EngineError('NOT_SUPPORTED', `default address pool ${s.defaultAddrPool.join(', ')} /${s.subnetSize}: ctrnet's overlay networks take their subnets from 10.0.0.0/8 by /24`, { hint: 'leave --default-addr-pool and --default-addr-pool-mask-length out, or give each network its --subnet' });
    }
    if (s.dataPathPort !== 4789) throw new EngineError('NOT_SUPPORTED', `data path port ${s.dataPathPort}: ctrnet's VXLAN devices use port 4789`, { hint: 'leave --data-path-port out' });
    this.repo.swarm.put(s);
    try {
      await this.ensureIngress();
    } catch (e) {
      this.repo.swarm.delete();
      throw e;
    }
    return s;
  }

  /** `swarm join`: this engine's swarm is itself (a second host joins through the cluster store). */
  join(): never {
    if (this.state()) throw new EngineError('SWARM_ACTIVE', ALREADY);
    throw new EngineError('SWARM_UNSUPPORTED', 'ctrnet cannot join a swarm: its swarm is this one host (docker swarm init)', {
      hint: 'for containers on several hosts, start ctrnetd on each with --cluster-store etcd://HOST:2379 --advertise-addr IP and use overlay networks',
    });
  }

  /** Docker makes the `ingress` network at init; with a cluster store another host's may already be there. */
  private async ensureIngress(): Promise<void> {
    const had = this.networks.find(INGRESS.name);
    if (had?.ingress) return;
    await this.networks.create({ name: INGRESS.name, driver: 'overlay', subnet: INGRESS.subnet, gateway: INGRESS.gateway, ingress: true, internal: false, labels: {}, options: {} });
  }

  /** Leaves the swarm (the manager: only with `force`), removing the swarm's networks first; all or nothing. */
  async leave(force: boolean): Promise<void> {
    if (!this.state()) throw new EngineError('SWARM_INACTIVE', NOT_PART);
    if (!force) throw new EngineError('SWARM_ACTIVE', LAST_MANAGER);
    const nets = this.swarmNetworks();
    for (const n of nets) {
      const eps = this.repo.endpoints.list({ networkId: n.id });
      if (!eps.length) continue;
      const names = eps.map((e) => (this.repo.containers.get(e.containerId) ?? this.repo.attachments.get(e.containerId))?.name ?? e.containerId.slice(0, 12));
      throw new EngineError('NETWORK_IN_USE', `cannot leave the swarm: its network ${n.name} has active endpoints (${names.join(', ')})`, {
        hint: `stop or disconnect them first (docker network disconnect ${n.name} CONTAINER), then docker swarm leave --force`,
      });
    }
    for (const n of nets) await this.networks.remove(n.id);
    this.repo.swarm.delete();
  }

  /** The networks that go with the swarm: every overlay network of the one-member store, or the ingress one. */
  swarmNetworks(): Network[] {
    return this.networks.list().filter((n) => n.driver === 'overlay' && (!this.clusterStore || n.ingress));
  }

  /** Docker's choice: the address given (or the interface's), the listen address's, or the address of the default route's interface. */
  private async chooseAdvertise(given: string, listenAddr: string): Promise<string> {
    const addrs = await this.kernel.addrList(4);
    if (given) {
      const host = hostOf(given);
      const ofDev = addrs.filter((a) => a.dev === host);
      if (ofDev.length === 1) return ofDev[0].address;
      if (ofDev.length > 1) throw new EngineError('INVALID_PARAMETER', `interface ${host} has more than one IPv4 address (${ofDev.map((a) => a.address).join(' and ')})`, { hint: 'give --advertise-addr one of them' });
      if (!/^[0-9.]+$|:/.test(host)) throw new EngineError('INVALID_PARAMETER', `advertise address must be a non-zero IP address or network interface (with optional port number), not ${given}`);
      return host;
    }
    const listenHost = hostOf(listenAddr);
    if (listenHost !== '0.0.0.0' && listenHost !== '::') return listenHost;
    const dev = (await this.kernel.routeList(4)).find((r) => r.dst === 'default')?.dev;
    const onDefault = addrs.filter((a) => a.dev === dev);
    if (dev && onDefault.length === 1) return onDefault[0].address;
    if (onDefault.length > 1) throw new EngineError('INVALID_PARAMETER', `could not choose an IP address to advertise since this system has multiple addresses on interface ${dev} (${onDefault.map((a) => a.address).join(' and ')})`, { hint: 'docker swarm init --advertise-addr ADDRESS' });
    throw new EngineError('INVALID_PARAMETER', "could not find the system's IP address - specify one with --advertise-addr", { hint: 'docker swarm init --advertise-addr ADDRESS' });
  }
}

/** "1.2.3.4:2377" → "1.2.3.4", "[::1]:2377" → "::1", "eth0" → "eth0". */
function hostOf(addr: string): string {
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(addr);
  if (v6) return v6[1];
  if ((addr.match(/:/g) ?? []).length > 1) return addr;
  return addr.split(':')[0];
}

function withPort(addr: string): string {
  if (/^\[.*\]:\d+$/.test(addr) || /^[^:]*:\d+$/.test(addr)) return addr;
  return addr.includes(':') ? `[${addr}]:${SWARM_PORT}` : `${addr}:${SWARM_PORT}`;
}

/**
 * The host and null drivers: Docker lists `host` and `none` as networks, and a container on them
 * has no endpoint of its own (host: the daemon's namespace; none: its own namespace with only lo,
 * which the sandbox layer makes). They keep their records and nothing else.
 */
import { EngineError } from '../base/errors';
import { Endpoint, Network } from '../base/model';
import { NetworkRepo } from '../state/repos';
import { NetworkDriver, NetworkRequest } from './driver';
import { NoDataPlane } from './no-data-plane';

export class RecordOnlyDriver extends NoDataPlane implements NetworkDriver {
  readonly scope = 'local' as const;
  readonly endpoints = false;
  readonly mode: 'host' | 'none';

  /** `name`: host or null */
  constructor(
    readonly name: 'host' | 'null',
    private readonly networks: NetworkRepo,
  ) {
    super();
    this.mode = name === 'host' ? 'host' : 'none';
  }

  /** Only the predefined network of this driver exists (Docker: "only one instance of host network is allowed"). */
  async createNetwork(req: NetworkRequest): Promise<Network> {
    if (this.networks.list().some((n) => n.driver === this.name)) {
      throw new EngineError('FORBIDDEN', `only one instance of "${this.name}" network is allowed`, { hint: 'use the predefined network' });
    }
    const net: Network = { id: req.id, name: req.name, driver: this.name, internal: false, options: {}, labels: req.labels, created: new Date().toISOString() };
    this.networks.insert(net);
    return net;
  }

  async deleteNetwork(net: Network): Promise<void> {
    this.networks.delete(net.id);
  }

  private noEndpoints(net: Network): EngineError {
    return new EngineError('INVALID_NETWORK_MODE', `network ${net.name} (driver ${this.name}) cannot hold container interfaces`, { hint: `use --network ${net.name === 'host' ? 'host' : 'none'}` });
  }

  async lease(net: Network): Promise<Endpoint> {
    throw this.noEndpoints(net);
  }

  async release(): Promise<void> {}

  async join(req: { network: Network }): Promise<void> {
    throw this.noEndpoints(req.network);
  }

  async leave(): Promise<void> {}

  async restore(): Promise<void> {}
}

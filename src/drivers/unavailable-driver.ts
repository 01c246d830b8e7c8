/**
 * A driver that this daemon knows but cannot run (overlay without a cluster store; a driver whose
 * kernel module is missing): every operation that would make something fails with the reason and
 * its fix, so a user learns why rather than "unknown driver".
 */
import { EngineError } from '../base/errors';
import { Endpoint, Network } from '../base/model';
import { NetworkDriver } from './driver';
import { NoDataPlane } from './no-data-plane';

export class UnavailableDriver extends NoDataPlane implements NetworkDriver {
  readonly endpoints = true;

  constructor(
    readonly name: string,
    readonly scope: 'local' | 'swarm',
    /** the error every operation fails with */
    private readonly why: () => EngineError,
  ) {
    super();
  }

  async createNetwork(): Promise<Network> {
    throw this.why();
  }
  async deleteNetwork(): Promise<void> {
    throw this.why();
  }
  async lease(): Promise<Endpoint> {
    throw this.why();
  }
  async release(): Promise<void> {
    throw this.why();
  }
  async join(): Promise<void> {
    throw this.why();
  }
  async leave(): Promise<void> {
    throw this.why();
  }
  /** Networks of a driver that cannot run here have nothing in the kernel to repair. */
  async restore(): Promise<void> {}
}

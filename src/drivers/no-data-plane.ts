/**
 * What a driver with nothing of its own in the kernel answers (host, null, a driver that cannot run
 * here): no resolver of its own, no way out, no endpoints on other hosts, no kernel facts to describe.
 */
import { WayOut } from './driver';

export abstract class NoDataPlane {
  servesDns(): boolean {
    return false;
  }

  wayOut(): WayOut {
    return { kind: 'none' };
  }

  remotes(): [] {
    return [];
  }

  async describe(): Promise<undefined> {
    return undefined;
  }
}

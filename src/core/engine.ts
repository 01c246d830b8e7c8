/** The engine as the API sees it: the services, wired together in daemon/main.ts. */
import { Containers } from './containers';
import { EngineEvents } from './events';
import { Firewall } from '../firewall/firewall';
import { Kernel } from '../kernel/kernel';
import { Networks } from './networks';
import { Sandboxes } from './sandbox';
import { ImageStore } from '../runtime/image-store';
import { Store } from '../state/store';

export interface EngineInfo {
  version: string;
  root: string;
  execRoot: string;
  bridge: string;
  mtu: number;
  startedAt: Date;
}

export interface Engine {
  store: Store;
  containers: Containers;
  networks: Networks;
  sandboxes: Sandboxes;
  images: ImageStore;
  info: EngineInfo;
  events: EngineEvents;
  /** read back by `explain` */
  firewall: Firewall;
  kernel: Kernel;
}

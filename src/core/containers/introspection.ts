/**
 * What a container is doing and what it changed, read without changing it: `top` (its processes,
 * with ps options), `stats` (its cgroup's counters and each interface's traffic, read from the
 * container's network namespace through the kernel port), `changes` (its writable layer against
 * its image, `docker diff`).
 */
import { EngineError } from '../../base/errors';
import { Container } from '../../base/model';
import { ImageStore } from '../../images/image-store';
import { Kernel, LinkStats } from '../../kernel/kernel';
import { CgroupStats, Change, ContainerRuntime, Top } from '../../runtime/runtime';

/** One stats sample of a running container. */
export interface StatsSample {
  /** nanoseconds since the epoch */
  readNs: bigint;
  cgroup: CgroupStats;
  /** the interfaces of its own namespace (not lo); absent in host mode, where they are the host's */
  networks?: LinkStats[];
}

type Note = (action: string, c: Container) => void;

export class Introspection {
  constructor(
    private readonly runtime: Pick<ContainerRuntime, 'top' | 'stats' | 'changes'>,
    private readonly images: Pick<ImageStore, 'find'>,
    private readonly kernel: Kernel,
    /** the namespace a running container uses ("host" in host mode) */
    private readonly netnsOf: (c: Container) => string,
    private readonly note: Note = () => {},
  ) {}

  private running(c: Container): void {
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
  }

  /** Equivalent to: `docker top CONTAINER [ps OPTIONS]` */
  async top(c: Container, psArgs: string): Promise<Top> {
    this.running(c);
    const t = await this.runtime.top(c.id, psArgs);
    this.note('top', c);
    return t;
  }

  /** A sample of a running container's counters; undefined once it is not running. */
  async stats(c: Container): Promise<StatsSample | undefined> {
    if (c.status !== 'running') return undefined;
    const readNs = BigInt(Date.now()) * 1_000_000n;
    const netns = this.netnsOf(c);
    const [cgroup, links] = await Promise.all([
      this.runtime.stats(c.id),
      netns === 'host' ? Promise.resolve(undefined) : this.kernel.at(netns).linkStats(),
    ]);
    return { readNs, cgroup, networks: links?.filter((l) => l.name !== 'lo') };
  }

  /** Equivalent to: `docker diff CONTAINER` (also of a stopped one: its writable layer stays) */
  async changes(c: Container): Promise<Change[]> {
    const image = this.images.find(c.imageId);
    return this.runtime.changes(c.id, image?.layers ?? []);
  }
}

/**
 * The restart supervisor: what follows a container's exit under its restart policy (Docker's
 * restart manager). An exit the policy restarts is scheduled after Docker's backoff (100 ms,
 * doubling with each restart, at most a minute, back to 100 ms once a run lasted 10 s); the
 * container is "restarting" meanwhile. The start itself is the host's (Containers), under the
 * container's mutex, and checks again that nothing changed: each schedule carries the time of the
 * exit it answers, so a user's start, stop, kill or rm in between (or a newer exit) makes it a
 * no-op, and one exit is never answered by two starts.
 *
 * The supervisor starts held: while the daemon reconciles its state at startup, nothing may start
 * (the drivers would take a half-made endpoint for a stale one). `resume()` arms what was scheduled.
 *
 * At daemon start (`atDaemonStart`), Docker's rule for containers that are not running: `always`
 * starts again even after a `docker stop`, `unless-stopped` only if no user stopped it,
 * `on-failure` after a failure with retries left.
 */
import { restartOf } from '../../base/container-spec';
import { Container } from '../../base/model';
import { nextDelay, shouldRestart } from '../../base/restart-policy';

export interface RestartHost {
  /** Starts the container again for the exit of `finishedAt`, unless something changed since. */
  restart(id: string, finishedAt: string): Promise<void>;
  /** Starts a container at daemon start (a user's start: the restart count begins again). */
  startAtBoot(id: string): Promise<void>;
}

interface Pending {
  finishedAt: string;
  delayMs: number;
  timer?: NodeJS.Timeout;
}

export class RestartSupervisor {
  private readonly pending = new Map<string, Pending>();
  /** the last backoff delay per container, reset by a user's start */
  private readonly delays = new Map<string, number>();
  private readonly boot: string[] = [];
  private held = true;
  private closed = false;

  constructor(
    private readonly host: RestartHost,
    private readonly log: (msg: string) => void = () => {},
  ) {}

  /**
   * An exit was recorded (`c` as it is now: exited, its exit code and times). Returns true when a
   * restart is scheduled. `cancelled`: a user stopped or killed it (Docker's ExitOnNext).
   */
  exited(c: Container, cancelled: boolean): boolean {
    if (cancelled || !c.finishedAt) return false;
    const policy = restartOf(c.spec);
    if (!shouldRestart(policy, c.exitCode, c.restartCount ?? 0, c.manuallyStopped === true)) return false;
    const ranFor = c.startedAt ? Date.parse(c.finishedAt) - Date.parse(c.startedAt) : 0;
    const delayMs = nextDelay(this.delays.get(c.id) ?? 0, ranFor);
    this.delays.set(c.id, delayMs);
    this.cancel(c.id);
    const p: Pending = { finishedAt: c.finishedAt, delayMs };
    this.pending.set(c.id, p);
    if (!this.held) this.arm(c.id, p);
    return true;
  }

  private arm(id: string, p: Pending): void {
    if (this.closed) return;
    p.timer = setTimeout(() => {
      if (this.pending.get(id) !== p) return;
      this.pending.delete(id);
      this.host.restart(id, p.finishedAt).catch((e) => this.log(`restarting ${id}: ${(e as Error).message}`));
    }, p.delayMs);
    p.timer.unref();
  }

  /** Waiting for a restart (inspect's Restarting, ps's "Restarting"). */
  isRestarting(id: string): boolean {
    return this.pending.has(id);
  }

  /** A user acted (start, stop, kill, rm): the scheduled restart, if any, is dropped. */
  cancel(id: string): boolean {
    const p = this.pending.get(id);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(id);
    return true;
  }

  /** A user started it: Docker's restart manager begins anew (delay and count). */
  reset(id: string): void {
    this.cancel(id);
    this.delays.delete(id);
  }

  forget(id: string): void {
    this.reset(id);
  }

  /** At daemon start, for a container that is not running: start it again when its policy says so. */
  atDaemonStart(c: Container): void {
    if (c.status !== 'exited' || this.pending.has(c.id)) return;
    const policy = restartOf(c.spec);
    // Docker's rule at daemon start: a user's stop keeps only unless-stopped down.
    if (!shouldRestart(policy, c.exitCode, c.restartCount ?? 0, policy.name === 'unless-stopped' && c.manuallyStopped === true)) return;
    this.boot.push(c.id);
  }

  /** The daemon is up: arm what was scheduled while it reconciled, and start what the policies start at boot. */
  resume(): void {
    this.held = false;
    for (const [id, p] of this.pending) if (!p.timer) this.arm(id, p);
    for (const id of this.boot.splice(0)) {
      this.log(`starting ${id} again (restart policy ${'at daemon start'})`);
      this.host.startAtBoot(id).catch((e) => this.log(`starting ${id} at daemon start: ${(e as Error).message}`));
    }
  }

  /** The daemon stops: nothing more is started (the next daemon applies the policies again). */
  close(): void {
    this.closed = true;
    for (const p of this.pending.values()) clearTimeout(p.timer);
  }
}

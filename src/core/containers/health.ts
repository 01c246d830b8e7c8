/**
 * Health checks of running containers (Docker's health monitor). While a container with a check
 * runs, its probe runs inside it `interval` after the start and `interval` after each probe ended:
 * an exec of the test (CMD: the arguments; CMD-SHELL: /bin/sh -c), its output (stdout and stderr,
 * the first 4 KiB) and exit code recorded, killed at its `timeout` (exit code -1, "Health check
 * exceeded timeout (…)"). Each result moves State.Health (base/health.ts: afterProbe) and is
 * written with the container's record; a change of status is an event ('status', id, status),
 * which the daemon turns into Docker's `health_status: …` container event.
 *
 * A run begins "starting" (with the old log kept, as Docker does); when the run ends, the checks
 * stop and the state stays as it was for inspect. After a daemon restart, running containers'
 * checks begin again from "starting" (`resume`).
 *
 * Limitations: probes run as root (containers here have no other user).
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { describe } from '../../base/errors';
import { FrameReader, STREAM_EXIT } from '../../base/frames';
import { afterProbe, formatDuration, HEALTH_DEFAULTS, HEALTH_OUTPUT_MAX, HealthConfig, HealthResult, HealthStatus, probeArgs, STARTING } from '../../base/health';
import { Container } from '../../base/model';
import { ContainerRuntime } from '../../runtime/runtime';
import { Repos } from '../../state/repos';
import { withPath } from './process-env';

interface Monitor {
  stopped: boolean;
  timer?: NodeJS.Timeout;
  /** the exec of a probe in flight */
  execId?: string;
}

export class HealthMonitor extends EventEmitter {
  private readonly monitors = new Map<string, Monitor>();
  private closed = false;

  constructor(
    private readonly repo: Pick<Repos, 'containers'>,
    private readonly runtime: Pick<ContainerRuntime, 'prepareExec' | 'connect' | 'killExec' | 'deleteExec'>,
    private readonly log: (msg: string) => void = () => {},
  ) {
    super();
    this.setMaxListeners(0);
  }

  /** Its checks, if it has any: the probe to run, or undefined. */
  static checkOf(c: Container): HealthConfig | undefined {
    const h = c.spec.healthcheck;
    return probeArgs(h) ? h : undefined;
  }

  /** A run began: checks begin, from "starting". */
  started(c: Container): void {
    const cfg = HealthMonitor.checkOf(c);
    if (!cfg || this.closed) return;
    this.stopped(c.id);
    this.repo.containers.update(c.id, { health: { ...STARTING, log: c.health?.log ?? [] } });
    const m: Monitor = { stopped: false };
    this.monitors.set(c.id, m);
    this.schedule(c.id, m, cfg);
  }

  /** The run ended (or the container is gone): no more probes; the state stays for inspect. */
  stopped(id: string): void {
    const m = this.monitors.get(id);
    if (!m) return;
    m.stopped = true;
    clearTimeout(m.timer);
    if (m.execId) void this.runtime.killExec(m.execId).catch(() => {
      // the probe ended on its own meanwhile
    });
    this.monitors.delete(id);
  }

  /** After a daemon restart: the running containers' checks begin again. */
  resume(running: Container[]): void {
    for (const c of running) this.started(c);
  }

  close(): void {
    this.closed = true;
    for (const id of [...this.monitors.keys()]) this.stopped(id);
  }

  private schedule(id: string, m: Monitor, cfg: HealthConfig): void {
    m.timer = setTimeout(() => void this.tick(id, m, cfg), (cfg.intervalNs || HEALTH_DEFAULTS.intervalNs) / 1e6);
    m.timer.unref();
  }

  private async tick(id: string, m: Monitor, cfg: HealthConfig): Promise<void> {
    try {
      const c = this.repo.containers.get(id);
      if (m.stopped || !c || c.status !== 'running') return;
      const result = await this.probe(c, cfg, m);
      const now = this.repo.containers.get(id);
      if (m.stopped || !now || now.status !== 'running') return;
      const before = now.health ?? STARTING;
      const after = afterProbe(before, result, cfg, Date.parse(now.startedAt ?? result.start));
      this.repo.containers.update(id, { health: after });
      if (after.status !== before.status) this.emit('status', id, after.status satisfies HealthStatus);
    } catch (e) {
      this.log(`health check of ${id}: ${describe(e)}`);
    } finally {
      if (!m.stopped) this.schedule(id, m, cfg);
    }
  }

  /** One probe: an exec in the container, its output and exit code, or -1 past its timeout. */
  private async probe(c: Container, cfg: HealthConfig, m: Monitor): Promise<HealthResult> {
    const start = new Date().toISOString();
    const execId = randomBytes(32).toString('hex');
    const timeoutNs = cfg.timeoutNs || HEALTH_DEFAULTS.timeoutNs;
    const done = (exitCode: number, output: string): HealthResult => ({ start, end: new Date().toISOString(), exitCode, output });
    const args = probeArgs(cfg)!;
    let pending;
    try {
      pending = await this.runtime.prepareExec(c.id, execId, { args, env: withPath(c.spec.env), cwd: c.spec.workingDir || '/', tty: false }, false);
    } catch (e) {
      return done(-1, `health check could not start: ${describe(e)}`);
    }
    m.execId = execId;
    try {
      const sock = await this.runtime.connect(execId, 'output').catch((e) => {
        pending.abort();
        throw e;
      });
      let output = Buffer.alloc(0);
      const exit = new Promise<number | undefined>((resolve) => {
        let code: number | undefined;
        const reader = new FrameReader((stream, payload) => {
          if (stream === STREAM_EXIT) code = Number(payload.toString());
          else if (output.length < HEALTH_OUTPUT_MAX) output = Buffer.concat([output, payload]).subarray(0, HEALTH_OUTPUT_MAX);
        });
        sock.on('data', (d: Buffer) => reader.push(d));
        sock.on('error', () => {}); // 'close' follows
        sock.on('close', () => resolve(code));
      });
      try {
        await pending.go();
      } catch (e) {
        sock.destroy();
        return done(-1, describe(e));
      }
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        void this.runtime.killExec(execId).catch(() => {});
      }, timeoutNs / 1e6);
      const code = await exit;
      clearTimeout(timer);
      if (timedOut) return done(-1, `Health check exceeded timeout (${formatDuration(timeoutNs)})`);
      return done(code ?? -1, output.toString());
    } finally {
      m.execId = undefined;
      await this.runtime.deleteExec(execId).catch(() => {});
    }
  }
}

/**
 * Exec instances: processes started inside a running container (`docker exec`). An exec is
 * created (recorded in memory, as Docker keeps them), then started: with a client, its stdio is
 * streamed until it ends; detached, it just runs. A start failure is written to the client as
 * Docker does and recorded as exit code 126/127. Finished execs are forgotten after 5 minutes.
 */
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { EngineError } from '../../base/errors';
import { FrameReader, frame, STREAM_EXIT, STREAM_STDERR } from '../../base/frames';
import { Container } from '../../base/model';
import { ContainerRuntime, ProcessSpec } from '../../runtime/runtime';
import { startFailureExitCode } from './outcomes';
import { pipeStreams, StreamFlags } from './stdio';
import { withPath } from './process-env';

export interface ExecRecord {
  id: string;
  containerId: string;
  cmd: string[];
  env: string[];
  workingDir: string;
  tty: boolean;
  flags: StreamFlags;
  running: boolean;
  exitCode: number | null;
  pid: number;
}

export type ExecRequest = Pick<ExecRecord, 'cmd' | 'env' | 'workingDir' | 'tty' | 'flags'>;

const FORGET_AFTER_MS = 5 * 60_000;

export class Execs {
  private readonly execs = new Map<string, ExecRecord>();

  constructor(
    private readonly runtime: ContainerRuntime,
    /** the container an exec runs in, as it is now */
    private readonly container: (id: string) => Container,
  ) {}

  create(c: Container, e: ExecRequest): string {
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`, { hint: 'start it first' });
    if (e.cmd.length === 0) throw new EngineError('INVALID_PARAMETER', 'No exec command specified');
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: c.id, ...e, running: false, exitCode: null, pid: 0 });
    return id;
  }

  get(id: string): ExecRecord {
    const e = this.execs.get(id);
    if (!e) throw new EngineError('EXEC_NOT_FOUND', `No such exec instance: ${id}`);
    return e;
  }

  /** The execs of a container (inspect's ExecIDs). */
  of(containerId: string): string[] {
    return [...this.execs.values()].filter((x) => x.containerId === containerId).map((x) => x.id);
  }

  /**
   * Runs an exec; with a client, streams its stdio until it ends. Resolves when the process started;
   * a start failure is written to the client as Docker does and recorded as exit code 126/127.
   */
  async start(id: string, client?: Duplex): Promise<void> {
    const e = this.get(id);
    const c = this.container(e.containerId);
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
    const proc: ProcessSpec = { args: e.cmd, env: withPath([...c.spec.env, ...e.env]), cwd: e.workingDir || c.spec.workingDir || '/', tty: e.tty };
    const withStdin = e.flags.stdin && !!client;
    const pending = await this.runtime.prepareExec(c.id, id, proc, withStdin);
    try {
      const mon = await this.runtime.connect(id, 'monitor');
      const reader = new FrameReader((stream, payload) => {
        if (stream === STREAM_EXIT) e.exitCode = Number(payload.toString());
      });
      mon.on('data', (d: Buffer) => reader.push(d));
      mon.on('error', () => {});
      mon.on('close', () => {
        e.running = false;
        void this.runtime.deleteExec(id);
        setTimeout(() => this.execs.delete(id), FORGET_AFTER_MS).unref();
      });
      if (client) {
        const sock = await this.runtime.connect(id, withStdin ? 'attach' : 'output');
        // The docker CLI reads the exit code right after the stream ends: record it first.
        pipeStreams(sock, client, e.tty, e.flags, withStdin, (code) => (e.exitCode = code));
      }
    } catch (err) {
      pending.abort();
      throw err;
    }
    try {
      e.pid = await pending.go();
      e.running = true;
    } catch (err) {
      const msg = `OCI runtime exec failed: ${(err as Error).message}`;
      e.exitCode = startFailureExitCode(msg) === 125 ? 126 : startFailureExitCode(msg);
      if (client) {
        client.end(e.tty ? Buffer.from(msg + '\r\n') : frame(STREAM_STDERR, Buffer.from(msg + '\n')));
      } else {
        throw new EngineError('RUNTIME_FAILED', msg, { cause: err });
      }
    }
  }

  async resize(id: string, rows: number, cols: number): Promise<void> {
    this.get(id); // 404 for an unknown exec
    await this.runtime.resize(id, rows, cols).catch(() => {
      throw new EngineError('CONTAINER_NOT_RUNNING', `exec ${id} is not running`);
    });
  }
}

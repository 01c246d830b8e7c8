/**
 * Exec instances: processes started inside a running container (`docker exec`). An exec is
 * created (recorded in memory, as Docker keeps them), then started: with a client, its stdio is
 * streamed until it ends (framed or raw as the *start* request's Tty says, as in Docker: a TTY
 * exec started without Tty comes in stdout frames); detached, it just runs. With a TTY, the
 * detach keys (the exec's DetachKeys, else ctrl-p,ctrl-q) end the client's stream and leave the
 * process running. A start failure is written to the client as Docker writes it (on stdout,
 * "…\r\n") and recorded as exit code 126, as Docker 20.10 to 27 record it whatever the cause
 * (Docker 28 records 127 for a missing command; docker-py's suite, which negotiates the newest
 * API version, expects 126). Events: exec_create, exec_start, exec_die. Finished execs are
 * forgotten after 5 minutes.
 */
import { randomBytes } from 'node:crypto';
import { Duplex } from 'node:stream';
import { EngineError } from '../../base/errors';
import { FrameReader, frame, STREAM_EXIT, STREAM_STDOUT } from '../../base/frames';
import { Container } from '../../base/model';
import { ContainerRuntime, ProcessSpec } from '../../runtime/runtime';
import { DEFAULT_DETACH_KEYS, parseDetachKeys } from './detach-keys';
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
  /** as given (Docker's spelling); empty: the default */
  detachKeys: string;
  /** API 1.42+: the terminal size at start */
  consoleSize?: [number, number];
  /** the user it runs as (name|uid[:group|gid]); empty: the container's */
  user?: string;
}

export type ExecRequest = Pick<ExecRecord, 'cmd' | 'env' | 'workingDir' | 'tty' | 'flags'> & Partial<Pick<ExecRecord, 'detachKeys' | 'consoleSize' | 'user'>>;

/** How a client starts an exec: its stream raw (Tty) or framed, and the terminal size. */
export interface ExecStart {
  raw?: boolean;
  consoleSize?: [number, number];
}

type Note = (action: string, c: Container, extra: Record<string, string>) => void;

const FORGET_AFTER_MS = 5 * 60_000;

export class Execs {
  private readonly execs = new Map<string, ExecRecord>();

  constructor(
    private readonly runtime: ContainerRuntime,
    /** the container an exec runs in, as it is now */
    private readonly container: (id: string) => Container,
    /** Docker's container events (exec_create, exec_start, exec_die) */
    private readonly note: Note = () => {},
  ) {}

  create(c: Container, e: ExecRequest): string {
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`, { hint: 'start it first' });
    if (c.paused) throw new EngineError('CONTAINER_PAUSED', `Container ${c.name} is paused, unpause the container before exec`);
    if (e.cmd.length === 0) throw new EngineError('INVALID_PARAMETER', 'No exec command specified');
    if (e.detachKeys) parseDetachKeys(e.detachKeys);
    const id = randomBytes(32).toString('hex');
    this.execs.set(id, { id, containerId: c.id, ...e, detachKeys: e.detachKeys ?? '', running: false, exitCode: null, pid: 0 });
    this.note(`exec_create: ${e.cmd.join(' ')}`, c, { execID: id });
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
  async start(id: string, client?: Duplex, how: ExecStart = {}): Promise<void> {
    const e = this.get(id);
    const c = this.container(e.containerId);
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
    if (c.paused) throw new EngineError('CONTAINER_PAUSED', `Container ${c.name} is paused, unpause the container before exec`);
    if (e.running || e.exitCode !== null) throw new EngineError('CONTAINER_RUNNING', `Error: Exec command ${id} is already running`);
    const raw = how.raw ?? e.tty;
    const consoleSize = how.consoleSize ?? e.consoleSize;
    const proc: ProcessSpec = { args: e.cmd, env: withPath([...c.spec.env, ...e.env]), cwd: e.workingDir || c.spec.workingDir || '/', tty: e.tty, consoleSize, user: e.user || c.spec.user };
    const withStdin = e.flags.stdin && !!client;
    const pending = await this.runtime.prepareExec(c.id, id, proc, withStdin);
    try {
      const mon = await this.runtime.connect(id, 'monitor');
      const reader = new FrameReader((stream, payload) => {
        if (stream === STREAM_EXIT) {
          e.exitCode = Number(payload.toString());
          this.note('exec_die', c, { execID: id, exitCode: String(e.exitCode) });
        }
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
        const detach = e.tty ? { keys: parseDetachKeys(e.detachKeys || DEFAULT_DETACH_KEYS) } : undefined;
        // The docker CLI reads the exit code right after the stream ends: record it first.
        pipeStreams(sock, client, raw, e.flags, withStdin, (code) => (e.exitCode = code), detach);
      }
    } catch (err) {
      pending.abort();
      throw err;
    }
    this.note(`exec_start: ${e.cmd.join(' ')}`, c, { execID: id });
    try {
      e.pid = await pending.go();
      e.running = true;
    } catch (err) {
      const msg = `OCI runtime exec failed: ${(err as Error).message}`;
      e.exitCode = 126;
      if (client) {
        // Docker writes it to the stdout stream, with a CRLF.
        const text = Buffer.from(msg + '\r\n');
        client.end(raw ? text : frame(STREAM_STDOUT, text));
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

/**
 * A container's stdio for clients: attach (before start, stdin is buffered until the process runs;
 * while running, at once; `logs` first replays what the container wrote so far, and without
 * `stream` that is all), logs and their follow stream, terminal resize. The bytes themselves
 * belong to the runtime's shim; this joins a client's connection to it in Docker's shapes (raw with
 * a TTY, Docker's multiplexed frames without). With a TTY, the detach keys in the client's input
 * (core/containers/detach-keys.ts) close its connection and leave the process running.
 */
import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { EngineError } from '../../base/errors';
import { FrameReader, frame, STREAM_EXIT, STREAM_STDERR, STREAM_STDOUT } from '../../base/frames';
import { Container } from '../../base/model';
import { ContainerRuntime, LogLine } from '../../runtime/runtime';
import { DetachWatcher } from './detach-keys';

export interface StreamFlags {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
}

/** How a client attaches beyond its streams. */
export interface AttachOptions {
  /** replay the output so far first */
  logs?: boolean;
  /** then follow it live (default true) */
  stream?: boolean;
  /** detach keys (bytes), honoured with a TTY */
  detachKeys?: Buffer;
  /** the client detached with the keys */
  onDetach?: () => void;
}

interface PendingAttach {
  client: Duplex;
  flags: StreamFlags;
  opts: AttachOptions;
  buffered: Buffer[];
  ended: boolean;
  /** stops buffering (the shim takes over) */
  detach?: () => void;
}

export class Stdio {
  private readonly pending = new Map<string, PendingAttach[]>();

  constructor(private readonly runtime: ContainerRuntime) {}

  /**
   * Attaches a client connection (already switched to a raw stream) to a container's stdio: before
   * start it waits for the start (stdin is buffered); while running it joins at once.
   */
  async attach(c: Container, client: Duplex, flags: StreamFlags, opts: AttachOptions = {}): Promise<void> {
    const a: PendingAttach = { client, flags, opts, buffered: [], ended: false };
    if (opts.logs) {
      for (const l of await this.runtime.logs(c.id)) {
        if (l.stream === STREAM_STDOUT ? flags.stdout : flags.stderr) client.write(c.spec.tty ? l.data : frame(l.stream, l.data));
      }
    }
    if (opts.stream === false) {
      client.end();
      return;
    }
    if (c.status === 'running') {
      await this.join(c, a);
      return;
    }
    if (c.status !== 'created' && c.status !== 'exited') {
      throw new EngineError('CONTAINER_NOT_RUNNING', `You cannot attach to a container that is ${c.status}`);
    }
    const onData = (d: Buffer) => a.buffered.push(d);
    const onEnd = () => (a.ended = true);
    client.on('data', onData);
    client.on('end', onEnd);
    client.once('close', () => {
      const list = this.pending.get(c.id)?.filter((x) => x !== a);
      if (list?.length) this.pending.set(c.id, list);
      else this.pending.delete(c.id);
    });
    a.detach = () => {
      client.off('data', onData);
      client.off('end', onEnd);
    };
    this.pending.set(c.id, [...(this.pending.get(c.id) ?? []), a]);
    client.resume();
  }

  /** The process is ready to go: the clients waiting for it join its stdio now (before its first byte). */
  async joinPending(c: Container): Promise<void> {
    for (const a of this.pending.get(c.id) ?? []) await this.join(c, a);
    this.pending.delete(c.id);
  }

  /** The start failed: the clients waiting for it are let go. */
  dropPending(id: string): void {
    for (const a of this.pending.get(id) ?? []) a.client.destroy();
    this.pending.delete(id);
  }

  private async join(c: Container, a: PendingAttach): Promise<void> {
    a.detach?.();
    const withStdin = a.flags.stdin && c.spec.openStdin;
    const sock = await this.runtime.connect(c.id, withStdin ? 'attach' : 'output');
    const detach = c.spec.tty && a.opts.detachKeys ? { keys: a.opts.detachKeys, onDetach: a.opts.onDetach } : undefined;
    pipeStreams(sock, a.client, c.spec.tty, a.flags, withStdin, undefined, detach);
    if (withStdin) {
      for (const b of a.buffered) sock.write(b);
      if (a.ended) sock.end();
    }
  }

  async resize(c: Container, rows: number, cols: number): Promise<void> {
    if (c.status !== 'running') throw new EngineError('CONTAINER_NOT_RUNNING', `Container ${c.id} is not running`);
    await this.runtime.resize(c.id, rows, cols);
  }

  logs(c: Container, upTo?: number): Promise<LogLine[]> {
    return this.runtime.logs(c.id, upTo);
  }

  /**
   * The output of a running container from now on, for `logs -f`, with the log's size when it
   * started (read the log up to there: nothing is missed between the two, nothing seen twice);
   * undefined when it is not running (any more).
   */
  async follow(c: Container): Promise<{ sock: Socket; logSize: number } | undefined> {
    if (c.status !== 'running') return undefined;
    const sock = await this.runtime.connect(c.id, 'follow').catch(() => undefined);
    if (!sock) return undefined;
    return new Promise((resolve) => {
      let buf = Buffer.alloc(0);
      const done = (v: { sock: Socket; logSize: number } | undefined) => {
        sock.off('data', onData);
        sock.off('close', onClose);
        resolve(v);
      };
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 8) return;
        const len = buf.readUInt32BE(4);
        if (buf.length < 8 + len) return;
        sock.pause();
        const rest = buf.subarray(8 + len);
        if (rest.length) sock.unshift(rest);
        done({ sock, logSize: buf[0] === 0 ? Number(buf.subarray(8, 8 + len).toString()) : 0 });
      };
      // The container ended before the shim took the client: the log has everything.
      const onClose = () => done(undefined);
      sock.on('data', onData);
      sock.on('close', onClose);
    });
  }
}

/**
 * Joins a shim connection and a client: output frames to the client (raw with a TTY, Docker's
 * multiplexed frames without), the client's bytes to stdin, the client's half-close to the shim
 * (closing stdin), the exit frame to the end of the client's stream.
 */
export function pipeStreams(
  shim: Socket,
  client: Duplex,
  tty: boolean,
  flags: StreamFlags,
  withStdin: boolean,
  onExit?: (code: number) => void,
  detach?: { keys: Buffer; onDetach?: () => void },
): void {
  const reader = new FrameReader((stream, payload) => {
    if (stream === STREAM_EXIT) {
      onExit?.(Number(payload.toString()));
      client.end();
      shim.destroy();
      return;
    }
    if (tty) {
      if (flags.stdout) client.write(payload);
    } else if ((stream === STREAM_STDOUT && flags.stdout) || (stream === STREAM_STDERR && flags.stderr)) {
      client.write(frame(stream, payload));
    }
  });
  shim.on('data', (d: Buffer) => reader.push(d));
  shim.on('error', () => client.destroy());
  shim.on('close', () => client.end());
  client.on('error', () => shim.destroy());
  client.on('close', () => shim.destroy());
  if (withStdin) {
    const watcher = detach && new DetachWatcher(detach.keys);
    let detached = false;
    client.on('data', (d: Buffer) => {
      if (detached) return;
      if (!watcher) return void shim.write(d);
      const { pass, detach: now } = watcher.push(d);
      if (pass.length) shim.write(pass);
      if (now) {
        // Detached: the client goes, the process stays (a TTY's shim keeps stdin open without clients).
        detached = true;
        shim.destroy();
        client.end();
        client.destroy();
        detach!.onDetach?.();
      }
    });
    client.on('end', () => {
      if (!detached) shim.end();
    });
  }
  // Read the client even without stdin: its half-close must be seen, and its bytes must not pile up.
  client.resume();
}

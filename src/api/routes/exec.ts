/** Exec routes: create, start (detached, over a hijacked connection, or streamed as a plain answer), resize, inspect. */
import http from 'node:http';
import { Duplex } from 'node:stream';
import { Engine } from '../../core/engine';
import { ExecStart } from '../../core/containers/execs';
import { Json } from '../dto/common';
import { Router } from '../router';
import { atLeast } from '../version';

/** ConsoleSize [rows, columns] of API 1.42+ (older clients' values are ignored, as Docker ignores them). */
function consoleSize(v: unknown, version: string): [number, number] | undefined {
  if (!atLeast(version, '1.42') || !Array.isArray(v) || v.length !== 2) return undefined;
  const [h, w] = v as unknown[];
  return Number.isInteger(h) && Number.isInteger(w) && (h as number) > 0 && (w as number) > 0 ? [h as number, w as number] : undefined;
}

function startOptions(b: Json, version: string): ExecStart {
  return { raw: b.Tty === true, consoleSize: b.Tty === true ? consoleSize(b.ConsoleSize, version) : undefined };
}

/** A plain (not upgraded) answer carrying the stream until it ends, as Docker answers a start without Upgrade. */
function plainStream(res: http.ServerResponse): Duplex {
  res.useChunkedEncodingByDefault = false;
  res.writeHead(200, { 'Content-Type': 'application/vnd.docker.raw-stream', Connection: 'close' });
  const d = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      res.write(chunk, () => cb());
    },
    final(cb) {
      res.end();
      cb();
    },
  });
  d.push(null); // no stdin on a plain request
  res.on('close', () => d.destroy());
  return d;
}

/** The body with the keys Docker knows spelled as Docker spells them, whatever their case. */
function byCanonicalKey(b: Json, keys: string[]): Json {
  const out: Json = { ...b };
  for (const k of keys) {
    const found = Object.keys(b).find((x) => x !== k && x.toLowerCase() === k.toLowerCase());
    if (found && !(k in b)) out[k] = b[found];
  }
  return out;
}

export function execRoutes(r: Router, e: Engine): void {
  const { execs } = e;
  r.route('POST', '/containers/{id}/exec', async ({ params, body, res, version }) => {
    // Docker reads JSON keys without regard to case (docker-py sends "detachKeys").
    const b = byCanonicalKey(await body(), ['Cmd', 'Env', 'WorkingDir', 'Tty', 'AttachStdin', 'AttachStdout', 'AttachStderr', 'DetachKeys', 'ConsoleSize', 'User', 'Privileged', 'Detach']);
    const id = execs.create(e.containers.get(params[0]), {
      cmd: Array.isArray(b.Cmd) ? (b.Cmd as string[]) : [],
      env: Array.isArray(b.Env) ? (b.Env as string[]) : [],
      workingDir: typeof b.WorkingDir === 'string' ? b.WorkingDir : '',
      tty: b.Tty === true,
      flags: { stdin: b.AttachStdin === true, stdout: b.AttachStdout === true, stderr: b.AttachStderr === true },
      detachKeys: typeof b.DetachKeys === 'string' ? b.DetachKeys : '',
      consoleSize: b.Tty === true ? consoleSize(b.ConsoleSize, version) : undefined,
      user: typeof b.User === 'string' ? b.User : '',
    });
    res.statusCode = 201;
    return { Id: id };
  });
  r.route('POST', '/exec/{id}/start', async ({ params, res, body, version }) => {
    // Without an Upgrade header: detached, or the stream as the answer's body.
    const b = await body();
    const x = execs.get(params[0]);
    if (b.Detach === true) {
      await execs.start(x.id);
      res.statusCode = 200;
      return undefined;
    }
    await execs.start(x.id, plainStream(res), startOptions(b, version));
    return undefined;
  });
  r.route('POST', '/exec/{id}/resize', async ({ params, q }) => {
    await execs.resize(params[0], Number(q.get('h')), Number(q.get('w')));
    return {};
  });
  r.route('GET', '/exec/{id}/json', async ({ params }) => {
    const x = execs.get(params[0]);
    return {
      ID: x.id, Running: x.running, ExitCode: x.exitCode, ContainerID: x.containerId, Pid: x.pid,
      OpenStdin: x.flags.stdin, OpenStdout: x.flags.stdout, OpenStderr: x.flags.stderr,
      ProcessConfig: { tty: x.tty, entrypoint: x.cmd[0], arguments: x.cmd.slice(1), privileged: false, ...(x.user ? { user: x.user } : {}) },
      CanRemove: false, DetachKeys: x.detachKeys,
    };
  });
  r.hijack('/exec/{id}/start', async ({ params, body, upgrade, version }) => {
    const x = execs.get(params[0]);
    if (body.Detach === true) {
      await execs.start(x.id);
      upgrade().end();
      return;
    }
    const how = startOptions(body, version);
    await execs.start(x.id, upgrade({ multiplexed: !how.raw }), how);
  });
}

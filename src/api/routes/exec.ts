/** Exec routes: create, start (detached, or over a hijacked connection), resize, inspect. */
import { Engine } from '../../core/engine';
import { Router } from '../router';

export function execRoutes(r: Router, e: Engine): void {
  const { execs } = e;
  r.route('POST', '/containers/{id}/exec', async ({ params, body, res }) => {
    const b = await body();
    const id = execs.create(e.containers.get(params[0]), {
      cmd: Array.isArray(b.Cmd) ? (b.Cmd as string[]) : [],
      env: Array.isArray(b.Env) ? (b.Env as string[]) : [],
      workingDir: typeof b.WorkingDir === 'string' ? b.WorkingDir : '',
      tty: b.Tty === true,
      flags: { stdin: b.AttachStdin === true, stdout: b.AttachStdout === true, stderr: b.AttachStderr === true },
    });
    res.statusCode = 201;
    return { Id: id };
  });
  r.route('POST', '/exec/{id}/start', async ({ params, res }) => {
    // Reached only without an Upgrade header: a detached exec.
    await execs.start(params[0]);
    res.statusCode = 200;
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
      ProcessConfig: { tty: x.tty, entrypoint: x.cmd[0], arguments: x.cmd.slice(1), privileged: false, user: '' },
      CanRemove: false, DetachKeys: '',
    };
  });
  r.hijack('/exec/{id}/start', async ({ params, body, upgrade }) => {
    const x = execs.get(params[0]);
    if (body.Detach === true) {
      await execs.start(x.id);
      upgrade().end();
      return;
    }
    await execs.start(x.id, upgrade());
  });
}

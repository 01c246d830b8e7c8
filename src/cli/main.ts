/**
 * ctrnet: the command line, a client of ctrnetd's API only. Commands and output follow the docker CLI.
 */
import { createReadStream } from 'node:fs';
import net from 'node:net';
import { ApiError, Client } from './client';
import { bool, FlagDef, list, parseArgs, Parsed, str, UsageError } from './args';
import { FrameReader, STREAM_STDERR, STREAM_SYSTEMERR } from '../base/frames';
import { parsePortSpec } from '../base/port-spec';
import { humanDuration } from '../base/time';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Exit codes as the docker CLI uses them */
const EXIT_DAEMON_ERROR = 125;

class CliExit extends Error {
  constructor(readonly code: number, message = '') {
    super(message);
  }
}

const HELP = `Usage: ctrnet [-H unix:///PATH] COMMAND

Containers:
  run [OPTIONS] IMAGE [COMMAND] [ARG...]    create and start a container
  create [OPTIONS] IMAGE [COMMAND] [ARG...] create a container
  start [-a] [-i] CONTAINER...             start containers
  stop [-t SECONDS] CONTAINER...           stop containers
  restart, kill [-s SIGNAL], rm [-f], wait CONTAINER...
  ps [-a] [-q]                             list containers
  inspect NAME...                          low-level information (containers, networks, images)
  logs [-f] [-t] [--tail N] CONTAINER      a container's output
  exec [-i] [-t] [-d] [-e K=V] [-w DIR] CONTAINER COMMAND...
  port CONTAINER [PORT[/PROTO]]            published ports
  explain [--lang en|zh] [--json] CONTAINER the kernel objects that give it its network (exit 3 on a mismatch)
Images:
  image import FILE|- NAME | image ls | image rm NAME   (also: import, images, rmi, tag)
Networks:
  network create [-d bridge] [--subnet CIDR] [--gateway IP] [--ip-range CIDR] [--internal]
                 [--label K=V] [-o com.docker.network.bridge.name=NAME]
                 [-o com.docker.network.bridge.enable_icc=false] [-o com.docker.network.driver.mtu=N] NAME
  network ls | inspect NAME... | rm NAME... | prune
  topology [--format text|json|dot|svg] [--width PX]   the host's picture: bridges, ports, containers
  network connect [--ip IP] [--alias A] NET CONTAINER | network disconnect [-f] NET CONTAINER
  rename CONTAINER NEW_NAME
Daemon:
  version, info, system reload (re-apply the firewall rules)

run/create options: -d, --rm, -i, -t, --name NAME, -e K=V, -w DIR, -h/--hostname NAME,
  -p [IP:][HOST_PORT:]CTR_PORT[/tcp|udp], --network bridge|host|none|container:NAME|NET,
  --ip IP, --network-alias NAME, --dns IP, --mac-address MAC, --entrypoint CMD, -l K=V
Environment: CTRNET_HOST=unix:///run/ctrnet/ctrnet.sock selects the daemon (as -H does).
`;

const RUN_FLAGS: Record<string, FlagDef> = {
  detach: { kind: 'bool', short: 'd' },
  rm: { kind: 'bool' },
  interactive: { kind: 'bool', short: 'i' },
  tty: { kind: 'bool', short: 't' },
  name: { kind: 'string' },
  env: { kind: 'list', short: 'e' },
  workdir: { kind: 'string', short: 'w' },
  hostname: { kind: 'string', short: 'h' },
  publish: { kind: 'list', short: 'p' },
  network: { kind: 'string' },
  net: { kind: 'string' },
  ip: { kind: 'string' },
  'network-alias': { kind: 'list' },
  entrypoint: { kind: 'string' },
  label: { kind: 'list', short: 'l' },
  expose: { kind: 'list' },
  dns: { kind: 'list' },
  'mac-address': { kind: 'string' },
};

function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
}

/** docker's tabwriter: columns padded to the widest cell plus three spaces */
function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] + 3))).join('').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function ago(unixSec: number): string {
  return `${humanDuration(Date.now() - unixSec * 1000)} ago`;
}

function portsText(ports: Json[]): string {
  return ports
    .map((p) => (p.PublicPort ? `${p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}` : `${p.PrivatePort}/${p.Type}`))
    .join(', ');
}

function truncate(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

/** Turns run/create flags into the Docker create body. */
function createBody(p: Parsed): { name?: string; body: Json } {
  const [image, ...cmd] = p.args;
  if (!image) throw new UsageError('"run" requires at least 1 argument: ctrnet run [OPTIONS] IMAGE [COMMAND] [ARG...]');
  const portBindings: Json = {};
  const exposed: Json = {};
  for (const spec of list(p, 'publish')) {
    for (const b of parsePortSpec(spec)) {
      const k = `${b.containerPort}/${b.proto}`;
      exposed[k] = {};
      (portBindings[k] ??= []).push({ HostIp: b.hostIp === '0.0.0.0' ? '' : b.hostIp, HostPort: b.hostPort ? String(b.hostPort) : '' });
    }
  }
  for (const e of list(p, 'expose')) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const network = str(p, 'network') ?? str(p, 'net') ?? 'bridge';
  const endpoint: Json = {};
  if (str(p, 'ip')) endpoint.IPAMConfig = { IPv4Address: str(p, 'ip') };
  if (list(p, 'network-alias').length) endpoint.Aliases = list(p, 'network-alias');
  const labels = Object.fromEntries(list(p, 'label').map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')]));
  const interactive = bool(p, 'interactive');
  return {
    name: str(p, 'name'),
    body: {
      Hostname: str(p, 'hostname') ?? '',
      Image: image,
      Cmd: cmd.length ? cmd : null,
      Entrypoint: str(p, 'entrypoint') !== undefined ? [str(p, 'entrypoint')] : null,
      Env: list(p, 'env'),
      WorkingDir: str(p, 'workdir') ?? '',
      Tty: bool(p, 'tty'),
      OpenStdin: interactive,
      StdinOnce: interactive && !bool(p, 'detach'),
      AttachStdin: interactive && !bool(p, 'detach'),
      AttachStdout: !bool(p, 'detach'),
      AttachStderr: !bool(p, 'detach'),
      Labels: labels,
      ExposedPorts: exposed,
      MacAddress: str(p, 'mac-address') ?? '',
      HostConfig: { NetworkMode: network, PortBindings: portBindings, AutoRemove: bool(p, 'rm'), Dns: list(p, 'dns') },
      NetworkingConfig: Object.keys(endpoint).length ? { EndpointsConfig: { [network]: endpoint } } : {},
    },
  };
}

/**
 * Joins a hijacked stream to this terminal: stdin to the daemon (raw mode with a TTY), output to
 * stdout/stderr (demultiplexed without a TTY). Resolves when the daemon ends the stream.
 */
function pump(sock: net.Socket, tty: boolean, stdin: boolean, resize?: (rows: number, cols: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const restore: (() => void)[] = [];
    if (stdin) {
      if (tty && process.stdin.isTTY) {
        process.stdin.setRawMode(true);
        restore.push(() => process.stdin.setRawMode(false));
      }
      process.stdin.on('data', (d: Buffer) => sock.write(d));
      // Half-close: the process sees the end of its input; its output keeps coming.
      process.stdin.on('end', () => sock.end());
      process.stdin.resume();
    } else {
      sock.end();
    }
    if (tty && resize && process.stdout.isTTY) {
      const send = () => resize(process.stdout.rows, process.stdout.columns);
      send();
      process.stdout.on('resize', send);
      restore.push(() => process.stdout.off('resize', send));
    }
    let systemErr = '';
    const reader = new FrameReader((stream, payload) => {
      if (stream === STREAM_SYSTEMERR) systemErr += payload.toString();
      else (stream === STREAM_STDERR ? process.stderr : process.stdout).write(payload);
    });
    sock.on('data', (d: Buffer) => (tty ? process.stdout.write(d) : reader.push(d)));
    const finish = () => {
      for (const r of restore) r();
      process.stdin.pause();
      if (systemErr) reject(new Error(`error from daemon in stream: ${systemErr}`));
      else resolve();
    };
    sock.on('end', finish);
    sock.on('error', (e) => {
      for (const r of restore) r();
      reject(e);
    });
  });
}

async function waitBody(res: import('node:http').IncomingMessage): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const j = JSON.parse(Buffer.concat(chunks).toString()) as Json;
  if (j.Error?.Message) throw new Error(j.Error.Message);
  return j.StatusCode as number;
}

async function run(c: Client, argv: string[], startIt: boolean): Promise<number> {
  const p = parseArgs(argv, RUN_FLAGS, false);
  const { name, body } = createBody(p);
  const detach = !startIt || bool(p, 'detach');
  let id: string;
  try {
    const q = name ? `?name=${encodeURIComponent(name)}` : '';
    const r = await c.call<Json>('POST', `/containers/create${q}`, body);
    id = r.data.Id;
    for (const w of r.data.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && /image/i.test(e.message)) {
      const ref = body.Image.includes(':') ? body.Image : `${body.Image}:latest`;
      process.stderr.write(`Unable to find image '${ref}' locally\n`);
    }
    throw e;
  }
  if (!startIt) {
    out(id);
    return 0;
  }
  const tty = body.Tty as boolean;
  const interactive = body.OpenStdin as boolean;
  let stream: Promise<void> | undefined;
  if (!detach) {
    const sock = await c.hijack(`/containers/${id}/attach?stderr=1${interactive ? '&stdin=1' : ''}&stdout=1&stream=1`);
    stream = pump(sock, tty, interactive, (rows, cols) => void c.call('POST', `/containers/${id}/resize?h=${rows}&w=${cols}`).catch(() => {}));
  }
  const wait = detach ? undefined : await c.stream('POST', `/containers/${id}/wait?condition=${bool(p, 'rm') ? 'removed' : 'next-exit'}`);
  try {
    await c.call('POST', `/containers/${id}/start`);
  } catch (e) {
    process.stderr.write(`ctrnet: Error response from daemon: ${(e as Error).message}\n`);
    const msg = (e as Error).message;
    throw new CliExit(/executable file not found|no such file or directory/i.test(msg) ? 127 : /permission denied/i.test(msg) ? 126 : EXIT_DAEMON_ERROR);
  }
  if (detach) {
    out(id);
    return 0;
  }
  const [code] = await Promise.all([waitBody(wait!), stream]);
  return code;
}

async function main2(argv: string[]): Promise<number> {
  let host = process.env.CTRNET_HOST ?? 'unix:///run/ctrnet/ctrnet.sock';
  while (argv[0] === '-H' || argv[0]?.startsWith('--host')) {
    const [flag, value] = argv[0].includes('=') ? argv[0].split('=') : [argv[0], argv[1]];
    host = value;
    argv = argv.slice(flag === argv[0] && !argv[0].includes('=') ? 2 : 1);
  }
  if (!host.startsWith('unix://')) throw new UsageError(`-H ${host}: only unix:///PATH is supported`);
  const c = new Client(host.slice('unix://'.length));
  const [cmd, ...rest] = argv;
  const containers = async (p: Parsed, op: (id: string) => Promise<void>): Promise<number> => {
    if (!p.args.length) throw new UsageError(`"${cmd}" requires at least 1 argument`);
    let failed = 0;
    for (const id of p.args) {
      try {
        await op(id);
      } catch (e) {
        failed++;
        process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
      }
    }
    return failed ? 1 : 0;
  };
  switch (cmd) {
    case undefined:
    case 'help':
    case '--help':
      out(HELP);
      return 0;
    case 'run':
      return run(c, rest, true);
    case 'create':
      return run(c, rest, false);
    case 'start': {
      const p = parseArgs(rest, { attach: { kind: 'bool', short: 'a' }, interactive: { kind: 'bool', short: 'i' } });
      if (bool(p, 'attach') || bool(p, 'interactive')) {
        const id = p.args[0];
        const info = (await c.call<Json>('GET', `/containers/${id}/json`)).data;
        const sock = await c.hijack(`/containers/${id}/attach?stderr=1${bool(p, 'interactive') ? '&stdin=1' : ''}&stdout=1&stream=1`);
        const stream = pump(sock, info.Config.Tty, bool(p, 'interactive'));
        const wait = await c.stream('POST', `/containers/${id}/wait?condition=next-exit`);
        await c.call('POST', `/containers/${id}/start`);
        const [code] = await Promise.all([waitBody(wait), stream]);
        return code;
      }
      return containers(p, async (id) => {
        await c.call('POST', `/containers/${encodeURIComponent(id)}/start`);
        out(id);
      });
    }
    case 'stop':
    case 'restart': {
      const p = parseArgs(rest, { time: { kind: 'string', short: 't' } });
      return containers(p, async (id) => {
        await c.call('POST', `/containers/${encodeURIComponent(id)}/${cmd}${str(p, 'time') ? `?t=${str(p, 'time')}` : ''}`);
        out(id);
      });
    }
    case 'kill': {
      const p = parseArgs(rest, { signal: { kind: 'string', short: 's' } });
      return containers(p, async (id) => {
        await c.call('POST', `/containers/${encodeURIComponent(id)}/kill${str(p, 'signal') ? `?signal=${str(p, 'signal')}` : ''}`);
        out(id);
      });
    }
    case 'rm': {
      const p = parseArgs(rest, { force: { kind: 'bool', short: 'f' }, volumes: { kind: 'bool', short: 'v' } });
      return containers(p, async (id) => {
        try {
          await c.call('DELETE', `/containers/${encodeURIComponent(id)}${bool(p, 'force') ? '?force=1' : ''}`);
        } catch (e) {
          if (bool(p, 'force') && e instanceof ApiError && e.status === 404) return;
          throw e;
        }
        out(id);
      });
    }
    case 'wait': {
      const p = parseArgs(rest, {});
      let last = 0;
      const r = await containers(p, async (id) => {
        last = await waitBody(await c.stream('POST', `/containers/${encodeURIComponent(id)}/wait`));
        out(String(last));
      });
      return r || 0;
    }
    case 'ps': {
      const p = parseArgs(rest, { all: { kind: 'bool', short: 'a' }, quiet: { kind: 'bool', short: 'q' }, 'no-trunc': { kind: 'bool' } });
      const list = (await c.call<Json[]>('GET', `/containers/json${bool(p, 'all') ? '?all=1' : ''}`)).data;
      if (bool(p, 'quiet')) {
        for (const x of list) out(x.Id.slice(0, 12));
        return 0;
      }
      out(
        table(
          ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
          list.map((x) => [x.Id.slice(0, 12), x.Image, `"${truncate(x.Command, 20)}"`, ago(x.Created), x.Status, portsText(x.Ports), x.Names.map((n: string) => n.slice(1)).join(',')]),
        ),
      );
      return 0;
    }
    case 'inspect': {
      const p = parseArgs(rest, { format: { kind: 'string', short: 'f' } });
      const results: unknown[] = [];
      let failed = 0;
      for (const name of p.args) {
        const n = encodeURIComponent(name);
        let found: unknown;
        for (const path of [`/containers/${n}/json`, `/networks/${n}`, `/images/${n}/json`]) {
          try {
            found = (await c.call('GET', path)).data;
            break;
          } catch (e) {
            if (!(e instanceof ApiError && e.status === 404)) throw e;
          }
        }
        if (found) results.push(found);
        else {
          failed++;
          process.stderr.write(`Error: No such object: ${name}\n`);
        }
      }
      const fmt = str(p, 'format');
      if (fmt) for (const r of results) out(formatTemplate(fmt, r));
      else out(JSON.stringify(results, null, 4));
      return failed ? 1 : 0;
    }
    case 'logs': {
      const p = parseArgs(rest, { follow: { kind: 'bool', short: 'f' }, timestamps: { kind: 'bool', short: 't' }, tail: { kind: 'string', short: 'n' } });
      const id = encodeURIComponent(p.args[0] ?? '');
      const info = (await c.call<Json>('GET', `/containers/${id}/json`)).data;
      const q = `stdout=1&stderr=1${bool(p, 'follow') ? '&follow=1' : ''}${bool(p, 'timestamps') ? '&timestamps=1' : ''}${str(p, 'tail') ? `&tail=${str(p, 'tail')}` : ''}`;
      const res = await c.stream('GET', `/containers/${id}/logs?${q}`);
      const reader = new FrameReader((stream, payload) => (stream === STREAM_STDERR ? process.stderr : process.stdout).write(payload));
      for await (const chunk of res) {
        if (info.Config.Tty) process.stdout.write(chunk as Buffer);
        else reader.push(chunk as Buffer);
      }
      return 0;
    }
    case 'exec': {
      const p = parseArgs(rest, { interactive: { kind: 'bool', short: 'i' }, tty: { kind: 'bool', short: 't' }, detach: { kind: 'bool', short: 'd' }, env: { kind: 'list', short: 'e' }, workdir: { kind: 'string', short: 'w' } }, false);
      const [id, ...cmdline] = p.args;
      if (!id || !cmdline.length) throw new UsageError('"exec" requires at least 2 arguments: ctrnet exec [OPTIONS] CONTAINER COMMAND [ARG...]');
      const detach = bool(p, 'detach');
      const tty = bool(p, 'tty');
      const interactive = bool(p, 'interactive');
      const created = await c.call<Json>('POST', `/containers/${encodeURIComponent(id)}/exec`, {
        AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach, Tty: tty, Env: list(p, 'env'), WorkingDir: str(p, 'workdir') ?? '', Cmd: cmdline,
      });
      const execId = created.data.Id as string;
      if (detach) {
        await c.call('POST', `/exec/${execId}/start`, { Detach: true, Tty: tty });
        return 0;
      }
      const sock = await c.hijack(`/exec/${execId}/start`, { Detach: false, Tty: tty });
      await pump(sock, tty, interactive, (rows, cols) => void c.call('POST', `/exec/${execId}/resize?h=${rows}&w=${cols}`).catch(() => {}));
      const info = (await c.call<Json>('GET', `/exec/${execId}/json`)).data;
      return info.ExitCode ?? 0;
    }
    case 'port': {
      const p = parseArgs(rest, {});
      const info = (await c.call<Json>('GET', `/containers/${encodeURIComponent(p.args[0] ?? '')}/json`)).data;
      const ports = (info.NetworkSettings.Ports ?? {}) as Record<string, Json[] | null>;
      let want = p.args[1];
      if (want && !want.includes('/')) want += '/tcp';
      const lines: string[] = [];
      for (const [k, binds] of Object.entries(ports)) {
        if (want && k !== want) continue;
        for (const b of binds ?? []) lines.push(want ? `${b.HostIp}:${b.HostPort}` : `${k} -> ${b.HostIp}:${b.HostPort}`);
      }
      if (want && !lines.length) throw new Error(`Error: No public port '${want}' published for ${p.args[0]}`);
      for (const l of lines) out(l);
      return 0;
    }
    case 'explain':
      // Loaded on demand: every other command starts faster without them (CLI start-up counts).
      return (await import('./explain.js')).explainCommand(c, rest);
    case 'system': {
      if (rest[0] !== 'reload') throw new UsageError('unknown system command: use `ctrnet system reload`');
      await c.call('POST', '/ctrnet/system/reload');
      out('reloaded: nftables rules re-applied');
      return 0;
    }
    case 'topology':
      return (await import('./topology.js')).topologyCommand(c, rest);
    case 'rename': {
      const p = parseArgs(rest, {});
      if (p.args.length !== 2) throw new UsageError('"rename" requires 2 arguments: ctrnet rename CONTAINER NEW_NAME');
      await c.call('POST', `/containers/${encodeURIComponent(p.args[0])}/rename?name=${encodeURIComponent(p.args[1])}`);
      return 0;
    }
    case 'import':
      return imageCmd(c, ['import', ...rest]);
    case 'images':
      return imageCmd(c, ['ls', ...rest]);
    case 'rmi':
      return imageCmd(c, ['rm', ...rest]);
    case 'tag':
      return imageCmd(c, ['tag', ...rest]);
    case 'image':
      return imageCmd(c, rest);
    case 'network':
      return networkCmd(c, rest);
    case 'version': {
      const v = (await c.call<Json>('GET', '/version')).data;
      out(`Client:\n Version:    0.1.0\n API version: 1.41\n\nServer: ctrnet\n Engine:\n  Version:    ${v.Version}\n  API version: ${v.ApiVersion} (minimum version ${v.MinAPIVersion})\n  Kernel:     ${v.KernelVersion}\n  OS/Arch:    ${v.Os}/${v.Arch}`);
      return 0;
    }
    case 'info': {
      const i = (await c.call<Json>('GET', '/info')).data;
      out(`Containers: ${i.Containers}\n Running: ${i.ContainersRunning}\n Stopped: ${i.ContainersStopped}\nImages: ${i.Images}\nServer Version: ${i.ServerVersion}\nRuntime: ${i.DefaultRuntime}\nNetwork plugins: ${i.Plugins.Network.join(' ')}\nKernel Version: ${i.KernelVersion}\nRoot Dir: ${i.DockerRootDir}\nExec Root: ${i.ExecRoot}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${cmd}"; see 'ctrnet help'`);
  }
}

/** A small subset of Go templates for `inspect -f`: {{.A.B}} and {{json .A}}. */
function formatTemplate(fmt: string, obj: unknown): string {
  return fmt.replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
    let v: unknown = obj;
    for (const k of path.split('.').filter(Boolean)) v = (v as Json)?.[k];
    return json ? JSON.stringify(v) : v === undefined || v === null ? '<no value>' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

async function imageCmd(c: Client, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'import': {
      const [file, name] = rest;
      if (!file) throw new UsageError('"image import" requires a file (or - for stdin): ctrnet image import FILE|- [NAME[:TAG]]');
      const [repo, tag] = name ? (name.lastIndexOf(':') > name.lastIndexOf('/') ? [name.slice(0, name.lastIndexOf(':')), name.slice(name.lastIndexOf(':') + 1)] : [name, 'latest']) : [undefined, undefined];
      const q = `fromSrc=-${repo ? `&repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag!)}` : ''}`;
      const stream = file === '-' ? process.stdin : createReadStream(file);
      await new Promise<void>((resolve, reject) => {
        stream.once('error', (e: Error) => reject(new Error(`cannot read ${file}: ${(e as Error).message}`)));
        stream.once('readable', () => resolve());
      });
      const r = await c.call<Json>('POST', `/images/create?${q}`, undefined, stream);
      out(r.data.status);
      return 0;
    }
    case 'ls':
    case 'list': {
      const imgs = (await c.call<Json[]>('GET', '/images/json')).data;
      const rows = imgs.flatMap((i) =>
        (i.RepoTags as string[]).map((t) => {
          const at = t.lastIndexOf(':');
          return [t.slice(0, at), t.slice(at + 1), i.Id.replace(/^sha256:/, '').slice(0, 12), ago(i.Created), `${(i.Size / 1e6).toFixed(2)}MB`];
        }),
      );
      out(table(['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'], rows));
      return 0;
    }
    case 'rm': {
      const p = parseArgs(rest, { force: { kind: 'bool', short: 'f' } });
      for (const n of p.args) {
        const r = await c.call<Json[]>('DELETE', `/images/${encodeURIComponent(n)}${bool(p, 'force') ? '?force=1' : ''}`);
        for (const x of r.data) out(x.Untagged ? `Untagged: ${x.Untagged}` : `Deleted: ${x.Deleted}`);
      }
      return 0;
    }
    case 'tag': {
      const [src, dst] = rest;
      if (!src || !dst) throw new UsageError('"tag" requires 2 arguments: ctrnet tag SOURCE TARGET');
      const at = dst.lastIndexOf(':') > dst.lastIndexOf('/') ? dst.lastIndexOf(':') : -1;
      const q = at > 0 ? `repo=${encodeURIComponent(dst.slice(0, at))}&tag=${encodeURIComponent(dst.slice(at + 1))}` : `repo=${encodeURIComponent(dst)}&tag=latest`;
      await c.call('POST', `/images/${encodeURIComponent(src)}/tag?${q}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown image command "${sub ?? ''}": use import, ls or rm`);
  }
}

async function networkCmd(c: Client, argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'ls':
    case 'list': {
      const nets = (await c.call<Json[]>('GET', '/networks')).data.sort((a, b) => a.Name.localeCompare(b.Name));
      out(table(['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], nets.map((n) => [n.Id.slice(0, 12), n.Name, n.Driver, n.Scope])));
      return 0;
    }
    case 'inspect': {
      const p = parseArgs(rest, { format: { kind: 'string', short: 'f' } });
      const res: unknown[] = [];
      for (const n of p.args) res.push((await c.call('GET', `/networks/${encodeURIComponent(n)}`)).data);
      const fmt = str(p, 'format');
      if (fmt) for (const r of res) out(formatTemplate(fmt, r));
      else out(JSON.stringify(res, null, 4));
      return 0;
    }
    case 'create': {
      const p = parseArgs(rest, {
        driver: { kind: 'string', short: 'd' }, subnet: { kind: 'string' }, gateway: { kind: 'string' }, 'ip-range': { kind: 'string' },
        internal: { kind: 'bool' }, label: { kind: 'list' }, opt: { kind: 'list', short: 'o' },
      });
      if (p.args.length !== 1) throw new UsageError('"network create" requires exactly 1 argument: ctrnet network create [OPTIONS] NETWORK');
      const kv = (l: string[]) => Object.fromEntries(l.map((x) => [x.split('=')[0], x.split('=').slice(1).join('=')]));
      const cfg: Json = {};
      if (str(p, 'subnet')) cfg.Subnet = str(p, 'subnet');
      if (str(p, 'gateway')) cfg.Gateway = str(p, 'gateway');
      if (str(p, 'ip-range')) cfg.IPRange = str(p, 'ip-range');
      const r = await c.call<Json>('POST', '/networks/create', {
        Name: p.args[0], Driver: str(p, 'driver') ?? 'bridge', Internal: bool(p, 'internal'),
        IPAM: { Driver: 'default', Options: {}, Config: Object.keys(cfg).length ? [cfg] : [] },
        Options: kv(list(p, 'opt')), Labels: kv(list(p, 'label')), CheckDuplicate: true,
      });
      out(r.data.Id);
      return 0;
    }
    case 'rm':
    case 'remove': {
      const p = parseArgs(rest, { force: { kind: 'bool', short: 'f' } });
      let failed = 0;
      for (const n of p.args) {
        try {
          await c.call('DELETE', `/networks/${encodeURIComponent(n)}`);
          out(n);
        } catch (e) {
          if (bool(p, 'force') && e instanceof ApiError && e.status === 404) continue;
          failed++;
          process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`);
        }
      }
      return failed ? 1 : 0;
    }
    case 'prune': {
      const r = await c.call<Json>('POST', '/networks/prune');
      const names = (r.data.NetworksDeleted ?? []) as string[];
      if (names.length) out(`Deleted Networks:\n${names.join('\n')}`);
      return 0;
    }
    case 'connect': {
      const p = parseArgs(rest, { ip: { kind: 'string' }, alias: { kind: 'list' } });
      const [net, ctr] = p.args;
      if (!net || !ctr) throw new UsageError('"network connect" requires 2 arguments: ctrnet network connect [--ip IP] [--alias A] NETWORK CONTAINER');
      await c.call('POST', `/networks/${encodeURIComponent(net)}/connect`, {
        Container: ctr, EndpointConfig: { IPAMConfig: str(p, 'ip') ? { IPv4Address: str(p, 'ip') } : {}, Aliases: list(p, 'alias') },
      });
      return 0;
    }
    case 'disconnect': {
      const p = parseArgs(rest, { force: { kind: 'bool', short: 'f' } });
      const [net, ctr] = p.args;
      if (!net || !ctr) throw new UsageError('"network disconnect" requires 2 arguments: ctrnet network disconnect [-f] NETWORK CONTAINER');
      await c.call('POST', `/networks/${encodeURIComponent(net)}/disconnect`, { Container: ctr, Force: bool(p, 'force') });
      return 0;
    }
    default:
      throw new UsageError(`unknown network command "${sub ?? ''}": use create, ls, inspect, rm, prune, connect or disconnect`);
  }
}

export async function main(argv: string[]): Promise<void> {
  try {
    const code = await main2(argv);
    process.exitCode = code;
  } catch (e) {
    if (e instanceof CliExit) {
      if (e.message) process.stderr.write(e.message + '\n');
      process.exitCode = e.code;
    } else if (e instanceof UsageError) {
      process.stderr.write(`ctrnet: ${e.message}\nSee 'ctrnet help'.\n`);
      process.exitCode = EXIT_DAEMON_ERROR;
    } else if (e instanceof ApiError) {
      process.stderr.write(`ctrnet: Error response from daemon: ${e.message}\n`);
      process.exitCode = EXIT_DAEMON_ERROR;
    } else {
      process.stderr.write(`ctrnet: ${(e as Error).message}\n`);
      process.exitCode = EXIT_DAEMON_ERROR;
    }
  }
}

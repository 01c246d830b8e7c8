/**
 * What `run` and `create` share: their flags, the Docker create body built from them, and the
 * create request (with docker's "Unable to find image" note when the image is missing).
 */
import { ApiError } from '../api-error';
import { bool, FlagDef, list, Parsed, str, UsageError } from '../args';
import { Context } from '../command';
import { parsePortSpec } from '../../base/port-spec';
import type { ContainerCreateBody, EndpointSettings, IdResponse, PortBinding } from '../wire';
import { HOST_FLAGS, hostBody } from './_create-host';

export const RUN_FLAGS: Readonly<Record<string, FlagDef>> = {
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
  ip6: { kind: 'string' },
  'link-local-ip': { kind: 'list' },
  'network-alias': { kind: 'list' },
  entrypoint: { kind: 'string' },
  label: { kind: 'list', short: 'l' },
  expose: { kind: 'list' },
  dns: { kind: 'list' },
  'mac-address': { kind: 'string' },
  'add-host': { kind: 'list' },
  'dns-search': { kind: 'list' },
  'dns-option': { kind: 'list' },
  link: { kind: 'list' },
  'publish-all': { kind: 'bool', short: 'P' },
  sysctl: { kind: 'list' },
  domainname: { kind: 'string' },
  user: { kind: 'string', short: 'u' },
  'stop-signal': { kind: 'string' },
  /** missing (default): pull an image that is not there; always; never */
  pull: { kind: 'string' },
  platform: { kind: 'string' },
  ...HOST_FLAGS,
};

/** Turns run/create flags into the Docker create body. */
export function createBody(p: Parsed): { name?: string; body: ContainerCreateBody } {
  const [image, ...cmd] = p.args;
  // The same words for `create` (as before the command table; docker names the command typed).
  if (!image) throw new UsageError('"run" requires at least 1 argument: ctrnet run [OPTIONS] IMAGE [COMMAND] [ARG...]');
  const portBindings: Record<string, PortBinding[]> = {};
  const exposed: ContainerCreateBody['ExposedPorts'] = {};
  for (const spec of list(p, 'publish')) {
    for (const b of parsePortSpec(spec)) {
      const k = `${b.containerPort}/${b.proto}`;
      exposed[k] = {};
      (portBindings[k] ??= []).push({ HostIp: b.hostIp, HostPort: b.hostPort ? String(b.hostPort) : '' });
    }
  }
  for (const e of list(p, 'expose')) exposed[e.includes('/') ? e : `${e}/tcp`] = {};
  const network = str(p, 'network') ?? str(p, 'net') ?? 'bridge';
  const endpoint: EndpointSettings = {};
  const ip = str(p, 'ip');
  const ip6 = str(p, 'ip6');
  const linkLocal = list(p, 'link-local-ip');
  if (ip || ip6 || linkLocal.length) endpoint.IPAMConfig = { ...(ip ? { IPv4Address: ip } : {}), ...(ip6 ? { IPv6Address: ip6 } : {}), ...(linkLocal.length ? { LinkLocalIPs: linkLocal } : {}) };
  if (list(p, 'network-alias').length) endpoint.Aliases = list(p, 'network-alias');
  const labels = Object.fromEntries(list(p, 'label').map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')]));
  const interactive = bool(p, 'interactive');
  const entrypoint = str(p, 'entrypoint');
  const extra = hostBody(p);
  return {
    name: str(p, 'name'),
    body: {
      Hostname: str(p, 'hostname') ?? '',
      Image: image,
      Cmd: cmd.length ? cmd : null,
      Entrypoint: entrypoint !== undefined ? [entrypoint] : null,
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
      HostConfig: {
        NetworkMode: network, PortBindings: portBindings, AutoRemove: bool(p, 'rm'), Dns: list(p, 'dns'), ...extra.hostConfig,
        DnsSearch: list(p, 'dns-search'), DnsOptions: list(p, 'dns-option'), ExtraHosts: list(p, 'add-host'), Links: list(p, 'link'),
        PublishAllPorts: bool(p, 'publish-all'), Sysctls: Object.fromEntries(list(p, 'sysctl').map((l) => [l.split('=')[0], l.split('=').slice(1).join('=')])),
      },
      ...(str(p, 'user') !== undefined ? { User: str(p, 'user') } : {}),
      ...(str(p, 'stop-signal') !== undefined ? { StopSignal: str(p, 'stop-signal') } : {}),
      NetworkingConfig: Object.keys(endpoint).length ? { EndpointsConfig: { [network]: endpoint } } : {},
      ...(str(p, 'domainname') ? { Domainname: str(p, 'domainname') } : {}),
      Volumes: extra.volumes,
      ...(extra.healthcheck ? { Healthcheck: extra.healthcheck } : {}),
    },
  };
}

/**
 * POST /containers/create; prints the daemon's warnings. Returns the new container's id. An image
 * that is missing is pulled and the create tried again, as docker does (--pull missing), with
 * the progress on stderr; --pull always pulls first, --pull never does not.
 */
export async function createContainer(ctx: Context, name: string | undefined, body: ContainerCreateBody, p?: Parsed): Promise<string> {
  const policy = (p && str(p, 'pull')) ?? 'missing';
  if (!['missing', 'always', 'never'].includes(policy)) throw new UsageError(`invalid pull option: '${policy}': must be one of "always", "missing" or "never"`);
  const platform = p && str(p, 'platform');
  const pull = () => (require('./pull') as typeof import('./pull')).pullImage(ctx, body.Image, { platform, to: process.stderr });
  if (policy === 'always') await pull();
  const create = async () => {
    const q = name ? `?name=${encodeURIComponent(name)}` : '';
    const r = await ctx.client.call<IdResponse>('POST', `/containers/create${q}`, body);
    for (const w of r.data.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    return r.data.Id;
  };
  try {
    return await create();
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404 && /no such image/i.test(e.message))) throw e;
    if (policy === 'never') throw e;
    const ref = /[:@][^/]*$/.test(body.Image) ? body.Image : `${body.Image}:latest`;
    process.stderr.write(`Unable to find image '${ref}' locally\n`);
    await pull();
    return create();
  }
}

/**
 * ctrnet-cni: a CNI plugin (spec 1.0.0 and 1.1.0) whose work is done by ctrnetd. The plugin entry
 * of a network configuration list:
 *
 *     {"type": "ctrnet-cni", "socket": "unix:///run/ctrnet/ctrnet.sock", "network": "NAME"}
 *
 * NAME is a ctrnet network (bridge or overlay). Verbs:
 *   ADD     attach CNI_NETNS to NAME (interface CNI_IFNAME): address from ctrnet's IPAM, routes,
 *           anti-spoofing, DNS names, published ports (capability portMappings); a requested
 *           address (capability ips, CNI_ARGS IP=, args.cni.ips) and MAC (capability mac,
 *           CNI_ARGS MAC=); names from CNI_ARGS K8S_POD_NAME and the aliases capability. The
 *           result is appended to a prevResult (chains: ctrnet-cni after tuning, before bandwidth…).
 *   DEL     detach; idempotent and best effort: an unknown container, an empty CNI_NETNS or no
 *           prevResult succeeds.
 *   CHECK   the kernel against ctrnet's record, and the prevResult against both.
 *   STATUS  ctrnetd answers and has the network; code 50 when it does not answer.
 *   GC      detaches every attachment of this configuration not in cni.dev/valid-attachments.
 *   VERSION 1.0.0 and 1.1.0.
 * Errors are the spec's JSON ({code, msg, details}) on stdout with a non-zero exit; messages name
 * the fix. This module is pure (env, stdin and a daemon caller in, the answer out): main.ts runs it.
 */
import type { AttachmentPort, AttachRequest, AttachResult } from '../base/attachment';
import { Call, Unreachable } from './client';

export const SUPPORTED_VERSIONS = ['1.0.0', '1.1.0'];
export const PLUGIN_TYPE = 'ctrnet-cni';
export const DEFAULT_SOCKET = 'unix:///run/ctrnet/ctrnet.sock';

/** The spec's error codes (CNI spec, "Error"). */
export const CNI_ERR = {
  INCOMPATIBLE_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENV: 4,
  IO: 5,
  DECODE: 6,
  INVALID_CONFIG: 7,
  TRY_AGAIN: 11,
  NOT_AVAILABLE: 50,
  LIMITED: 51,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    msg: string,
    readonly details = '',
  ) {
    super(msg);
  }
}

/** What the runtime gave the plugin. */
export interface Invocation {
  env: Record<string, string | undefined>;
  stdin: string;
}

/** What the plugin answers: stdout and the exit code. */
export interface Outcome {
  stdout: string;
  code: number;
}

interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  socket: string;
  network: string;
  runtimeConfig: Record<string, unknown>;
  args: Record<string, unknown>;
  prevResult?: CniResult;
  raw: Record<string, unknown>;
}

/** The spec's result (1.0/1.1). */
export interface CniResult {
  cniVersion: string;
  interfaces?: { name: string; mac?: string; mtu?: number; sandbox?: string }[];
  ips?: { address: string; gateway?: string; interface?: number }[];
  routes?: { dst: string; gw?: string }[];
  dns?: { nameservers?: string[]; domain?: string; search?: string[]; options?: string[] };
}

function parseConf(stdin: string): NetConf {
  let raw: unknown;
  try {
    raw = JSON.parse(stdin);
  } catch (e) {
    throw new CniError(CNI_ERR.DECODE, `the network configuration on stdin is not JSON: ${(e as Error).message}`, 'the runtime passes the plugin entry of the configuration list');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CniError(CNI_ERR.DECODE, 'the network configuration on stdin is not a JSON object');
  const o = raw as Record<string, unknown>;
  const str = (k: string, dflt?: string): string => {
    const v = o[k];
    if (v === undefined || v === '') {
      if (dflt !== undefined) return dflt;
      throw new CniError(CNI_ERR.INVALID_CONFIG, `the network configuration has no "${k}"`, k === 'network' ? `add "network": "NAME" (a ctrnet network: \`ctrnet network ls\`) to the ${PLUGIN_TYPE} entry` : '');
    }
    if (typeof v !== 'string') throw new CniError(CNI_ERR.INVALID_CONFIG, `"${k}" must be a string in the network configuration`);
    return v;
  };
  const objOf = (k: string): Record<string, unknown> => {
    const v = o[k];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v)) throw new CniError(CNI_ERR.INVALID_CONFIG, `"${k}" must be an object in the network configuration`);
    return v as Record<string, unknown>;
  };
  const socket = str('socket', DEFAULT_SOCKET);
  if (!socket.startsWith('unix:///')) throw new CniError(CNI_ERR.INVALID_CONFIG, `"socket" ${socket} is not a unix socket URL`, 'write it as unix:///run/ctrnet/ctrnet.sock');
  return {
    cniVersion: str('cniVersion', '1.0.0'), name: str('name'), type: str('type', PLUGIN_TYPE), socket, network: '',
    runtimeConfig: objOf('runtimeConfig'), args: objOf('args'), prevResult: o.prevResult as CniResult | undefined, raw: o,
  };
}

/** CNI_ARGS: "K=V;K=V". */
export function parseCniArgs(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (s ?? '').split(';')) {
    if (!part) continue;
    const i = part.indexOf('=');
    if (i <= 0) throw new CniError(CNI_ERR.INVALID_ENV, `CNI_ARGS has "${part}", not KEY=VALUE`, 'the runtime sets CNI_ARGS as K=V;K=V');
    out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

function need(env: Invocation['env'], k: string): string {
  const v = env[k];
  if (!v) throw new CniError(CNI_ERR.INVALID_ENV, `${k} is not set`, `the runtime must set ${k} for ${env.CNI_COMMAND}`);
  return v;
}

/** The published ports of the portMappings capability. */
function portsOf(rc: Record<string, unknown>): AttachmentPort[] {
  const pm = rc.portMappings;
  if (pm === undefined || pm === null) return [];
  if (!Array.isArray(pm)) throw new CniError(CNI_ERR.INVALID_CONFIG, 'runtimeConfig.portMappings must be a list');
  return pm.map((p: unknown, i) => {
    const o = (p ?? {}) as Record<string, unknown>;
    const proto = String(o.protocol ?? 'tcp').toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp') throw new CniError(CNI_ERR.INVALID_CONFIG, `portMappings[${i}]: protocol ${proto} is not supported`, 'use tcp or udp');
    const hostIp = typeof o.hostIP === 'string' ? o.hostIP : '';
    if (hostIp.includes(':')) throw new CniError(CNI_ERR.INVALID_CONFIG, `portMappings[${i}]: IPv6 host address ${hostIp} is not supported`, 'ctrnet is IPv4 only: use an IPv4 hostIP or none');
    return { proto, hostPort: Number(o.hostPort), containerPort: Number(o.containerPort), hostIp } as AttachmentPort;
  });
}

/** The requested address: capability ips, then args.cni.ips, then CNI_ARGS IP (first IPv4 of each). */
function requestedIp(conf: NetConf, cniArgs: Record<string, string>): string | undefined {
  const cands: unknown[] = [];
  if (Array.isArray(conf.runtimeConfig.ips)) cands.push(...(conf.runtimeConfig.ips as unknown[]));
  const argIps = (conf.args.cni as Record<string, unknown> | undefined)?.ips;
  if (Array.isArray(argIps)) cands.push(...(argIps as unknown[]));
  if (cniArgs.IP) cands.push(...cniArgs.IP.split(','));
  for (const c of cands) {
    if (typeof c !== 'string') continue;
    const ip = c.split('/')[0];
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) return ip;
  }
  return undefined;
}

function requestedMac(conf: NetConf, cniArgs: Record<string, string>): string | undefined {
  const m = conf.runtimeConfig.mac ?? (conf.args.cni as Record<string, unknown> | undefined)?.mac ?? cniArgs.MAC;
  return typeof m === 'string' && m ? m : undefined;
}

/** The aliases capability: { "<network configuration name>": ["alias", …] }. */
function aliasesOf(conf: NetConf): string[] {
  const a = conf.runtimeConfig.aliases as Record<string, unknown> | undefined;
  const mine = a && typeof a === 'object' ? a[conf.name] : undefined;
  return Array.isArray(mine) ? mine.filter((x): x is string => typeof x === 'string') : [];
}

/** The dns capability's request: { servers, searches, options } (CNI conventions). */
export interface RuntimeDns {
  servers?: string[];
  searches?: string[];
  options?: string[];
}

function dnsOf(rc: Record<string, unknown>): RuntimeDns {
  const d = rc.dns as Record<string, unknown> | undefined;
  if (!d || typeof d !== 'object') return {};
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
  return { servers: list(d.servers), searches: list(d.searches), options: list(d.options) };
}

/**
 * Our answer as the spec's result, appended to the previous plugins' result. Name servers: ctrnet's
 * resolver first (it answers ctrnet's names and forwards the rest), then the earlier plugins' and
 * the runtime's (dns capability); its search domains and options are passed on.
 */
export function toCniResult(cniVersion: string, r: AttachResult, prev?: CniResult, asked: RuntimeDns = {}): CniResult {
  const interfaces = [...(prev?.interfaces ?? [])];
  const base = interfaces.length;
  for (const i of r.interfaces) interfaces.push({ name: i.name, ...(i.mac ? { mac: i.mac } : {}), ...(i.mtu ? { mtu: i.mtu } : {}), ...(i.sandbox ? { sandbox: i.sandbox } : {}) });
  const ips = [...(prev?.ips ?? []), ...r.ips.map((ip) => ({ address: ip.address, ...(ip.gateway ? { gateway: ip.gateway } : {}), interface: ip.interface + base }))];
  const routes = [...(prev?.routes ?? []), ...r.routes.map((rt) => ({ dst: rt.dst, ...(rt.gw ? { gw: rt.gw } : {}) }))];
  const prevDns = prev?.dns ?? {};
  const nameservers = [...new Set([...r.nameservers, ...(prevDns.nameservers ?? []), ...(asked.servers ?? [])])];
  const dns = {
    ...prevDns, ...(nameservers.length ? { nameservers } : {}),
    ...(asked.searches?.length ? { search: asked.searches } : {}), ...(asked.options?.length ? { options: asked.options } : {}),
  };
  return { cniVersion, interfaces, ips, routes, dns };
}

/** The daemon's error answer as a CNI error, with the daemon's message (which names the fix). */
function daemonError(status: number, body: unknown, what: string): CniError {
  const msg = (body as { message?: string } | undefined)?.message ?? String(body ?? `HTTP ${status}`);
  const code = status === 404 ? CNI_ERR.INVALID_CONFIG : status === 400 || status === 409 ? CNI_ERR.INVALID_CONFIG : status === 503 ? CNI_ERR.TRY_AGAIN : CNI_ERR.IO;
  return new CniError(code, `${what}: ${msg}`);
}

async function call(c: Call, method: string, path: string, body: unknown, what: string): Promise<unknown> {
  const a = await c(method, path, body);
  if (a.status >= 400) throw daemonError(a.status, a.body, what);
  return a.body;
}

function unreachable(e: Unreachable, code: number): CniError {
  return new CniError(code, e.message, 'start ctrnetd, or point "socket" in the plugin configuration at its socket (ctrnetd -H unix:///PATH)');
}

/** Runs one CNI call. `connect` makes the caller for the configuration's socket. */
export async function runPlugin(inv: Invocation, connect: (socket: string) => Call): Promise<Outcome> {
  const cmd = inv.env.CNI_COMMAND ?? '';
  let version = '1.1.0';
  try {
    if (cmd === 'VERSION') {
      let asked = version;
      try {
        asked = (JSON.parse(inv.stdin || '{}') as { cniVersion?: string }).cniVersion ?? version;
      } catch {
        // VERSION may come without a configuration: answer in our newest
      }
      return ok({ cniVersion: SUPPORTED_VERSIONS.includes(asked) ? asked : '1.1.0', supportedVersions: SUPPORTED_VERSIONS });
    }
    const conf = parseConf(inv.stdin);
    version = conf.cniVersion;
    if (!SUPPORTED_VERSIONS.includes(conf.cniVersion)) {
      throw new CniError(CNI_ERR.INCOMPATIBLE_VERSION, `CNI version ${conf.cniVersion} is not supported`, `set "cniVersion" to one of ${SUPPORTED_VERSIONS.join(', ')}`);
    }
    if (cmd === 'STATUS' || cmd === 'GC') {
      if (conf.cniVersion === '1.0.0') throw new CniError(CNI_ERR.INCOMPATIBLE_VERSION, `${cmd} needs CNI version 1.1.0, the configuration says 1.0.0`, 'set "cniVersion": "1.1.0"');
    }
    const network = conf.raw.network;
    if (typeof network !== 'string' || !network) {
      throw new CniError(CNI_ERR.INVALID_CONFIG, `the ${PLUGIN_TYPE} entry of configuration ${conf.name} has no "network"`, 'add "network": "NAME", a ctrnet network (`ctrnet network ls`)');
    }
    conf.network = network;
    const c = connect(conf.socket);
    try {
      switch (cmd) {
        case 'ADD':
          return ok(await add(inv, conf, c));
        case 'DEL':
          await del(inv, conf, c);
          return { stdout: '', code: 0 };
        case 'CHECK':
          await check(inv, conf, c);
          return { stdout: '', code: 0 };
        case 'STATUS':
          await status(conf, c);
          return { stdout: '', code: 0 };
        case 'GC':
          await gc(conf, c);
          return { stdout: '', code: 0 };
        default:
          throw new CniError(CNI_ERR.INVALID_ENV, `unknown CNI_COMMAND "${cmd}"`, 'use ADD, DEL, CHECK, STATUS, GC or VERSION');
      }
    } catch (e) {
      if (e instanceof Unreachable) throw unreachable(e, cmd === 'STATUS' ? CNI_ERR.NOT_AVAILABLE : CNI_ERR.TRY_AGAIN);
      throw e;
    }
  } catch (e) {
    const err = e instanceof CniError ? e : new CniError(CNI_ERR.IO, (e as Error).message ?? String(e));
    return { stdout: JSON.stringify({ cniVersion: version, code: err.code, msg: err.message, ...(err.details ? { details: err.details } : {}) }) + '\n', code: 1 };
  }
}

const ok = (v: unknown): Outcome => ({ stdout: JSON.stringify(v) + '\n', code: 0 });

function key(inv: Invocation, conf: NetConf) {
  return { kind: 'cni' as const, ref: need(inv.env, 'CNI_CONTAINERID'), scope: conf.name, ifName: need(inv.env, 'CNI_IFNAME') };
}

async function add(inv: Invocation, conf: NetConf, c: Call): Promise<CniResult> {
  const args = parseCniArgs(inv.env.CNI_ARGS);
  const req: AttachRequest = {
    ...key(inv, conf), network: conf.network, netns: need(inv.env, 'CNI_NETNS'),
    name: args.K8S_POD_NAME, aliases: aliasesOf(conf), ip: requestedIp(conf, args), mac: requestedMac(conf, args), ports: portsOf(conf.runtimeConfig),
  };
  const r = (await call(c, 'POST', '/ctrnet/attachments', req, `attaching ${req.ref.slice(0, 12)} to ctrnet network ${conf.network}`)) as AttachResult;
  return toCniResult(conf.cniVersion, r, conf.prevResult, dnsOf(conf.runtimeConfig));
}

async function del(inv: Invocation, conf: NetConf, c: Call): Promise<void> {
  // Best effort: no prevResult, an empty CNI_NETNS, an unknown container are fine. The key is enough.
  const ref = inv.env.CNI_CONTAINERID;
  const ifName = inv.env.CNI_IFNAME;
  if (!ref || !ifName) throw new CniError(CNI_ERR.INVALID_ENV, 'CNI_CONTAINERID and CNI_IFNAME must be set for DEL', 'the runtime sets them');
  await call(c, 'POST', '/ctrnet/attachments/delete', { kind: 'cni', ref, scope: conf.name, ifName }, `detaching ${ref.slice(0, 12)} from ctrnet network ${conf.network}`);
}

async function check(inv: Invocation, conf: NetConf, c: Call): Promise<void> {
  const k = key(inv, conf);
  need(inv.env, 'CNI_NETNS');
  if (!conf.prevResult) throw new CniError(CNI_ERR.INVALID_CONFIG, 'CHECK needs the prevResult of the ADD', 'the runtime passes the cached result of ADD as prevResult');
  const a = await c('POST', '/ctrnet/attachments/check', k);
  if (a.status === 404) throw new CniError(CNI_ERR.UNKNOWN_CONTAINER, `container ${k.ref.slice(0, 12)} (${k.ifName}) is not attached to ctrnet network ${conf.network}`, 'ADD it first, or DEL and ADD it again');
  if (a.status >= 400) throw daemonError(a.status, a.body, `checking ${k.ref.slice(0, 12)} on ctrnet network ${conf.network}`);
  const r = a.body as AttachResult;
  const have = new Set((conf.prevResult.ips ?? []).map((i) => i.address));
  for (const ip of r.ips) {
    if (!have.has(ip.address)) throw new CniError(CNI_ERR.INVALID_CONFIG, `the prevResult lacks ${ip.address}, which ctrnet gave ${k.ref.slice(0, 12)}`, 'DEL and ADD the container again');
  }
  for (const i of r.interfaces.filter((x) => x.sandbox)) {
    if (!(conf.prevResult.interfaces ?? []).some((p) => p.name === i.name && p.sandbox === i.sandbox)) {
      throw new CniError(CNI_ERR.INVALID_CONFIG, `the prevResult lacks interface ${i.name} in ${i.sandbox}`, 'DEL and ADD the container again');
    }
  }
}

async function status(conf: NetConf, c: Call): Promise<void> {
  const a = await c('GET', `/networks/${encodeURIComponent(conf.network)}`);
  if (a.status === 404) throw new CniError(CNI_ERR.NOT_AVAILABLE, `ctrnet has no network ${conf.network}`, 'create it (`ctrnet network create NAME`) or fix "network" in the plugin configuration');
  if (a.status >= 400) throw new CniError(CNI_ERR.NOT_AVAILABLE, `ctrnetd answered ${a.status}: ${(a.body as { message?: string })?.message ?? ''}`);
}

async function gc(conf: NetConf, c: Call): Promise<void> {
  const v = conf.raw['cni.dev/valid-attachments'];
  if (v !== undefined && !Array.isArray(v)) throw new CniError(CNI_ERR.INVALID_CONFIG, '"cni.dev/valid-attachments" must be a list');
  const valid = ((v as unknown[] | undefined) ?? []).map((x) => {
    const o = (x ?? {}) as Record<string, unknown>;
    return { ref: String(o.containerID ?? ''), ifName: String(o.ifname ?? '') };
  });
  await call(c, 'POST', '/ctrnet/attachments/gc', { kind: 'cni', scope: conf.name, valid }, `garbage collection of ${conf.name}`);
}

/**
 * Published ports: parsing Docker's `-p` forms and choosing host ports.
 *   -p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp], HOST_PORT may be a range "8080-8081"
 *   (with an equal container range) or empty ("-p 127.0.0.1::80"): a free port is chosen at start.
 *   An IPv6 HOST_IP is written in brackets: -p [::1]:8080:80, -p [2001:db8::1]::80.
 */
import { EngineError } from './errors';
import { isIPv4, isIPv6 } from './ip';

export type Proto = 'tcp' | 'udp';

export interface PortSpec {
  proto: Proto;
  /**
   * "" (none given): every address of both families, as Docker publishes by default; "0.0.0.0":
   * every IPv4 address only; "::": every IPv6 address only; or one address. (Specs recorded
   * before IPv6 hold "0.0.0.0" for none given: their containers had no IPv6.)
   */
  hostIp: string;
  /** 0: choose a free port at start */
  hostPort: number;
  containerPort: number;
}

/** Docker's ephemeral range for `-p CONTAINER_PORT` (the kernel's default ip_local_port_range). */
export const EPHEMERAL_FIRST = 32768;
export const EPHEMERAL_LAST = 60999;

function badSpec(spec: string, why: string): EngineError {
  return new EngineError('INVALID_PORT_SPEC', `invalid port specification "${spec}": ${why}`, {
    hint: 'use -p [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/tcp|/udp], e.g. -p 8080:80 or -p 127.0.0.1:8080:80/tcp',
  });
}

function parsePortRange(s: string, spec: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw badSpec(spec, `"${s}" is not a port number`);
  const a = Number(m[1]);
  const b = m[2] === undefined ? a : Number(m[2]);
  if (a < 1 || a > 65535 || b < 1 || b > 65535) throw badSpec(spec, `port ${a > 65535 || a < 1 ? a : b} is outside 1-65535`);
  if (b < a) throw badSpec(spec, `range ${s} is reversed`);
  return [a, b];
}

export function parsePortSpec(spec: string): PortSpec[] {
  let rest = spec.trim();
  let proto: Proto = 'tcp';
  const slash = rest.lastIndexOf('/');
  if (slash >= 0) {
    const p = rest.slice(slash + 1).toLowerCase();
    if (p !== 'tcp' && p !== 'udp') throw badSpec(spec, `protocol "${p}" is not tcp or udp`);
    proto = p;
    rest = rest.slice(0, slash);
  }
  let hostIp = '';
  // An IPv6 host address in brackets: [ADDR]:HOST_PORT:CONTAINER_PORT
  const bracket = /^\[([^\]]*)\]:(.*)$/.exec(rest);
  if (bracket) {
    if (!isIPv6(bracket[1])) throw badSpec(spec, `"${bracket[1]}" is not an IPv6 address`);
    hostIp = bracket[1].toLowerCase();
    rest = bracket[2];
  }
  const parts = rest.split(':');
  let hostPart = '';
  let ctrPart: string;
  if (parts.length === 1) ctrPart = parts[0];
  else if (parts.length === 2 && bracket) [hostPart, ctrPart] = parts;
  else if (parts.length === 2) [hostPart, ctrPart] = parts;
  else if (parts.length === 3 && !bracket) [hostIp, hostPart, ctrPart] = parts;
  else if (!bracket && parts.length > 3) throw badSpec(spec, 'too many ":" (write an IPv6 host address in brackets: [::1]:8080:80)');
  else throw badSpec(spec, 'too many ":"');
  if (bracket && parts.length === 1) throw badSpec(spec, 'an IPv6 host address needs [ADDR]:HOST_PORT:CONTAINER_PORT (HOST_PORT may be empty)');
  if (hostIp !== '' && !bracket && !isIPv4(hostIp)) throw badSpec(spec, `"${hostIp}" is not an IPv4 address (write an IPv6 one in brackets)`);
  if (!ctrPart) throw badSpec(spec, 'no container port');
  const [c0, c1] = parsePortRange(ctrPart, spec);
  if (!hostPart) return range(c0, c1).map((c) => ({ proto, hostIp, hostPort: 0, containerPort: c }));
  const [h0, h1] = parsePortRange(hostPart, spec);
  if (h1 - h0 !== c1 - c0) throw badSpec(spec, 'the host and container port ranges differ in size');
  return range(c0, c1).map((c, i) => ({ proto, hostIp, hostPort: h0 + i, containerPort: c }));
}

const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** The family of a binding's host address: 0 for "" (both). */
const familyOf = (ip: string): 0 | 4 | 6 => (ip === '' ? 0 : ip.includes(':') ? 6 : 4);
const anyAddress = (ip: string): boolean => ip === '' || ip === '0.0.0.0' || ip === '::';

/**
 * Two bindings collide when protocol and port match, their families meet ("" is both), and
 * either listens on every address of it or both on the same one.
 */
export function collides(a: { proto: string; hostIp: string; hostPort: number }, b: { proto: string; hostIp: string; hostPort: number }): boolean {
  if (a.proto !== b.proto || a.hostPort !== b.hostPort) return false;
  const fa = familyOf(a.hostIp);
  const fb = familyOf(b.hostIp);
  if (fa && fb && fa !== fb) return false;
  return anyAddress(a.hostIp) || anyAddress(b.hostIp) || a.hostIp === b.hostIp;
}

/**
 * Sockets of other network namespaces for the daemon's event loop, through ctrnet-netns.node
 * (native/netns-socket.c): a short-lived native thread enters the namespace, creates and binds
 * the socket, and hands its descriptor back. Both Kernel adapters use it (like port-probe.ts):
 * it is a socket question, not a netlink one.
 */
import path from 'node:path';
import { KernelError, KernelErrno } from './kernel';

export const NETNS_ADDON = path.resolve(__dirname, '../../../build/ctrnet-netns.node');

interface Addon {
  udpSocket(nsPath: string | null, address: string, port: number): number;
  tcpSocket(nsPath: string | null, address: string, port: number, listen: boolean): number;
}

let addon: Addon | undefined;

const KNOWN: KernelErrno[] = ['ENOENT', 'EADDRINUSE', 'EPERM', 'EACCES', 'EINVAL', 'ENETUNREACH', 'EHOSTUNREACH'];

function load(): Addon {
  try {
    addon ??= require(NETNS_ADDON) as Addon;
    return addon;
  } catch (e) {
    throw new KernelError(`${NETNS_ADDON} cannot be loaded (run \`npm run build\`)`, 'UNKNOWN', { cause: e });
  }
}

function call(what: string, netns: string | undefined, address: string, port: number, fn: (a: Addon) => number): number {
  const a = load();
  try {
    return fn(a);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code as KernelErrno;
    // EADDRNOTAVAIL: no such local address; EAFNOSUPPORT: no IPv6 in that namespace
    const mapped = KNOWN.includes(code) ? code : code === ('EADDRNOTAVAIL' as KernelErrno) || code === ('EAFNOSUPPORT' as KernelErrno) ? 'EINVAL' : 'UNKNOWN';
    throw new KernelError(`${what} ${address.includes(':') ? `[${address}]` : address}:${port}${netns ? ` in ${netns}` : ''}: ${(e as Error).message}`, mapped, { cause: e });
  }
}

/** A UDP socket of the namespace bind-mounted at `netns` (undefined: ours), bound to address:port. */
export async function udpSocket(netns: string | undefined, address: string, port: number): Promise<number> {
  return call('udp socket', netns, address, port, (a) => a.udpSocket(netns ?? null, address, port));
}

/** A TCP socket of that namespace: listening on address:port, or connecting to it (non-blocking). */
export async function tcpSocket(netns: string | undefined, address: string, port: number, mode: 'listen' | 'connect'): Promise<number> {
  return call(mode === 'listen' ? 'tcp listener' : 'tcp connection to', netns, address, port, (a) => a.tcpSocket(netns ?? null, address, port, mode === 'listen'));
}

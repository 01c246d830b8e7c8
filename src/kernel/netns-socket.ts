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
}

let addon: Addon | undefined;

const KNOWN: KernelErrno[] = ['ENOENT', 'EADDRINUSE', 'EPERM', 'EACCES', 'EINVAL'];

/** A UDP socket of the namespace bind-mounted at `netns` (undefined: ours), bound to address:port. */
export async function udpSocket(netns: string | undefined, address: string, port: number): Promise<number> {
  try {
    addon ??= require(NETNS_ADDON) as Addon;
  } catch (e) {
    throw new KernelError(`${NETNS_ADDON} cannot be loaded (run \`npm run build\`)`, 'UNKNOWN', { cause: e });
  }
  try {
    return addon.udpSocket(netns ?? null, address, port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code as KernelErrno;
    throw new KernelError(`udp socket ${address}:${port}${netns ? ` in ${netns}` : ''}: ${(e as Error).message}`, KNOWN.includes(code) ? code : code === ('EADDRNOTAVAIL' as KernelErrno) ? 'EINVAL' : 'UNKNOWN', { cause: e });
  }
}

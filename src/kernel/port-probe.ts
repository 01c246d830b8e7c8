/**
 * Whether a host port is free: the one kernel question answered by the sockets API rather than
 * netlink. Used by both Kernel adapters for the daemon's own namespace.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { Proto } from '../base/port-spec';

/**
 * True when no socket of the host holds the port: we bind it for an instant. DNAT would take the
 * traffic from a server already listening there without telling anyone, so Docker refuses it too.
 */
export function portFree(proto: Proto, hostIp: string, port: number): Promise<boolean> {
  // An IPv6 address is probed for IPv6 only: a server on 0.0.0.0 does not hold [::]'s port.
  const v6 = hostIp.includes(':');
  return new Promise((resolve) => {
    if (proto === 'udp') {
      const s = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6 });
      s.once('error', () => resolve(false));
      s.bind(port, hostIp, () => s.close(() => resolve(true)));
      return;
    }
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: hostIp, exclusive: true, ipv6Only: v6 }, () => srv.close(() => resolve(true)));
  });
}

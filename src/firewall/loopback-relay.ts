/**
 * Published ports on the host's IPv6 loopback address. IPv6 has no `route_localnet`: the kernel
 * never lets a packet from ::1 leave lo, so a DNAT from [::1]:PORT to a container cannot work (as
 * Docker, netavark and the CNI plugins find: Docker's userland proxy serves these). This relay is
 * that proxy, in the daemon's own event loop and only for what NAT cannot do: it listens on
 * [::1]:PORT for every IPv6 port published on `::` or `::1`, and connects (TCP) or relays
 * datagrams (UDP) to the container's address. The container sees the gateway's address as the
 * client, as for the host's own IPv4 connections to 127.0.0.1 (masqueraded). Nothing else reaches
 * ::1, so such a port stays private to the host.
 *
 * Limitations: it lives in the daemon (while ctrnetd is stopped, [::1] ports do not answer; the
 * NAT of every other address goes on); a UDP client is forgotten after a minute without traffic.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { PortMapping } from '../base/model';

const UDP_IDLE_MS = 60_000;

interface Open {
  close(): void;
  /** connections (TCP) or clients (UDP) relayed so far */
  count: number;
}

/** Whether a published port needs the relay: IPv6, on every address or on ::1 (not a routed one). */
export const relayed = (p: PortMapping): boolean => (p.hostIp === '::' || p.hostIp === '::1') && p.hostIp !== p.containerIp;

const keyOf = (p: PortMapping): string => `${p.proto} ${p.hostPort}`;

export class LoopbackRelay {
  private readonly open = new Map<string, Open>();

  constructor(private readonly log: (m: string) => void = () => {}) {}

  /**
   * Starts relaying [::1]:hostPort to the container (idempotent). A host whose lo has no IPv6
   * (IPv6 off there) has no ::1 to serve: a port on every address goes without the relay (nothing
   * on the host could connect to [::1] anyway), one published on ::1 itself is an error.
   */
  async add(p: PortMapping): Promise<void> {
    if (this.open.has(keyOf(p))) return;
    try {
      const o = p.proto === 'tcp' ? await this.tcp(p) : await this.udp(p);
      this.open.set(keyOf(p), o);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw e;
      if (p.hostIp === '::1') throw new Error(`cannot publish on [::1]:${p.hostPort}: this host has no IPv6 loopback address (IPv6 is off on lo)`, { cause: e });
    }
  }

  remove(p: PortMapping): void {
    this.open.get(keyOf(p))?.close();
    this.open.delete(keyOf(p));
  }

  /** Relays in place, by `proto port`, with their counts (for explain). */
  counts(): Map<string, number> {
    return new Map([...this.open].map(([k, o]) => [k, o.count]));
  }

  closeAll(): void {
    for (const o of this.open.values()) o.close();
    this.open.clear();
  }

  private tcp(p: PortMapping): Promise<Open> {
    const conns = new Set<net.Socket>();
    const o: Open = { count: 0, close: () => {
      server.close();
      for (const c of conns) c.destroy();
    } };
    const server = net.createServer((client) => {
      o.count++;
      const up = net.connect({ host: p.containerIp, port: p.containerPort });
      for (const s of [client, up]) {
        conns.add(s);
        s.on('close', () => conns.delete(s));
        s.on('error', () => {
          client.destroy();
          up.destroy();
        });
      }
      client.pipe(up).pipe(client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '::1', port: p.hostPort, ipv6Only: true, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (e) => this.log(`relay [::1]:${p.hostPort}/tcp: ${e.message}`));
        resolve(o);
      });
    });
  }

  private udp(p: PortMapping): Promise<Open> {
    const sock = dgram.createSocket({ type: 'udp6', ipv6Only: true });
    const clients = new Map<string, { up: dgram.Socket; timer: NodeJS.Timeout }>();
    const o: Open = { count: 0, close: () => {
      sock.close();
      for (const c of clients.values()) {
        clearTimeout(c.timer);
        c.up.close();
      }
      clients.clear();
    } };
    sock.on('message', (msg, from) => {
      const k = `${from.address} ${from.port}`;
      let c = clients.get(k);
      if (!c) {
        o.count++;
        const up = dgram.createSocket('udp6');
        up.on('message', (reply) => sock.send(reply, from.port, from.address));
        up.on('error', () => {});
        c = { up, timer: setTimeout(() => {}, 0) };
        clients.set(k, c);
      }
      clearTimeout(c.timer);
      const entry = c;
      c.timer = setTimeout(() => {
        entry.up.close();
        clients.delete(k);
      }, UDP_IDLE_MS).unref();
      c.up.send(msg, p.containerPort, p.containerIp);
    });
    sock.on('error', (e) => this.log(`relay [::1]:${p.hostPort}/udp: ${e.message}`));
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(p.hostPort, '::1', () => {
        sock.off('error', reject);
        resolve(o);
      });
    });
  }
}

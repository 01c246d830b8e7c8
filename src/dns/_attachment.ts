/**
 * One sandbox's side of the embedded resolver: its listening sockets at 127.0.0.11:53 (UDP and
 * TCP) and its upstream exchanges, all made inside the sandbox's namespace (Kernel.udpSocket,
 * Kernel.tcpSocket) and served by the daemon's event loop. Upstream queries go out over UDP from
 * one socket per family (made on first need) with transaction ids of our own; a client that was
 * told to ask again over TCP (a truncated answer) is forwarded over TCP, one connection per query.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { Kernel } from '../kernel/kernel';
import { framed, readFramed } from './message';

export interface Upstream {
  host: string;
  port: number;
}

export const FORWARD_TIMEOUT_MS = 2000;
/** A TCP client that sends nothing for this long is let go (RFC 7766 6.2.3 suggests seconds). */
const TCP_IDLE_MS = 10_000;

interface Forwarded {
  id: number;
  resolve: (reply: Buffer | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Makes a dgram socket of the sandbox's namespace bound to address:port. */
export async function udpIn(kernel: Kernel, address: string, port: number): Promise<dgram.Socket> {
  const fd = await kernel.udpSocket(address, port);
  const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind({ fd }, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return sock;
}

export class Attachment {
  /** one upstream socket per family, made on first need */
  private readonly forwarders = new Map<4 | 6, Promise<dgram.Socket>>();
  private readonly pending = new Map<number, Forwarded>();
  private readonly clients = new Set<net.Socket>();
  private nextId = Math.floor(Math.random() * 65536);
  tcp?: net.Server;
  closed = false;

  constructor(
    readonly id: string,
    readonly netns: string,
    readonly listener: dgram.Socket,
    readonly upstreams: Upstream[],
    private readonly kernel: Kernel,
  ) {}

  /** Serves TCP clients on the listening socket `fd`: each framed query answered by `answer` (with TCP's limits). */
  serveTcp(fd: number, answer: (msg: Buffer) => Promise<Buffer | undefined>, log: (m: string) => void): void {
    const server = net.createServer((c) => {
      if (this.closed) return void c.destroy();
      this.clients.add(c);
      c.setTimeout(TCP_IDLE_MS, () => c.destroy());
      c.on('close', () => this.clients.delete(c));
      c.on('error', () => {}); // 'close' follows
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        const { messages, rest } = readFramed(Buffer.concat([buf, d]));
        buf = Buffer.from(rest);
        for (const m of messages) {
          void answer(Buffer.from(m)).then((reply) => {
            if (reply && !c.destroyed) c.write(framed(reply));
          });
        }
      });
    });
    server.on('error', (e) => log(`dns (tcp) of ${this.id.slice(0, 12)}: ${e.message}`));
    server.listen({ fd });
    this.tcp = server;
  }

  /** Sends `msg` to `up` over UDP from inside the sandbox; resolves with the reply, or undefined (timeout, unreachable). */
  async exchange(up: Upstream, msg: Buffer): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    const family = up.host.includes(':') ? 6 : 4;
    let forwarder = this.forwarders.get(family);
    if (!forwarder) {
      forwarder = udpIn(this.kernel, family === 6 ? '::' : '0.0.0.0', 0).then((s) => {
        s.on('message', (reply) => {
          if (reply.length < 12) return;
          const f = this.pending.get(reply.readUInt16BE(0));
          if (!f) return;
          this.pending.delete(reply.readUInt16BE(0));
          clearTimeout(f.timer);
          const out = Buffer.from(reply);
          out.writeUInt16BE(f.id, 0);
          f.resolve(out);
        });
        s.on('error', () => {
          // a send error is reported to its own callback; nothing else can fail on this socket
        });
        if (this.closed) s.close();
        return s;
      });
      this.forwarders.set(family, forwarder);
    }
    const sock = await forwarder.catch(() => undefined);
    if (!sock || this.closed) return undefined;
    // Our own transaction id: two containers' processes may use the same one at once.
    let tx = this.nextId++ & 0xffff;
    while (this.pending.has(tx)) tx = this.nextId++ & 0xffff;
    const out = Buffer.from(msg);
    out.writeUInt16BE(tx, 0);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(tx);
        resolve(undefined);
      }, FORWARD_TIMEOUT_MS);
      this.pending.set(tx, { id: msg.readUInt16BE(0), resolve, timer });
      sock.send(out, up.port, up.host, (e) => {
        if (!e) return;
        // No route from the sandbox (an internal network): fail now, not after the timeout.
        this.pending.delete(tx);
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  /** Sends `msg` to `up` over TCP from inside the sandbox (a connection of its own); the reply, or undefined. */
  async exchangeTcp(up: Upstream, msg: Buffer): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    const fd = await this.kernel.tcpSocket(up.host, up.port, 'connect').catch(() => undefined);
    if (fd === undefined) return undefined;
    return new Promise((resolve) => {
      // The connection is under way: what is written waits until it is made, a refusal shows as an error.
      const c = new net.Socket({ fd, readable: true, writable: true });
      this.clients.add(c);
      let buf = Buffer.alloc(0);
      const done = (reply: Buffer | undefined) => {
        clearTimeout(timer);
        this.clients.delete(c);
        c.destroy();
        resolve(reply);
      };
      const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
      c.on('error', () => done(undefined));
      c.on('close', () => done(undefined));
      c.on('data', (d: Buffer) => {
        const { messages, rest } = readFramed(Buffer.concat([buf, d]));
        buf = Buffer.from(rest);
        const reply = messages.find((m) => m.length >= 12 && m.readUInt16BE(0) === msg.readUInt16BE(0));
        if (reply) done(Buffer.from(reply));
      });
      c.write(framed(msg));
    });
  }

  close(): void {
    this.closed = true;
    this.listener.close();
    this.tcp?.close();
    for (const c of this.clients) c.destroy();
    this.clients.clear();
    for (const f of this.pending.values()) {
      clearTimeout(f.timer);
      f.resolve(undefined);
    }
    this.pending.clear();
    for (const f of this.forwarders.values()) void f.then((s) => s.close(), () => undefined);
  }
}

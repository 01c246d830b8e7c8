/**
 * The embedded DNS resolver of user-defined networks (as Docker's 127.0.0.11). The daemon listens
 * on UDP port 53 of each such network's gateway address; a container's resolv.conf names that
 * address. A query is answered from the records of the network it arrived on only: container
 * names, network aliases and short ids (A), and addresses (PTR). Anything else is forwarded to the
 * host's resolvers; no answer within the timeout is a SERVFAIL, never a hang.
 *
 * Limitations: UDP only (no TCP fallback for large answers); IPv4 records only.
 */
import dgram from 'node:dgram';
import { Answer, buildAnswer, parseQuery, RCODE_SERVFAIL, reverseName, TYPE_A, TYPE_PTR } from './message';

export interface NameSource {
  /** addresses of `name` for a query that reached the resolver of `networkId` from `client` */
  lookup(networkId: string, name: string, client?: string): string[];
  /** the container name that holds `ip`, for the same query */
  reverse(networkId: string, ip: string, client?: string): string | undefined;
}

export interface Upstream {
  host: string;
  port: number;
}

const FORWARD_TIMEOUT_MS = 2000;

/** The resolver as the engine drives it: one listening socket per network that has embedded DNS. */
export interface DnsServer {
  /** Starts answering for a network on its gateway address (idempotent). */
  listen(networkId: string, address: string): Promise<void>;
  close(networkId: string): void;
  closeAll(): void;
}

export class Resolver implements DnsServer {
  private readonly sockets = new Map<string, dgram.Socket>();

  constructor(
    private readonly names: NameSource,
    private readonly upstreams: () => Upstream[],
    private readonly log: (m: string) => void = () => {},
  ) {}

  /** Starts answering for a network on its gateway address (idempotent). */
  async listen(networkId: string, address: string): Promise<void> {
    if (this.sockets.has(networkId)) return;
    const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(53, address, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    sock.on('error', (e) => this.log(`dns on ${address}: ${e.message}`));
    sock.on('message', (msg, rinfo) => {
      void this.answer(networkId, msg, rinfo.address).then((reply) => {
        if (reply) sock.send(reply, rinfo.port, rinfo.address);
      });
    });
    this.sockets.set(networkId, sock);
  }

  close(networkId: string): void {
    this.sockets.get(networkId)?.close();
    this.sockets.delete(networkId);
  }

  closeAll(): void {
    for (const id of [...this.sockets.keys()]) this.close(id);
  }

  /** The reply to one query (exported for tests through `answer`). */
  async answer(networkId: string, msg: Buffer, client?: string): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    if (q.type === TYPE_PTR) {
      const ip = reverseName(q.name);
      const name = ip ? this.names.reverse(networkId, ip, client) : undefined;
      if (name) return buildAnswer(q, [{ type: TYPE_PTR, data: name }]);
    } else {
      const ips = this.names.lookup(networkId, q.name, client);
      if (ips.length) {
        // A name of ours: A records, and an empty answer (not NXDOMAIN) for other types such as AAAA.
        const answers: Answer[] = q.type === TYPE_A ? ips.map((ip) => ({ type: TYPE_A, data: ip })) : [];
        return buildAnswer(q, answers);
      }
    }
    return this.forward(q, msg);
  }

  private async forward(q: NonNullable<ReturnType<typeof parseQuery>>, msg: Buffer): Promise<Buffer> {
    for (const up of this.upstreams()) {
      const reply = await exchange(up, msg).catch(() => undefined);
      if (reply && reply.length >= 12 && reply.readUInt16BE(0) === q.id) return reply;
    }
    return buildAnswer(q, [], RCODE_SERVFAIL);
  }
}

/** One UDP query to an upstream server, with a timeout. */
function exchange(up: Upstream, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('timeout'));
    }, FORWARD_TIMEOUT_MS);
    sock.once('error', (e) => {
      clearTimeout(timer);
      sock.close();
      reject(e);
    });
    sock.once('message', (reply) => {
      clearTimeout(timer);
      sock.close();
      resolve(reply);
    });
    sock.send(msg, up.port, up.host);
  });
}

/** Name servers from a resolv.conf text. */
export function upstreamsFrom(resolvConf: string): Upstream[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ host: m[1], port: 53 }));
}

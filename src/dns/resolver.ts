/**
 * The embedded DNS resolver, as Docker's: it answers at 127.0.0.11:53 inside each sandbox that is
 * on a network with embedded DNS (user-defined networks), and a container's resolv.conf names
 * 127.0.0.11. The daemon holds one UDP socket per sandbox, made inside the sandbox's namespace
 * (Kernel.udpSocket) and served by its own event loop: no process per container, nothing bound
 * in the host's namespace (so `-p 53:53/udp` is free, and published ports never see a query), and
 * it works where a container cannot reach the host at all (macvlan, ipvlan).
 *
 * A query is answered from the names the asking container may see (its networks: container
 * names, network aliases, short ids, link aliases; PTR for their addresses), several addresses in
 * turn (round robin). Anything else is forwarded to the container's --dns servers, or the
 * daemon's upstreams, from inside the sandbox (so a container that has no way out, on an internal
 * network, cannot reach them either, as in Docker); no answer within the timeout is a SERVFAIL.
 *
 * Limitations: UDP only (no TCP fallback for large answers); IPv4 records only.
 */
import dgram from 'node:dgram';
import { Kernel } from '../kernel/kernel';
import { Answer, buildAnswer, parseQuery, Question, RCODE_SERVFAIL, reverseName, TYPE_A, TYPE_PTR } from './message';

/** Where containers find the resolver (Docker's address). */
export const EMBEDDED_DNS = '127.0.0.11';

export interface NameSource {
  /** addresses of `name` as container `asker` may see them */
  lookup(asker: string, name: string): string[];
  /** the name of the container that holds `ip`, as `asker` may see it */
  reverse(asker: string, ip: string): string | undefined;
}

export interface Upstream {
  host: string;
  port: number;
}

const FORWARD_TIMEOUT_MS = 2000;

/** The resolver as the engine drives it: one attachment per sandbox with embedded DNS. */
export interface DnsServer {
  /**
   * Starts answering at 127.0.0.11:53 inside the sandbox `netns` for container `id`
   * (idempotent). `upstreams`: its --dns servers; empty: the daemon's.
   */
  attach(id: string, netns: string, upstreams: Upstream[]): Promise<void>;
  /** Stops answering for `id` (idempotent). Before the namespace goes: an open socket keeps it alive. */
  detach(id: string): void;
  /** whether `id` is attached */
  attached(id: string): boolean;
  closeAll(): void;
}

interface Forwarded {
  upstream: Upstream;
  id: number;
  resolve: (reply: Buffer | undefined) => void;
  timer: NodeJS.Timeout;
}

/** One sandbox: its listening socket, and a socket for upstream queries made on first need. */
class Attachment {
  private forwarder?: Promise<dgram.Socket>;
  private readonly pending = new Map<number, Forwarded>();
  private nextId = Math.floor(Math.random() * 65536);
  closed = false;

  constructor(
    readonly id: string,
    readonly netns: string,
    readonly listener: dgram.Socket,
    readonly upstreams: Upstream[],
    private readonly open: (address: string, port: number) => Promise<dgram.Socket>,
  ) {}

  /** Sends `msg` to `up` from inside the sandbox; resolves with the reply, or undefined (timeout, unreachable). */
  async exchange(up: Upstream, msg: Buffer): Promise<Buffer | undefined> {
    if (this.closed) return undefined;
    this.forwarder ??= this.open('0.0.0.0', 0).then((s) => {
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
    const sock = await this.forwarder.catch(() => undefined);
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
      this.pending.set(tx, { upstream: up, id: msg.readUInt16BE(0), resolve, timer });
      sock.send(out, up.port, up.host, (e) => {
        if (!e) return;
        // No route from the sandbox (an internal network): fail now, not after the timeout.
        this.pending.delete(tx);
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.listener.close();
    for (const f of this.pending.values()) {
      clearTimeout(f.timer);
      f.resolve(undefined);
    }
    this.pending.clear();
    void this.forwarder?.then((s) => s.close(), () => undefined);
  }
}

export class Resolver implements DnsServer {
  private readonly attachments = new Map<string, Attachment>();
  private readonly attaching = new Map<string, Promise<void>>();
  /** detached while their attach was under way: its socket is closed as soon as it exists */
  private readonly cancelled = new Set<string>();
  /** round robin: how many times each name was answered */
  private readonly turns = new Map<string, number>();

  constructor(
    /** makes the sockets inside sandboxes */
    private readonly kernel: Kernel,
    private readonly names: NameSource,
    /** the daemon's upstreams, for containers without --dns */
    private readonly upstreams: () => Upstream[],
    private readonly log: (m: string) => void = () => {},
  ) {}

  private async socket(netns: string, address: string, port: number): Promise<dgram.Socket> {
    const fd = await this.kernel.at(netns).udpSocket(address, port);
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ fd }, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    return sock;
  }

  async attach(id: string, netns: string, upstreams: Upstream[]): Promise<void> {
    if (this.attachments.has(id)) return;
    // Two attaches at once (a restore and a connect) share one: a second socket could not bind.
    let p = this.attaching.get(id);
    if (!p) {
      p = this.open(id, netns, upstreams).finally(() => {
        this.attaching.delete(id);
        this.cancelled.delete(id);
      });
      this.attaching.set(id, p);
    }
    await p;
  }

  private async open(id: string, netns: string, upstreams: Upstream[]): Promise<void> {
    const listener = await this.socket(netns, EMBEDDED_DNS, 53);
    if (this.cancelled.delete(id)) {
      // The sandbox is going: a socket left open would keep its namespace alive.
      listener.close();
      return;
    }
    const a = new Attachment(id, netns, listener, upstreams, (addr, port) => this.socket(netns, addr, port));
    this.attachments.set(id, a);
    listener.on('error', (e) => this.log(`dns of ${id.slice(0, 12)}: ${e.message}`));
    listener.on('message', (msg, rinfo) => {
      void this.answer(id, msg).then((reply) => {
        if (reply && !a.closed) listener.send(reply, rinfo.port, rinfo.address);
      });
    });
  }

  detach(id: string): void {
    if (this.attaching.has(id)) this.cancelled.add(id);
    this.attachments.get(id)?.close();
    this.attachments.delete(id);
  }

  attached(id: string): boolean {
    return this.attachments.has(id);
  }

  closeAll(): void {
    for (const id of [...this.attachments.keys()]) this.detach(id);
  }

  /** The reply to one query from container `asker` (exported for tests). */
  async answer(asker: string, msg: Buffer): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    if (q.type === TYPE_PTR) {
      const ip = reverseName(q.name);
      const name = ip ? this.names.reverse(asker, ip) : undefined;
      if (name) return buildAnswer(q, [{ type: TYPE_PTR, data: name }]);
    } else {
      const ips = this.names.lookup(asker, q.name);
      if (ips.length) {
        // A name of ours: A records, and an empty answer (not NXDOMAIN) for other types such as AAAA.
        const answers: Answer[] = q.type === TYPE_A ? this.inTurn(q.name, ips).map((ip) => ({ type: TYPE_A, data: ip })) : [];
        return buildAnswer(q, answers);
      }
    }
    return this.forward(asker, q, msg);
  }

  /** Several addresses for one name (a scaled service) start with a different one each time. */
  private inTurn(name: string, ips: string[]): string[] {
    if (ips.length < 2) return ips;
    const n = this.turns.get(name) ?? 0;
    this.turns.set(name, n + 1);
    if (this.turns.size > 10_000) this.turns.clear();
    const k = n % ips.length;
    return [...ips.slice(k), ...ips.slice(0, k)];
  }

  private async forward(asker: string, q: Question, msg: Buffer): Promise<Buffer> {
    const a = this.attachments.get(asker);
    const ups = a?.upstreams.length ? a.upstreams : this.upstreams();
    for (const up of a ? ups : []) {
      const reply = await a!.exchange(up, msg);
      if (reply && reply.length >= 12 && reply.readUInt16BE(0) === q.id) return reply;
    }
    return buildAnswer(q, [], RCODE_SERVFAIL);
  }
}

/** Name servers from a resolv.conf text. */
export function upstreamsFrom(resolvConf: string): Upstream[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ host: m[1], port: 53 }));
}

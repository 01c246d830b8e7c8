/**
 * The embedded DNS resolver, as Docker's: it answers at 127.0.0.11:53 inside each sandbox that is
 * on a network with embedded DNS (user-defined networks), and a container's resolv.conf names
 * 127.0.0.11. The daemon holds a UDP and a TCP socket per sandbox, made inside the sandbox's
 * namespace (Kernel.udpSocket, Kernel.tcpSocket) and served by its own event loop
 * (dns/_attachment.ts): no process per container, nothing bound in the host's namespace (so
 * `-p 53:53/udp` is free, and published ports never see a query), and it works where a container
 * cannot reach the host at all (macvlan, ipvlan).
 *
 * A query is answered from the names the asking container may see (its networks: container
 * names, network aliases, short ids, link aliases; A with their IPv4 addresses, AAAA with their
 * IPv6 ones, PTR for both), several addresses in turn (round robin). An answer too large for UDP
 * (512 bytes, or the query's EDNS0 size) is truncated with the TC bit, and the client asks again
 * over TCP, where it comes whole. Anything else is forwarded to the container's --dns servers, or
 * the daemon's upstreams (IPv4 or IPv6), from inside the sandbox (so a container that has no way
 * out, on an internal network, cannot reach them either, as in Docker), over the transport the
 * client used; no answer within the timeout is a SERVFAIL.
 */
import { isIP } from '../base/ip';
import { Kernel } from '../kernel/kernel';
import { Attachment, udpIn, Upstream } from './_attachment';
import { Answer, buildAnswer, parseQuery, Question, RCODE_SERVFAIL, reverseName, TYPE_A, TYPE_AAAA, TYPE_PTR, udpLimit } from './message';

export type { Upstream };

/** Where containers find the resolver (Docker's address). */
export const EMBEDDED_DNS = '127.0.0.11';

export interface NameSource {
  /** addresses of `name` (both families) as container `asker` may see them */
  lookup(asker: string, name: string): string[];
  /** the name of the container that holds `ip` (IPv4 or IPv6), as `asker` may see it */
  reverse(asker: string, ip: string): string | undefined;
}

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
    const inside = this.kernel.at(netns);
    const listener = await udpIn(inside, EMBEDDED_DNS, 53);
    let tcp: number | undefined;
    try {
      tcp = await inside.tcpSocket(EMBEDDED_DNS, 53, 'listen');
    } catch (e) {
      listener.close();
      throw e;
    }
    const a = new Attachment(id, netns, listener, upstreams, inside);
    a.serveTcp(tcp, (msg) => this.answer(id, msg, 'tcp'), this.log);
    if (this.cancelled.delete(id)) {
      // The sandbox is going: a socket left open would keep its namespace alive.
      a.close();
      return;
    }
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

  /** The reply to one query from container `asker`, received over `transport` (exported for tests). */
  async answer(asker: string, msg: Buffer, transport: 'udp' | 'tcp' = 'udp'): Promise<Buffer | undefined> {
    const q = parseQuery(msg);
    if (!q) return undefined;
    const max = transport === 'udp' ? udpLimit(q) : 65535;
    if (q.type === TYPE_PTR) {
      const ip = reverseName(q.name);
      const name = ip ? this.names.reverse(asker, ip) : undefined;
      if (name) return buildAnswer(q, [{ type: TYPE_PTR, data: name }], 0, 600, max);
    } else {
      const ips = this.names.lookup(asker, q.name);
      if (ips.length) {
        // A name of ours: A or AAAA records of its addresses of that family, and an empty answer
        // (not NXDOMAIN) for a family it has no address of or another type.
        const family = q.type === TYPE_A ? ips.filter((ip) => !ip.includes(':')) : q.type === TYPE_AAAA ? ips.filter((ip) => ip.includes(':')) : [];
        const answers: Answer[] = this.inTurn(`${q.type} ${q.name}`, family).map((ip) => ({ type: q.type as typeof TYPE_A | typeof TYPE_AAAA, data: ip }));
        return buildAnswer(q, answers, 0, 600, max);
      }
    }
    return this.forward(asker, q, msg, transport);
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

  /** Upstream answers are relayed as they come (a truncated one too: the client then asks over TCP, and so do we). */
  private async forward(asker: string, q: Question, msg: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
    const a = this.attachments.get(asker);
    const ups = a?.upstreams.length ? a.upstreams : this.upstreams();
    for (const up of a ? ups : []) {
      const reply = transport === 'tcp' ? await a!.exchangeTcp(up, msg) : await a!.exchange(up, msg);
      if (reply && reply.length >= 12 && reply.readUInt16BE(0) === q.id) return reply;
    }
    return buildAnswer(q, [], RCODE_SERVFAIL);
  }
}

/** Name servers from a resolv.conf text (IPv4 and IPv6; an IPv6 one with a zone, fe80::1%eth0, cannot be reached from a sandbox and is left out). */
export function upstreamsFrom(resolvConf: string): Upstream[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+([0-9a-fA-F.:]+)\s*$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null && isIP(m[1]))
    .map((m) => ({ host: m[1], port: 53 }));
}

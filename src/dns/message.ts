/**
 * The few DNS wire-format pieces the embedded resolver needs (RFC 1035): reading a query's first
 * question (and its EDNS0 UDP payload size, RFC 6891), and writing an answer with A, AAAA or PTR
 * records, or an empty answer with an rcode. An answer larger than what the transport carries (512
 * bytes over UDP, or the query's EDNS0 size) keeps the records that fit and sets the truncation
 * bit, so that the client asks again over TCP (RFC 7766); over TCP messages are prefixed with
 * their length.
 */
import { fromReverseName6, ip6Bytes } from '../ipam/ipam6';

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
export const TYPE_OPT = 41;
/** the most a UDP answer carries without EDNS0 (RFC 1035 4.2.1) */
export const UDP_MAX = 512;
/** the most a UDP answer carries with EDNS0, whatever the client offers */
export const EDNS_MAX = 4096;
export const RCODE_SERVFAIL = 2;
export const RCODE_NXDOMAIN = 3;

export interface Question {
  id: number;
  /** recursion desired, copied into the answer */
  rd: boolean;
  /** lower case, without the trailing dot */
  name: string;
  type: number;
  qclass: number;
  /** the question section as received, echoed in answers */
  raw: Buffer;
  /** the EDNS0 UDP payload size the client offered (an OPT record), if it did */
  edns?: number;
}

/** Reads the header and the first question; undefined when it is not a well-formed query. */
export function parseQuery(msg: Buffer): Question | undefined {
  if (msg.length < 12) return undefined;
  const flags = msg.readUInt16BE(2);
  if (flags & 0x8000 || msg.readUInt16BE(4) < 1) return undefined; // a response, or no question
  const labels: string[] = [];
  let off = 12;
  for (;;) {
    if (off >= msg.length) return undefined;
    const len = msg[off];
    if (len === 0) {
      off++;
      break;
    }
    if (len & 0xc0 || off + 1 + len > msg.length) return undefined; // no compression in questions
    labels.push(msg.subarray(off + 1, off + 1 + len).toString('latin1'));
    off += 1 + len;
  }
  if (off + 4 > msg.length) return undefined;
  const q: Question = {
    id: msg.readUInt16BE(0),
    rd: (flags & 0x0100) !== 0,
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(off),
    qclass: msg.readUInt16BE(off + 2),
    raw: msg.subarray(12, off + 4),
  };
  // A lone question followed by one additional record with the root name and type OPT: EDNS0.
  const at = off + 4;
  if (msg.readUInt16BE(4) === 1 && msg.readUInt16BE(6) === 0 && msg.readUInt16BE(8) === 0 && msg.readUInt16BE(10) >= 1 && msg.length >= at + 11 && msg[at] === 0 && msg.readUInt16BE(at + 1) === TYPE_OPT) {
    q.edns = Math.max(UDP_MAX, msg.readUInt16BE(at + 3));
  }
  return q;
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

export interface Answer {
  type: typeof TYPE_A | typeof TYPE_AAAA | typeof TYPE_PTR;
  /** an IPv4 address for A, an IPv6 one for AAAA, a name for PTR */
  data: string;
}

/** An EDNS0 OPT record: root name, our UDP payload size, no extended rcode or options. */
const OPT_RECORD = Buffer.from([0, 0, TYPE_OPT, EDNS_MAX >> 8, EDNS_MAX & 255, 0, 0, 0, 0, 0, 0]);

/**
 * An authoritative answer to `q` (rcode 0 with `answers`, or the given error rcode). `max`: the
 * most the transport carries (UDP: 512, or the query's EDNS0 size; TCP: 65535): records that do
 * not fit are left out and the truncation bit (TC) tells the client to ask over TCP.
 */
export function buildAnswer(q: Question, answers: Answer[], rcode = 0, ttl = 600, max = 65535): Buffer {
  const header = Buffer.alloc(12);
  const opt = q.edns ? OPT_RECORD : Buffer.alloc(0);
  const all = rcode === 0
    ? answers.map((a) => {
        const rdata = a.type === TYPE_A ? Buffer.from(a.data.split('.').map(Number)) : a.type === TYPE_AAAA ? ip6Bytes(a.data) : encodeName(a.data);
        const fixed = Buffer.alloc(10);
        fixed.writeUInt16BE(a.type, 0);
        fixed.writeUInt16BE(1, 2); // IN
        fixed.writeUInt32BE(ttl, 4);
        fixed.writeUInt16BE(rdata.length, 8);
        return Buffer.concat([Buffer.from([0xc0, 0x0c]), fixed, rdata]); // name: pointer to the question
      })
    : [];
  // Whole records only, as many as fit (RFC 2181 9: a truncated answer holds complete records).
  let size = 12 + q.raw.length + opt.length;
  const records: Buffer[] = [];
  for (const r of all) {
    if (size + r.length > max) break;
    records.push(r);
    size += r.length;
  }
  const tc = records.length < all.length ? 0x0200 : 0;
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8000 | 0x0400 | tc | (q.rd ? 0x0100 : 0) | 0x0080 | (rcode & 0xf), 2); // QR AA TC RD RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(records.length, 6);
  header.writeUInt16BE(opt.length ? 1 : 0, 10);
  return Buffer.concat([header, q.raw, ...records, opt]);
}

/** The most an answer to `q` may hold over UDP: 512 bytes, or what its EDNS0 record offers (at most 4096). */
export const udpLimit = (q: Question): number => (q.edns ? Math.min(q.edns, EDNS_MAX) : UDP_MAX);

/** Whether a message has the truncation bit set. */
export const truncated = (msg: Buffer): boolean => msg.length >= 4 && (msg.readUInt16BE(2) & 0x0200) !== 0;

/** "2.0.18.172.in-addr.arpa" → "172.18.0.2"; a 32-nibble ip6.arpa name → its IPv6 address. */
export function reverseName(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  if (m) return `${m[4]}.${m[3]}.${m[2]}.${m[1]}`;
  return name.endsWith('.ip6.arpa') ? fromReverseName6(name) : undefined;
}

/**
 * Splits a TCP stream into DNS messages (each after its 2-byte length, RFC 1035 4.2.2). Returns
 * the complete messages and what is left for the next read.
 */
export function readFramed(buf: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let off = 0;
  while (buf.length - off >= 2) {
    const len = buf.readUInt16BE(off);
    if (buf.length - off - 2 < len) break;
    messages.push(buf.subarray(off + 2, off + 2 + len));
    off += 2 + len;
  }
  return { messages, rest: buf.subarray(off) };
}

/** A message with its 2-byte length in front, for TCP. */
export function framed(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

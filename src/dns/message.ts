/**
 * The few DNS wire-format pieces the embedded resolver needs (RFC 1035): reading a query's first
 * question and writing an answer with A or PTR records, or an empty answer with an rcode.
 */

export const TYPE_A = 1;
export const TYPE_PTR = 12;
export const TYPE_AAAA = 28;
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
  return {
    id: msg.readUInt16BE(0),
    rd: (flags & 0x0100) !== 0,
    name: labels.join('.').toLowerCase(),
    type: msg.readUInt16BE(off),
    qclass: msg.readUInt16BE(off + 2),
    raw: msg.subarray(12, off + 4),
  };
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter(Boolean).map((l) => {
    const b = Buffer.from(l, 'latin1');
    return Buffer.concat([Buffer.from([b.length]), b]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

export interface Answer {
  type: typeof TYPE_A | typeof TYPE_PTR;
  /** an IPv4 address for A, a name for PTR */
  data: string;
}

/** An authoritative answer to `q` (rcode 0 with `answers`, or the given error rcode). */
export function buildAnswer(q: Question, answers: Answer[], rcode = 0, ttl = 600): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(q.id, 0);
  header.writeUInt16BE(0x8000 | 0x0400 | (q.rd ? 0x0100 : 0) | 0x0080 | (rcode & 0xf), 2); // QR AA RD RA
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(rcode === 0 ? answers.length : 0, 6);
  const records = rcode === 0
    ? answers.map((a) => {
        const rdata = a.type === TYPE_A ? Buffer.from(a.data.split('.').map(Number)) : encodeName(a.data);
        const fixed = Buffer.alloc(10);
        fixed.writeUInt16BE(a.type, 0);
        fixed.writeUInt16BE(1, 2); // IN
        fixed.writeUInt32BE(ttl, 4);
        fixed.writeUInt16BE(rdata.length, 8);
        return Buffer.concat([Buffer.from([0xc0, 0x0c]), fixed, rdata]); // name: pointer to the question
      })
    : [];
  return Buffer.concat([header, q.raw, ...records]);
}

/** "2.0.18.172.in-addr.arpa" → "172.18.0.2" */
export function reverseName(name: string): string | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.in-addr\.arpa$/.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}

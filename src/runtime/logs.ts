/**
 * Container logs as the shim writes them: records of [stream u8][0 0 0][len u32 BE][time u64 BE ns]
 * then the payload. Served line by line, as Docker's json-file driver keeps them.
 */
import { readFile } from 'node:fs/promises';

export interface LogLine {
  stream: number;
  /** nanoseconds since the epoch */
  time: bigint;
  data: Buffer;
}

export function parseLog(buf: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  const partial = new Map<number, { time: bigint; parts: Buffer[] }>();
  let off = 0;
  while (off + 16 <= buf.length) {
    const stream = buf[off];
    const len = buf.readUInt32BE(off + 4);
    const time = buf.readBigUInt64BE(off + 8);
    if (off + 16 + len > buf.length) break;
    let data = buf.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    for (;;) {
      const nl = data.indexOf(10);
      const acc = partial.get(stream) ?? { time, parts: [] };
      if (nl < 0) {
        // Only a line's start waits for its end: an empty rest must not lend its record's time to the next line.
        if (data.length) {
          acc.parts.push(data);
          partial.set(stream, acc);
        }
        break;
      }
      acc.parts.push(data.subarray(0, nl + 1));
      lines.push({ stream, time: acc.time, data: Buffer.concat(acc.parts) });
      partial.delete(stream);
      data = data.subarray(nl + 1);
    }
  }
  for (const [stream, acc] of partial) if (acc.parts.length) lines.push({ stream, time: acc.time, data: Buffer.concat(acc.parts) });
  return lines;
}

/** The log's lines; `upTo`: of its first bytes only (what came before a follow stream's start). */
export async function readLog(file: string, upTo?: number): Promise<LogLine[]> {
  const buf = await readFile(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  });
  return parseLog(upTo === undefined ? buf : buf.subarray(0, upTo));
}

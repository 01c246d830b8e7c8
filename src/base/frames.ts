/**
 * Docker's stream framing: [stream u8][0 0 0][len u32 BE][payload]. Used between the shim and the
 * daemon, the daemon and its clients (attach, exec and logs without a TTY), and by the CLI.
 */

export const STREAM_STDIN = 0;
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;
/** Docker's "systemerr": an error from the daemon inside a hijacked stream */
export const STREAM_SYSTEMERR = 3;
/** ctrnet-shim only: the process exited, payload = exit code in decimal */
export const STREAM_EXIT = 9;

/** Splits a byte stream into frames. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);
  constructor(private readonly onFrame: (stream: number, payload: Buffer) => void) {}
  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) return;
      const stream = this.buf[0];
      const payload = this.buf.subarray(8, 8 + len);
      this.buf = this.buf.subarray(8 + len);
      this.onFrame(stream, payload);
    }
  }
}

export function frame(stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

/**
 * ctrnet-shim under a client that stops reading: a container writes ~7 MB while one attach
 * client (connected to the shim's socket, as the daemon connects) reads nothing. The container
 * must finish its writes, `ctrnet logs` must stay complete and current, another client must
 * receive everything, and the stalled client must be dropped (its connection closed, with a
 * prefix of the output) while the container still runs.
 * The stalled client talks to the shim directly: the daemon itself reads its shim connections
 * without back-pressure, so no HTTP client can stall a shim through it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { LabHost } from '../../scripts/lab';
import { connectShim } from '../../src/runtime/shim';
import { FrameReader, STREAM_STDOUT } from '../../src/base/frames';
import { assertNoLeftovers, until } from './_util';

let a: LabHost;

before(async () => {
  a = await LabHost.create('shim');
  await a.startDaemon();
});

after(async () => {
  await a?.destroy();
  assertNoLeftovers([a].filter(Boolean));
});

/** Everything a shim client receives on stdout, and whether its connection ended. */
function collect(sock: net.Socket): { text: () => string; ended: Promise<void> } {
  const parts: Buffer[] = [];
  const reader = new FrameReader((stream, payload) => {
    if (stream === STREAM_STDOUT) parts.push(Buffer.from(payload));
  });
  sock.on('data', (d: Buffer) => reader.push(d));
  sock.on('error', () => {}); // a dropped client may see a reset: 'close' follows
  const ended = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  return { text: () => Buffer.concat(parts).toString(), ended };
}

describe('ctrnet-shim', () => {
  it('a client that stops reading is dropped; the container, the log and the other clients go on', async () => {
    // 70 000 numbered lines of 100 bytes: more than the shim queues for a client (4 MiB) plus
    // what the sockets hold, in few enough lines for `logs` to stay quick.
    const lines = 70_000;
    const pad = 'x'.repeat(93);
    const expected = Array.from({ length: lines }, (_, i) => `${String(i + 1).padStart(6, '0')} ${pad}\n`).join('') + 'finished\n';
    const script = `while [ ! -e /tmp/go ]; do sleep 0.05; done; awk 'BEGIN { for (i = 1; i <= ${lines}; i++) printf "%06d %s\\n", i, "${pad}" }'; echo finished; sleep 600`;
    await a.ctl(['run', '-d', '--name', 'spew', 'busybox', 'sh', '-c', script]);
    const id = (await a.ctl(['inspect', '-f', '{{.Id}}', 'spew'])).trim();
    const dir = `${a.execRoot}/s/${id.slice(0, 12)}`;
    const stalled = await connectShim(dir, 'A');
    stalled.pause(); // reads nothing from now on: the kernel's socket buffers fill, then the shim's queue
    const reading = collect(await connectShim(dir, 'O'));
    try {
      await a.ctl(['exec', 'spew', 'touch', '/tmp/go']);
      // The container is not held up by the stalled client: it gets to the end of its writes.
      await until(async () => (await a.ctl(['logs', '--tail', '1', 'spew'])) === 'finished\n', 60_000, 'the container to finish writing');
      const logs = await a.cli(['logs', 'spew']);
      assert.equal(logs.stdout.length, expected.length);
      assert.ok(logs.stdout === expected, 'the log holds every line, in order');
      await until(async () => reading.text().length >= expected.length, 20_000, 'the reading client to receive everything');
      assert.ok(reading.text() === expected, 'the reading client received every line, in order');
      // The stalled client was dropped: reading now, it gets what its socket held and then the end.
      const slow = collect(stalled);
      stalled.resume();
      await Promise.race([slow.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the stalled client was not dropped')), 10_000))]);
      const got = slow.text();
      assert.ok(got.length > 0 && got.length < expected.length / 2, `the stalled client got ${got.length} of ${expected.length} bytes`);
      assert.ok(expected.startsWith(got), 'what it got is the start of the output');
      assert.equal((await a.ctl(['inspect', '-f', '{{.State.Running}}', 'spew'])).trim(), 'true');
    } finally {
      stalled.destroy();
      await a.cli(['rm', '-f', 'spew']);
    }
  });
});

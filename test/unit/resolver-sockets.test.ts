/**
 * The resolver's sockets without root: a kernel whose udpSocket makes real sockets of this
 * process's namespace on 127.0.0.1 (any port) stands for the sandboxes. Queries are answered,
 * unknown names forwarded to an upstream with their ids kept, a SERVFAIL comes at once when the
 * upstream cannot be reached, and a detach during an attach leaves no socket open.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { buildAnswer, parseQuery, RCODE_SERVFAIL, TYPE_A } from '../../src/dns/message';
import { Resolver } from '../../src/dns/resolver';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { Kernel } from '../../src/kernel/kernel';
import { udpSocket } from '../../src/kernel/netns-socket';

/** Binds on 127.0.0.1 (any port) whatever it is asked, and remembers the sockets it made. */
function loopbackKernel(): { kernel: Kernel; opened: number[] } {
  const opened: number[] = [];
  const k = new FakeKernel();
  const kernel = {
    ...k,
    at: () => kernel,
    udpSocket: async () => {
      const fd = await udpSocket(undefined, '127.0.0.1', 0);
      opened.push(fd);
      return fd;
    },
  } as unknown as Kernel;
  return { kernel, opened };
}

function query(name: string, id: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  return Buffer.concat([Buffer.from([id >> 8, id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, TYPE_A, 0, 1])]);
}

/** Sends one query to 127.0.0.1:port and waits for the reply. */
function ask(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => reject(new Error('no reply')), 5000);
    s.once('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m);
    });
    s.send(msg, port, '127.0.0.1');
  });
}

/** The port the resolver's listening socket of `id` was bound to (found through its sockets). */
const portOf = (r: Resolver, id: string): number => (r as unknown as { attachments: Map<string, { listener: dgram.Socket }> }).attachments.get(id)!.listener.address().port;

describe('Resolver sockets', () => {
  it('answers its names, forwards the rest to the upstream with the id kept, and SERVFAILs at once without one', async () => {
    const up = dgram.createSocket('udp4');
    up.on('message', (m, r) => {
      const q = parseQuery(m)!;
      up.send(buildAnswer(q, [{ type: TYPE_A, data: '203.0.113.7' }]), r.port, r.address);
    });
    await new Promise<void>((res) => up.bind(0, '127.0.0.1', () => res()));
    const { kernel } = loopbackKernel();
    const r = new Resolver(kernel, { lookup: (_a, n) => (n === 'web' ? ['172.18.0.2'] : []), reverse: () => undefined }, () => [{ host: '127.0.0.1', port: up.address().port }]);
    try {
      await r.attach('c1', '/fake/ns', []);
      const port = portOf(r, 'c1');
      const own = await ask(port, query('web', 0x0101));
      assert.deepEqual([own.readUInt16BE(0), own.readUInt16BE(6), [...own.subarray(own.length - 4)].join('.')], [0x0101, 1, '172.18.0.2']);
      const fwd = await ask(port, query('outside.test', 0x4242));
      assert.equal(fwd.readUInt16BE(0), 0x4242, 'the client\'s own id comes back');
      assert.equal([...fwd.subarray(fwd.length - 4)].join('.'), '203.0.113.7');
      // A container's own --dns servers: one that does not exist.
      await r.attach('c2', '/fake/ns2', [{ host: '127.0.0.1', port: 9 }]);
      const t0 = Date.now();
      const fail = await ask(portOf(r, 'c2'), query('outside.test', 7));
      assert.equal(fail.readUInt16BE(2) & 0xf, RCODE_SERVFAIL);
      assert.ok(Date.now() - t0 < 2500, 'bounded by the forward timeout');
    } finally {
      r.closeAll();
      up.close();
    }
  });

  it('a detach while the attach is under way leaves no socket: the namespace could not go', async () => {
    const { kernel } = loopbackKernel();
    const r = new Resolver(kernel, { lookup: () => [], reverse: () => undefined }, () => []);
    const attaching = r.attach('c1', '/fake/ns', []);
    r.detach('c1');
    await attaching;
    assert.equal(r.attached('c1'), false);
    // and two attaches at once make one socket
    const { kernel: k2, opened } = loopbackKernel();
    const r2 = new Resolver(k2, { lookup: () => [], reverse: () => undefined }, () => []);
    await Promise.all([r2.attach('c1', '/fake/ns', []), r2.attach('c1', '/fake/ns', [])]);
    assert.equal(opened.length, 1);
    r2.closeAll();
  });
});

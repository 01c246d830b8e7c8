/**
 * The resolver's sockets without root: a kernel whose udpSocket makes real sockets of this
 * process's namespace on 127.0.0.1 (any port) stands for the sandboxes. Queries are answered,
 * unknown names forwarded to an upstream with their ids kept, a SERVFAIL comes at once when the
 * upstream cannot be reached, and a detach during an attach leaves no socket open.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { buildAnswer, framed, parseQuery, RCODE_SERVFAIL, readFramed, truncated, TYPE_A } from '../../src/dns/message';
import { Resolver } from '../../src/dns/resolver';
import { FakeKernel } from '../../src/kernel/fake-kernel';
import { Kernel } from '../../src/kernel/kernel';
import { tcpSocket, udpSocket } from '../../src/kernel/netns-socket';

/**
 * Binds on 127.0.0.1 (any port) whatever it is asked (a TCP listener too; connections go where
 * they are asked), and remembers the sockets it made.
 */
function loopbackKernel(): { kernel: Kernel; opened: number[] } {
  const opened: number[] = [];
  const k = new FakeKernel();
  const kernel = {
    ...k,
    at: () => kernel,
    udpSocket: async (address: string) => {
      const fd = await udpSocket(undefined, address.includes(':') ? '::1' : '127.0.0.1', 0);
      opened.push(fd);
      return fd;
    },
    tcpSocket: async (address: string, port: number, mode: 'listen' | 'connect') => {
      const fd = mode === 'listen' ? await tcpSocket(undefined, '127.0.0.1', 0, 'listen') : await tcpSocket(undefined, address, port, 'connect');
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
    assert.equal(opened.length, 2, 'one UDP and one TCP socket');
    r2.closeAll();
  });

  it('truncates an answer too large for UDP (TC), gives it whole over TCP, and forwards a truncated upstream answer over TCP', async () => {
    // 40 replicas: 40 A records of 16 bytes do not fit in 512 bytes.
    const many = Array.from({ length: 40 }, (_, i) => `172.18.1.${i + 2}`);
    // An upstream that truncates over UDP and answers whole over TCP, as a real server does.
    const big = Array.from({ length: 60 }, (_, i) => `203.0.113.${i + 1}`);
    const upUdp = dgram.createSocket('udp4');
    upUdp.on('message', (m, r) => upUdp.send(buildAnswer(parseQuery(m)!, big.map((ip) => ({ type: TYPE_A, data: ip })), 0, 60, 512), r.port, r.address));
    await new Promise<void>((res) => upUdp.bind(0, '127.0.0.1', () => res()));
    const upTcp = net.createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        const { messages, rest } = readFramed(Buffer.concat([buf, d]));
        buf = Buffer.from(rest);
        for (const m of messages) c.write(framed(buildAnswer(parseQuery(m)!, big.map((ip) => ({ type: TYPE_A, data: ip })))));
      });
    });
    await new Promise<void>((res) => upTcp.listen(upUdp.address().port, '127.0.0.1', () => res()));
    const { kernel } = loopbackKernel();
    const r = new Resolver(kernel, { lookup: (_a, n) => (n === 'svc' ? many : []), reverse: () => undefined }, () => [{ host: '127.0.0.1', port: upUdp.address().port }]);
    try {
      await r.attach('c1', '/fake/ns', []);
      const udp = await ask(portOf(r, 'c1'), query('svc', 1));
      assert.ok(truncated(udp), 'the TC bit is set');
      assert.ok(udp.length <= 512 && udp.readUInt16BE(6) > 0 && udp.readUInt16BE(6) < 40, `${udp.readUInt16BE(6)} records in ${udp.length} bytes`);
      const tcpPort = ((r as unknown as { attachments: Map<string, { tcp: net.Server }> }).attachments.get('c1')!.tcp.address() as net.AddressInfo).port;
      const whole = await askTcp(tcpPort, query('svc', 2));
      assert.equal(truncated(whole), false);
      assert.equal(whole.readUInt16BE(6), 40, 'every address over TCP');
      assert.equal((await ask(portOf(r, 'c1'), query('outside.test', 3))).readUInt16BE(2) & 0x0200, 0x0200, "the upstream's truncated answer is relayed as it is");
      const fwd = await askTcp(tcpPort, query('outside.test', 4));
      assert.deepEqual([fwd.readUInt16BE(0), fwd.readUInt16BE(6), truncated(fwd)], [4, 60, false], 'asked again over TCP, forwarded over TCP, whole');
    } finally {
      r.closeAll();
      upUdp.close();
      upTcp.close();
    }
  });
});

/** One query over TCP (length-prefixed) to 127.0.0.1:port. */
function askTcp(port: number, msg: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const t = setTimeout(() => reject(new Error('no reply over TCP')), 5000);
    let buf = Buffer.alloc(0);
    c.on('data', (d: Buffer) => {
      const { messages, rest } = readFramed(Buffer.concat([buf, d]));
      buf = Buffer.from(rest);
      if (messages.length) {
        clearTimeout(t);
        c.destroy();
        resolve(Buffer.from(messages[0]));
      }
    });
    c.on('error', reject);
    c.write(framed(msg));
  });
}

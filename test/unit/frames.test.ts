import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameReader, STREAM_STDERR, STREAM_STDOUT, frame } from '../../src/base/frames';

function collect(): { reader: FrameReader; got: [number, string][] } {
  const got: [number, string][] = [];
  return { reader: new FrameReader((s, p) => got.push([s, p.toString()])), got };
}

test('frame() writes the 8-byte Docker header', () => {
  assert.deepEqual([...frame(STREAM_STDERR, Buffer.from('hi'))], [2, 0, 0, 0, 0, 0, 0, 2, 104, 105]);
});

test('FrameReader reassembles a frame split across chunks, even inside the header', () => {
  const { reader, got } = collect();
  const bytes = frame(STREAM_STDOUT, Buffer.from('hello world'));
  for (const [a, b] of [[0, 3], [3, 9], [9, 12], [12, bytes.length]]) reader.push(bytes.subarray(a, b));
  assert.deepEqual(got, [[1, 'hello world']]);
});

test('FrameReader emits several frames from one chunk, in order, including empty payloads', () => {
  const { reader, got } = collect();
  reader.push(Buffer.concat([frame(1, Buffer.from('a')), frame(2, Buffer.alloc(0)), frame(2, Buffer.from('bc')), frame(1, Buffer.from('d')).subarray(0, 5)]));
  assert.deepEqual(got, [[1, 'a'], [2, ''], [2, 'bc']]);
  reader.push(frame(1, Buffer.from('d')).subarray(5));
  assert.deepEqual(got.at(-1), [1, 'd']);
  assert.equal(got.length, 4);
});

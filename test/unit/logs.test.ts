import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogLine, parseLog } from '../../src/runtime/logs';
import { rfc3339Nano } from '../../src/base/time';

/** One record as the shim writes it: [stream][0 0 0][len u32 BE][time u64 BE ns][payload]. */
function rec(stream: number, time: bigint, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(16);
  h[0] = stream;
  h.writeUInt32BE(payload.length, 4);
  h.writeBigUInt64BE(time, 8);
  return Buffer.concat([h, payload]);
}

const show = (lines: LogLine[]) => lines.map((l) => ({ stream: l.stream, time: l.time, text: l.data.toString() }));

test('parseLog() splits a record into one line per newline', () => {
  assert.deepEqual(show(parseLog(rec(1, 10n, 'a\nb\n'))), [
    { stream: 1, time: 10n, text: 'a\n' },
    { stream: 1, time: 10n, text: 'b\n' },
  ]);
});

test('parseLog() keeps a trailing partial line', () => {
  assert.deepEqual(show(parseLog(rec(1, 10n, 'a\nbc'))), [
    { stream: 1, time: 10n, text: 'a\n' },
    { stream: 1, time: 10n, text: 'bc' },
  ]);
});

test('parseLog() joins a line split across records, with the time of its first part', () => {
  const buf = Buffer.concat([rec(1, 10n, 'hel'), rec(1, 20n, 'lo\nx\n')]);
  assert.deepEqual(show(parseLog(buf)), [
    { stream: 1, time: 10n, text: 'hello\n' },
    { stream: 1, time: 20n, text: 'x\n' },
  ]);
});

test('parseLog() gives each record\'s lines that record\'s time (a finished line lends its time to no later one)', () => {
  const buf = Buffer.concat([rec(1, 10n, 'early\n'), rec(1, 2_000_000_010n, 'late\n')]);
  assert.deepEqual(show(parseLog(buf)), [
    { stream: 1, time: 10n, text: 'early\n' },
    { stream: 1, time: 2_000_000_010n, text: 'late\n' },
  ]);
});

test('parseLog() keeps stdout and stderr partial lines apart', () => {
  const buf = Buffer.concat([rec(1, 10n, 'out-'), rec(2, 20n, 'err-'), rec(2, 30n, 'b\n'), rec(1, 40n, 'a\n')]);
  const lines = show(parseLog(buf));
  assert.deepEqual(lines.filter((l) => l.stream === 1), [{ stream: 1, time: 10n, text: 'out-a\n' }]);
  assert.deepEqual(lines.filter((l) => l.stream === 2), [{ stream: 2, time: 20n, text: 'err-b\n' }]);
  assert.equal(lines.length, 2);
});

test('parseLog() ignores a truncated record at the end of the file', () => {
  const whole = rec(1, 10n, 'a\n');
  const cut = rec(1, 20n, 'bbbb\n').subarray(0, 18);
  assert.deepEqual(show(parseLog(Buffer.concat([whole, cut]))), [{ stream: 1, time: 10n, text: 'a\n' }]);
  assert.deepEqual(parseLog(Buffer.alloc(0)), []);
});

test('rfc3339Nano() prints nine fraction digits in UTC', () => {
  assert.equal(rfc3339Nano(1_700_000_000_123_456_789n), '2023-11-14T22:13:20.123456789Z');
  assert.equal(rfc3339Nano(1_700_000_000_000_000_007n), '2023-11-14T22:13:20.000000007Z');
  assert.equal(rfc3339Nano(0n), '1970-01-01T00:00:00.000000000Z');
});

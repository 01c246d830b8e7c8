import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_CODES, EngineError, ErrorCode } from '../../src/base/errors';
import { httpError } from '../../src/api/http-errors';

// Compiled tests run from dist/test/unit/; the doc stays in the source tree.
const DOC = path.resolve(__dirname, '../../../docs/errors.md');

/** Rows of the table: | `CODE` | kind | status | text | */
function docRows(): Map<string, { kind: string; status: number }> {
  const rows = new Map<string, { kind: string; status: number }>();
  for (const line of fs.readFileSync(DOC, 'utf8').split('\n')) {
    const m = /^\|\s*`([A-Z_]+)`\s*\|\s*(\w+)\s*\|\s*(\d{3})\s*\|\s*\S/.exec(line);
    if (!m) continue;
    assert.ok(!rows.has(m[1]), `${m[1]} is listed twice in docs/errors.md`);
    rows.set(m[1], { kind: m[2], status: Number(m[3]) });
  }
  return rows;
}

test('docs/errors.md lists every code of ERROR_CODES', () => {
  const rows = docRows();
  const missing = Object.keys(ERROR_CODES).filter((c) => !rows.has(c));
  assert.deepEqual(missing, []);
});

test('every code in docs/errors.md exists in ERROR_CODES', () => {
  const unknown = [...docRows().keys()].filter((c) => !(c in ERROR_CODES));
  assert.deepEqual(unknown, []);
});

test("docs/errors.md states each code's kind and the HTTP status httpError() returns", () => {
  for (const [code, row] of docRows()) {
    if (!(code in ERROR_CODES)) continue;
    assert.equal(row.kind, ERROR_CODES[code as ErrorCode], code);
    assert.equal(row.status, httpError(new EngineError(code as ErrorCode, 'x')).status, code);
  }
});

test('httpError() answers with Docker\'s {"message"} body including the hint', () => {
  assert.deepEqual(httpError(new EngineError('NETWORK_NOT_FOUND', 'network x not found', { hint: 'list them' })), {
    status: 404,
    body: { message: 'network x not found (list them)' },
  });
  assert.equal(httpError(new AggregateError([new Error('a'), new EngineError('PORT_IN_USE', 'b')])).status, 409);
  assert.equal(httpError(new Error('boom')).status, 500);
});

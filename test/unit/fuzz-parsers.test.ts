/** Generated input for the parsers users type into: only our own errors, never a crash. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseArgs, UsageError } from '../../src/cli/args';
import { parsePortSpec } from '../../src/base/port-spec';
import { createRequest } from '../../src/api/dto/container';
import { networkCreateRequest } from '../../src/api/dto/network';
import { EngineError } from '../../src/base/errors';

const DEFS = { detach: { kind: 'bool', short: 'd' }, name: { kind: 'string' }, publish: { kind: 'list', short: 'p' }, env: { kind: 'list', short: 'e' } } as const;
const ours = (e: unknown) => e instanceof UsageError || e instanceof EngineError;

test('parseArgs() on 5,000 generated argument lists: a result or a UsageError', () => {
  const arg = fc.oneof(fc.string(), fc.constantFrom('-d', '-p', '--name', '--name=', '-e', '--', '-', '-dp', '--constructor', '--publish=80'));
  fc.assert(
    fc.property(fc.array(arg, { maxLength: 8 }), fc.boolean(), (argv, inter) => {
      try {
        const r = parseArgs(argv, DEFS, inter);
        assert.ok(Array.isArray(r.args));
      } catch (e) {
        assert.ok(ours(e), String(e));
      }
    }),
    { numRuns: 5000, seed: 1 },
  );
});

test('parsePortSpec(), createRequest() and networkCreateRequest() on 5,000 generated inputs each: EngineError only', () => {
  const check = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(ours(e), String(e));
    }
  };
  fc.assert(fc.property(fc.oneof(fc.string(), fc.stringMatching(/^[\d.:/a-z-]{0,25}$/)), (s) => check(() => parsePortSpec(s))), { numRuns: 5000, seed: 2 });
  fc.assert(fc.property(fc.dictionary(fc.constantFrom('Image', 'Cmd', 'HostConfig', 'Env', 'Labels', 'NetworkingConfig', 'ExposedPorts', 'Tty', 'MacAddress'), fc.jsonValue()), (b) => check(() => createRequest(b))), { numRuns: 5000, seed: 3 });
  fc.assert(fc.property(fc.dictionary(fc.constantFrom('Name', 'Driver', 'IPAM', 'Options', 'Labels', 'Internal'), fc.jsonValue()), (b) => check(() => networkCreateRequest(b))), { numRuns: 5000, seed: 4 });
});

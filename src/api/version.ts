/**
 * The Engine API versions ctrnet speaks: the highest it advertises (every field and behaviour up to
 * it that ctrnet has is honoured; README.md lists them per version), the lowest it answers, and the
 * comparisons the routes and DTOs use to answer a client in its version's shapes (the request's
 * /v1.NN prefix; a request without one is answered at the highest version, as Docker does).
 */
import { API_VERSION } from '../base/api-version';
import { EngineError } from '../base/errors';

export { API_VERSION };
/** Docker 25 to 28 answer down to 1.24; older clients' shapes (before 1.24) ctrnet does not know. */
export const MIN_API_VERSION = '1.24';

function parts(v: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

/** -1, 0 or 1 as a is older than, the same as, or newer than b ("1.9" < "1.41"). */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  return x[0] !== y[0] ? Math.sign(x[0] - y[0]) : Math.sign(x[1] - y[1]);
}

/** The client asked for version `min` or newer. */
export const atLeast = (version: string, min: string): boolean => compareVersions(version, min) >= 0;

/** Docker's answer to a version outside the range (400, before any route runs). */
export function checkVersion(version: string): void {
  if (compareVersions(version, API_VERSION) > 0) {
    throw new EngineError('INVALID_PARAMETER', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
  }
  if (compareVersions(version, MIN_API_VERSION) < 0) {
    throw new EngineError('INVALID_PARAMETER', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
}

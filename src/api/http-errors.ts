/** The only place that maps an error kind to an HTTP status. Bodies are Docker's {"message": …}. */
import { EngineError, ErrorKind, describe } from '../base/errors';

const STATUS: Record<ErrorKind, number> = {
  notFound: 404,
  invalidParameter: 400,
  conflict: 409,
  forbidden: 403,
  unavailable: 503,
  notImplemented: 501,
  system: 500,
};

export function httpError(err: unknown): { status: number; body: { message: string } } {
  if (err instanceof EngineError) return { status: STATUS[err.kind], body: { message: describe(err) } };
  if (err instanceof AggregateError) {
    const inner = err.errors.find((e) => e instanceof EngineError) as EngineError | undefined;
    if (inner) return { status: STATUS[inner.kind], body: { message: describe(err) } };
  }
  return { status: 500, body: { message: describe(err) } };
}

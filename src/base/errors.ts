/**
 * Engine errors: every failure the engine reports carries a stable `code`, a `kind` that the API maps
 * to an HTTP status (api/http-errors.ts), and an optional `hint` telling the user the fix.
 * Every code is listed in docs/errors.md; a unit test keeps the two in sync.
 */

export type ErrorKind =
  | 'notFound'
  | 'invalidParameter'
  | 'conflict'
  | 'forbidden'
  | 'unavailable'
  | 'notImplemented'
  | 'system';

/** The registry: code → kind. Add a code here and in docs/errors.md together. */
export const ERROR_CODES = {
  CONTAINER_NOT_FOUND: 'notFound',
  IMAGE_NOT_FOUND: 'notFound',
  NETWORK_NOT_FOUND: 'notFound',
  NETWORK_AMBIGUOUS: 'invalidParameter',
  EXEC_NOT_FOUND: 'notFound',
  VOLUME_NOT_FOUND: 'notFound',
  PLUGIN_NOT_FOUND: 'notFound',
  PAGE_NOT_FOUND: 'notFound',
  NAME_IN_USE: 'conflict',
  CONTAINER_RUNNING: 'conflict',
  CONTAINER_NOT_RUNNING: 'conflict',
  CONTAINER_IN_USE: 'conflict',
  CONTAINER_PAUSED: 'conflict',
  CONTAINER_NOT_PAUSED: 'conflict',
  IMAGE_IN_USE: 'conflict',
  NETWORK_IN_USE: 'conflict',
  VOLUME_IN_USE: 'conflict',
  UPDATE_CONFLICT: 'conflict',
  FORBIDDEN: 'forbidden',
  ENDPOINT_EXISTS: 'forbidden',
  PORT_IN_USE: 'conflict',
  ADDRESS_EXHAUSTED: 'unavailable',
  CLUSTER_UNAVAILABLE: 'unavailable',
  SWARM_INACTIVE: 'unavailable',
  SWARM_ACTIVE: 'unavailable',
  SWARM_UNSUPPORTED: 'unavailable',
  INGRESS_EXISTS: 'conflict',
  SWARM_OBJECT_NOT_FOUND: 'notFound',
  NO_CLUSTER_STORE: 'invalidParameter',
  INVALID_PARAMETER: 'invalidParameter',
  INVALID_PORT_SPEC: 'invalidParameter',
  INVALID_NETWORK_MODE: 'invalidParameter',
  CONFLICTING_OPTIONS: 'invalidParameter',
  NOT_IMPLEMENTED: 'notImplemented',
  NOT_SUPPORTED: 'invalidParameter',
  KERNEL_UNSUPPORTED: 'notImplemented',
  IMAGE_LAYER_INVALID: 'invalidParameter',
  IMAGE_UNSUPPORTED: 'invalidParameter',
  REGISTRY_AUTH_FAILED: 'forbidden',
  REGISTRY_UNAVAILABLE: 'unavailable',
  RUNTIME_FAILED: 'system',
  KERNEL_FAILED: 'system',
  INTERNAL: 'system',
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class EngineError extends Error {
  readonly code: ErrorCode;
  readonly kind: ErrorKind;
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'EngineError';
    this.code = code;
    this.kind = ERROR_CODES[code];
    this.hint = opts.hint;
  }
}

/** Docker's answer to a network name in use (the engine, the overlay driver and both cluster stores refuse with it). */
export function networkNameInUse(name: string): EngineError {
  return new EngineError('NAME_IN_USE', `network with name ${name} already exists`, { hint: 'choose another name or remove that network' });
}

/** The user-facing text: the message, then the hint when there is one. */
export function describe(err: unknown): string {
  if (err instanceof EngineError) return err.hint ? `${err.message} (${err.hint})` : err.message;
  if (err instanceof AggregateError) return err.errors.map(describe).join('; ');
  if (err instanceof Error) {
    const cause = err.cause ? `: ${describe(err.cause)}` : '';
    return err.message + cause;
  }
  return String(err);
}

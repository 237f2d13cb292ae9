import { type ErrorCode, errorCodeInfo } from './error-codes.js';

/**
 * Options for {@link VespidError}.
 *
 * @example
 * ```ts
 * throw new VespidError('GATEWAY_UNAVAILABLE', 'gateway unreachable', { cause: err, retryable: true });
 * ```
 */
export interface VespidErrorOptions {
  /** Overrides the catalogue's retryable flag. */
  retryable?: boolean;
  /** The underlying error; kept for debugging, never serialized by `toJSON()`. */
  cause?: unknown;
  /** Extra structured, non-secret details. */
  details?: Record<string, unknown>;
  /** HTTP status to use when this error is returned by an HTTP API. */
  httpStatus?: number;
}

/**
 * Base error of every Vespid package: a stable string `code` from the catalogue, `retryable`, an
 * optional `cause`, and `toJSON()` producing the wire error body `{code, message}`.
 *
 * @example
 * ```ts
 * throw new VespidError('NO_AGENT_AVAILABLE', 'no agent of org o1 is connected');
 * ```
 */
export class VespidError extends Error {
  /** A code of the catalogue: a typo or an uncatalogued code fails to compile. */
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly httpStatus: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: VespidErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const info = errorCodeInfo(code);
    this.name = 'VespidError';
    this.code = code;
    this.retryable = options.retryable ?? info?.retryable ?? false;
    this.httpStatus = options.httpStatus ?? info?.httpStatus ?? 500;
    this.details = options.details;
  }

  /** The wire error body. The cause is deliberately left out: it may carry internals. */
  toJSON(): { code: ErrorCode; message: string; retryable: boolean; details?: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }

  /** Type guard that also works across copies of the package (checks shape, not prototype). */
  static is(value: unknown): value is VespidError {
    return (
      value instanceof VespidError ||
      (value instanceof Error &&
        typeof (value as { code?: unknown }).code === 'string' &&
        typeof (value as { retryable?: unknown }).retryable === 'boolean')
    );
  }
}

import { type ErrorCode, VespidError, type VespidErrorOptions } from '@vespid/protocol';

/**
 * The error of `@vespid/sdk-dispatch`. `code` comes from the protocol's catalogue
 * (`GATEWAY_NOT_CONFIGURED`, `GATEWAY_UNAVAILABLE`, `NO_AGENT_AVAILABLE`, `GATEWAY_RESPONSE_INVALID`,
 * `NODE_EXECUTION_TIMEOUT`, …) and `retryable` says whether trying again later can help.
 * Messages never contain the service token or a request secret.
 *
 * @example
 * ```ts
 * try {
 *   await client.dispatch(request);
 * } catch (err) {
 *   if (DispatchError.is(err) && err.retryable) scheduleRetry();
 * }
 * ```
 */
export class DispatchError extends VespidError {
  constructor(code: ErrorCode, message: string, options: VespidErrorOptions = {}) {
    super(code, message, options);
    this.name = 'DispatchError';
  }
}

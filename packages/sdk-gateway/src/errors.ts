import { type ErrorCode, VespidError, type VespidErrorOptions } from '@vespid/protocol';

/**
 * The one error class of `@vespid/sdk-gateway`. `code` is always a code of the protocol catalogue
 * (`NO_AGENT_AVAILABLE`, `GATEWAY_SHUTDOWN`, `BAD_REQUEST`, …), so HTTP status and `retryable`
 * follow from it.
 *
 * @example
 * ```ts
 * try { await gateway.dispatch(req); }
 * catch (err) { if (err instanceof GatewayError && err.code === 'NO_AGENT_AVAILABLE') retryLater(); }
 * ```
 */
export class GatewayError extends VespidError {
  constructor(code: ErrorCode, message: string, options: VespidErrorOptions = {}) {
    super(code, message, options);
    this.name = 'GatewayError';
  }
}

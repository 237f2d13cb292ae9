import { type ErrorCode, VespidError, type VespidErrorOptions } from '@vespid/protocol';

/**
 * The one error class of the api host. Codes come from the protocol catalogue; the HTTP status
 * follows the catalogue unless overridden. Messages never contain a token or secret value.
 *
 * @example
 * ```ts
 * throw new ApiError('NOT_FOUND', 'workflow not found');
 * ```
 */
export class ApiError extends VespidError {
  constructor(code: ErrorCode, message: string, options: VespidErrorOptions = {}) {
    super(code, message, options);
    this.name = 'ApiError';
  }
}

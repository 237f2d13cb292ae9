/**
 * Turns an API failure into words for the `/agents` page: what happened and what to do, with the
 * catalogue code kept in brackets for support (never the code alone).
 */
import { errorCodeInfo } from '@vespid/protocol';

/** What the page needs to describe a failed call. */
export interface ApiFailure {
  /** HTTP status; 0 when the API could not be reached at all. */
  status: number;
  /** Catalogue code from the `{code, message}` body, when there was one. */
  code?: string | undefined;
  /** The API's own message (already free of secrets). */
  message?: string | undefined;
}

// Page-specific wording for the codes a user of /agents meets; everything else falls back to the
// protocol catalogue's meaning.
const WORDS: Record<string, string> = {
  UNAUTHORIZED: 'Your access token was not accepted (wrong, revoked or expired). Sign in again with a valid token.',
  FORBIDDEN:
    'Your role in this organization does not allow this. Creating pairing tokens, editing tags and revoking need the owner or admin role.',
  NOT_FOUND: 'That agent no longer exists in this organization. The list has been refreshed.',
  RATE_LIMITED: 'Too many requests from this browser. Wait a minute and try again.',
  BAD_REQUEST: 'The API rejected the input.',
  INTERNAL_ERROR: 'The API failed unexpectedly. Try again; if it repeats, check the api logs.',
};

/**
 * One readable sentence (or two) for a failed call.
 *
 * @example
 * ```ts
 * describeApiError({ status: 403, code: 'FORBIDDEN', message: 'requires role owner or admin' });
 * // 'Your role in this organization does not allow this. … (requires role owner or admin; FORBIDDEN)'
 * ```
 */
export function describeApiError(failure: ApiFailure): string {
  if (failure.status === 0) {
    return 'The API could not be reached. Check your network connection and that the api host is running.';
  }
  const code = failure.code;
  const words = (code && (WORDS[code] ?? errorCodeInfo(code)?.meaning)) || `The API answered with HTTP ${failure.status}.`;
  const detail = [failure.message, code].filter(Boolean).join('; ');
  return detail ? `${words} (${detail})` : words;
}

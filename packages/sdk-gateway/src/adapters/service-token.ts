import { createHash, timingSafeEqual } from 'node:crypto';

// The expected token's digest is computed once per token, not per request (the compare stays constant-time).
let cachedToken: string | undefined;
let cachedDigest: Buffer | undefined;

/**
 * Whether `given` is the service token: a constant-time compare of SHA-256 digests (equal lengths
 * whatever the inputs, so neither the token nor its length leaks through timing). A gateway without a
 * service token matches nothing. Shared by the internal HTTP routes and the dispatch channel's upgrade.
 */
export function serviceTokenMatches(expected: string | undefined, given: string | null | undefined): boolean {
  if (!expected || !given) return false;
  if (cachedToken !== expected || !cachedDigest) {
    cachedToken = expected;
    cachedDigest = createHash('sha256').update(expected, 'utf8').digest();
  }
  return timingSafeEqual(createHash('sha256').update(given, 'utf8').digest(), cachedDigest);
}

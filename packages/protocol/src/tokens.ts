import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { OrganizationIdSchema } from './primitives.js';

/**
 * A parsed `<orgId>.<secret>` token.
 *
 * @example
 * ```ts
 * const parsed: ParsedToken | null = parseToken(token); // { organizationId, secret }
 * ```
 */
export interface ParsedToken {
  organizationId: string;
  secret: string;
}

const SECRET_RE = /^[A-Za-z0-9_-]{16,256}$/;

/**
 * Generates an agent (or pairing) token `<orgId>.<secret>` with 32 random bytes, base64url.
 * Show it once; store only {@link hashToken}.
 *
 * @example
 * ```ts
 * const token = generateToken('6f1c…');   // '6f1c….Q2hh…'
 * await db.insert({ tokenHash: hashToken(token) });
 * ```
 */
export function generateToken(organizationId: string): string {
  OrganizationIdSchema.parse(organizationId);
  return `${organizationId}.${randomBytes(32).toString('base64url')}`;
}

/**
 * Parses `<orgId>.<secret>`; returns null for anything malformed (never throws).
 *
 * @example
 * ```ts
 * const parsed = parseToken(bearerToken(req.headers.authorization));
 * if (!parsed) return { ok: false, reason: 'invalid' };
 * ```
 */
export function parseToken(token: unknown): ParsedToken | null {
  if (typeof token !== 'string' || token.length > 512) return null;
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const organizationId = token.slice(0, dot);
  const secret = token.slice(dot + 1);
  if (!OrganizationIdSchema.safeParse(organizationId).success || !SECRET_RE.test(secret)) return null;
  return { organizationId, secret };
}

/**
 * SHA-256 hex of a token: what is stored. Tokens carry 256 bits of entropy, so no salt is needed.
 *
 * @example
 * ```ts
 * await db.query('SELECT id FROM agents WHERE token_hash = $1', [hashToken(token)]);
 * ```
 */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Constant-time string comparison. Both sides are hashed first so that neither the content nor the
 * length of the expected value leaks through timing.
 *
 * @example
 * ```ts
 * if (!tokensEqual(bearerToken(req.headers.authorization) ?? '', serviceToken)) return reply(401);
 * ```
 */
export function tokensEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a, 'utf8').digest();
  const hb = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(ha, hb);
}

/**
 * Constant-time check that `token` hashes to `storedHash` (hex).
 *
 * @example
 * ```ts
 * if (!verifyTokenHash(token, row.token_hash)) return { ok: false, reason: 'invalid' };
 * ```
 */
export function verifyTokenHash(token: string, storedHash: string): boolean {
  const actual = Buffer.from(hashToken(token), 'hex');
  const expected = Buffer.from(storedHash, 'hex');
  return expected.length === actual.length && timingSafeEqual(actual, expected);
}

/**
 * Extracts the bearer token from an `Authorization` header value; null when absent or malformed.
 *
 * @example
 * ```ts
 * const token = bearerToken(req.headers.authorization); // 'Bearer abc' → 'abc'
 * ```
 */
export function bearerToken(header: string | string[] | undefined): string | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m?.[1] ?? null;
}

/**
 * Redacts a token for display: keeps the org prefix, hides the secret.
 *
 * @example
 * ```ts
 * logger.info({ token: redactToken(token) }, 'agent connected'); // 'acme.…'
 * ```
 */
export function redactToken(token: string): string {
  const parsed = parseToken(token);
  return parsed ? `${parsed.organizationId}.***` : '***';
}

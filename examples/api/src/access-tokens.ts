/**
 * Access tokens: generated, hashed and stored scoped to one organization. The lowest layer of the
 * account code (users.ts and invitations.ts both mint through here), so neither imports the other.
 */
import { randomBytes } from 'node:crypto';
import type { Pool, PoolClient } from '@vespid/example-db';
import { hashToken } from '@vespid/protocol';

/**
 * Access tokens: `vat_<43 base64url chars>` (256 bits). Store only `hashToken(token)`.
 *
 * @example
 * ```ts
 * const token = generateAccessToken();
 * ```
 */
export function generateAccessToken(): string {
  return `vat_${randomBytes(32).toString('base64url')}`;
}

/**
 * Mints an access token for `userId` that opens `organizationId` only; returns it (shown once, stored
 * as a hash). Every token has exactly one scope: the organization it was minted for.
 *
 * @example
 * ```ts
 * const accessToken = await insertAccessToken(client, userId, orgId, 'bootstrap');
 * ```
 */
export async function insertAccessToken(client: PoolClient, userId: string, organizationId: string, label: string): Promise<string> {
  const token = generateAccessToken();
  await client.query('INSERT INTO access_tokens (user_id, organization_id, token_hash, label) VALUES ($1, $2, $3, $4)', [
    userId,
    organizationId,
    hashToken(token),
    label,
  ]);
  return token;
}

/**
 * Runs `fn` in one transaction on one pooled client (rolled back on any throw).
 *
 * @example
 * ```ts
 * const id = await inTransaction(pool, async (client) => (await client.query('INSERT … RETURNING id')).rows[0].id);
 * ```
 */
export async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/**
 * Organizations, users, memberships and access tokens: what `bootstrap` and the members route use.
 * Access tokens are shown once and stored only as SHA-256 hashes.
 */
import { randomBytes } from 'node:crypto';
import { hashToken } from '@vespid/protocol';
import type { Pool, PoolClient } from '@vespid/example-db';
import { z } from 'zod';
import type { Role } from './auth.js';
import { parseOr } from './http.js';

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

/** Deliberately loose (`you@x.y` is fine): the address is an identifier here, nothing is mailed. */
export const EmailSchema = z
  .string()
  .trim()
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must look like name@domain');

const BootstrapInputSchema = z.strictObject({
  orgName: z.string().trim().min(1).max(200),
  email: EmailSchema,
  userName: z.string().max(200).optional(),
});

/** Result of {@link bootstrapOrganization}. `accessToken` is shown once. @example `{ orgId, userId, accessToken }` */
export interface BootstrapResult {
  orgId: string;
  userId: string;
  accessToken: string;
}

async function inTransaction<T>(pool: Pool, fn: (client: PoolClient) => Promise<T>): Promise<T> {
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

async function upsertUser(client: PoolClient, email: string, name = ''): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO users (email, name) VALUES ($1, $2)
       ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
    [email.toLowerCase(), name],
  );
  return rows[0]!.id;
}

async function insertAccessToken(client: PoolClient, userId: string, label: string): Promise<string> {
  const token = generateAccessToken();
  await client.query('INSERT INTO access_tokens (user_id, token_hash, label) VALUES ($1, $2, $3)', [userId, hashToken(token), label]);
  return token;
}

/**
 * Creates an organization, its owner (or reuses the user with that email) and an access token.
 *
 * @example
 * ```ts
 * const { orgId, userId, accessToken } = await bootstrapOrganization(pool, { orgName: 'Acme', email: 'you@acme.test' });
 * ```
 */
export async function bootstrapOrganization(
  pool: Pool,
  input: { orgName: string; email: string; userName?: string },
): Promise<BootstrapResult> {
  const { orgName, email, userName } = parseOr(BootstrapInputSchema, input, 'BAD_REQUEST', 'bootstrap input');
  return inTransaction(pool, async (client) => {
    const orgId = (await client.query<{ id: string }>('INSERT INTO organizations (name) VALUES ($1) RETURNING id', [orgName])).rows[0]!.id;
    const userId = await upsertUser(client, email, userName);
    await client.query("INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, 'owner')", [orgId, userId]);
    const accessToken = await insertAccessToken(client, userId, 'bootstrap');
    return { orgId, userId, accessToken };
  });
}

/**
 * Adds (or re-roles) a member of an organization and issues them an access token (shown once).
 *
 * @example
 * ```ts
 * const { userId, accessToken } = await addMember(pool, { organizationId, email: 'dev@acme.test', role: 'member' });
 * ```
 */
export async function addMember(
  pool: Pool,
  input: { organizationId: string; email: string; role: Role },
): Promise<{ userId: string; role: Role; accessToken: string }> {
  return inTransaction(pool, async (client) => {
    const userId = await upsertUser(client, input.email);
    await client.query(
      `INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3)
         ON CONFLICT (organization_id, user_id) DO UPDATE SET role = EXCLUDED.role`,
      [input.organizationId, userId, input.role],
    );
    const accessToken = await insertAccessToken(client, userId, `member:${input.organizationId}`);
    return { userId, role: input.role, accessToken };
  });
}

export { inTransaction };

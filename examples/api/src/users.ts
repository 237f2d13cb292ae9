/**
 * Organizations, users, memberships and access tokens: what `bootstrap` and the members route use.
 * Access tokens are shown once, stored only as SHA-256 hashes, and each is scoped to the one
 * organization it was minted for.
 */
import type { Pool, PoolClient } from '@vespid/example-db';
import { z } from 'zod';
import { inTransaction, insertAccessToken } from './access-tokens.js';
import { parseOr } from './http.js';
import { acceptInvitation, inviteMember } from './invitations.js';
import type { Role } from './roles.js';

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

async function upsertUser(client: PoolClient, email: string, name = ''): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO users (email, name) VALUES ($1, $2)
       ON CONFLICT (email) DO UPDATE SET email = EXCLUDED.email RETURNING id`,
    [email.toLowerCase(), name],
  );
  return rows[0]!.id;
}

/**
 * Creates an organization, its owner (or reuses the user with that email) and an access token scoped
 * to the new organization. An operator action (it needs the database), not an API route.
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
    const accessToken = await insertAccessToken(client, userId, orgId, 'bootstrap');
    return { orgId, userId, accessToken };
  });
}

/**
 * Adds a brand-new account as a member and returns its access token, scoped to that organization
 * (shown once): an invitation created and redeemed in one go, for operator scripts and tests. It never
 * yields a credential for an account that already exists — that one must accept an invitation with
 * its own token (`UNAUTHORIZED` here) — and it never changes an existing member's role (`CONFLICT`).
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
  const { invitationId, invitationToken } = await inviteMember(pool, input);
  try {
    const { userId, role, accessToken } = await acceptInvitation(pool, { invitationToken });
    return { userId, role, accessToken };
  } catch (err) {
    // Nobody holds this invitation's token: leave no open invitation behind.
    await pool.query('DELETE FROM invitations WHERE id = $1 AND accepted_at IS NULL', [invitationId]);
    throw err;
  }
}

export { inTransaction, generateAccessToken } from './access-tokens.js';

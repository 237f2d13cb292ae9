/**
 * Invitations: how an account joins an organization. A manager invites an email address with a role
 * and receives an invitation token (shown once) to hand to the invitee; nothing is granted yet. The
 * invitee redeems it:
 * - no account has that address yet → the account is created with the membership and an access token
 *   scoped to that organization;
 * - an account has it → the request must carry an access token of that very account (any scope: it
 *   proves who is accepting); the answer is a new token scoped to the inviting organization.
 * So adding a member never hands the inviter a credential for an existing account, and an existing
 * membership's role is never overwritten (re-roling is `changeMemberRole` in roles.ts).
 */
import { randomBytes } from 'node:crypto';
import type { Pool } from '@vespid/example-db';
import { hashToken } from '@vespid/protocol';
import { inTransaction, insertAccessToken } from './access-tokens.js';
import { ApiError } from './errors.js';
import { type Role, mayGrant } from './roles.js';

/** How long an invitation can be redeemed. @default 7 days */
export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/** Invitation tokens: `vinv_<43 base64url chars>` (256 bits); only the hash is stored. @example `generateInvitationToken()` */
export function generateInvitationToken(): string {
  return `vinv_${randomBytes(32).toString('base64url')}`;
}

/** What {@link inviteMember} returns; `invitationToken` is shown once. */
export interface Invitation {
  invitationId: string;
  organizationId: string;
  email: string;
  role: Role;
  invitationToken: string;
  expiresAt: string;
}

/** What {@link acceptInvitation} returns; `accessToken` opens `organizationId` only and is shown once. */
export interface AcceptedInvitation {
  organizationId: string;
  userId: string;
  role: Role;
  accessToken: string;
}

/**
 * Creates an invitation (replacing an open one for the same address). With `invitedBy`, the inviter
 * may not grant a role above their own nor replace an invitation that does; an address that is
 * already a member is `CONFLICT` (change its role instead).
 *
 * @example
 * ```ts
 * const { invitationToken } = await inviteMember(pool, { organizationId, email: 'dev@acme.test', role: 'member', invitedBy });
 * ```
 */
export async function inviteMember(
  pool: Pool,
  input: { organizationId: string; email: string; role: Role; invitedBy?: { userId: string; role: Role } },
): Promise<Invitation> {
  const email = input.email.trim().toLowerCase();
  const by = input.invitedBy;
  if (by && !mayGrant(by.role, input.role)) throw new ApiError('FORBIDDEN', `a ${by.role} cannot invite a ${input.role}`);
  const invitationToken = generateInvitationToken();
  return inTransaction(pool, async (client) => {
    const member = await client.query(
      'SELECT 1 FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND u.email = $2',
      [input.organizationId, email],
    );
    if (member.rows[0])
      throw new ApiError('CONFLICT', 'already a member of this organization; change the role with PATCH …/members/:userId');
    const open = await client.query<{ id: string; role: Role }>(
      'SELECT id, role FROM invitations WHERE organization_id = $1 AND email = $2 AND accepted_at IS NULL FOR UPDATE',
      [input.organizationId, email],
    );
    const previous = open.rows[0];
    if (previous && by && !mayGrant(by.role, previous.role)) {
      throw new ApiError('FORBIDDEN', `an open invitation as ${previous.role} exists; a ${by.role} cannot replace it`);
    }
    if (previous) await client.query('DELETE FROM invitations WHERE id = $1', [previous.id]);
    const { rows } = await client.query<{ id: string; expires_at: Date }>(
      `INSERT INTO invitations (organization_id, email, role, token_hash, invited_by, expires_at)
       VALUES ($1, $2, $3, $4, $5, now() + make_interval(secs => $6::double precision / 1000)) RETURNING id, expires_at`,
      [input.organizationId, email, input.role, hashToken(invitationToken), by?.userId ?? null, INVITATION_TTL_MS],
    );
    return {
      invitationId: rows[0]!.id,
      organizationId: input.organizationId,
      email,
      role: input.role,
      invitationToken,
      expiresAt: rows[0]!.expires_at.toISOString(),
    };
  });
}

/**
 * Redeems an invitation (single use: of two concurrent redemptions one wins). `asUserId` is the
 * account proven by the request's access token, if it sent one; it must be the invited account.
 *
 * @example
 * ```ts
 * const { accessToken } = await acceptInvitation(pool, { invitationToken, asUserId: auth.userId });
 * ```
 */
export async function acceptInvitation(pool: Pool, input: { invitationToken: string; asUserId?: string }): Promise<AcceptedInvitation> {
  return inTransaction(pool, async (client) => {
    // FOR UPDATE: a concurrent redemption waits here and then no longer matches `accepted_at IS NULL`.
    const found = await client.query<{ id: string; organization_id: string; email: string; role: Role }>(
      `SELECT id, organization_id, email, role FROM invitations
        WHERE token_hash = $1 AND accepted_at IS NULL AND expires_at > now() FOR UPDATE`,
      [hashToken(input.invitationToken)],
    );
    const invitation = found.rows[0];
    if (!invitation) throw new ApiError('NOT_FOUND', 'invitation not found, already used or expired');
    const account = (await client.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [invitation.email])).rows[0];
    let userId: string;
    if (account) {
      if (!input.asUserId) {
        throw new ApiError('UNAUTHORIZED', 'this invitation is for an existing account: accept it with an access token of that account');
      }
      if (input.asUserId !== account.id) throw new ApiError('FORBIDDEN', 'this invitation is for another account');
      userId = account.id;
    } else {
      if (input.asUserId) throw new ApiError('FORBIDDEN', 'this invitation is for another account');
      const created = await client.query<{ id: string }>(
        'INSERT INTO users (email) VALUES ($1) ON CONFLICT (email) DO NOTHING RETURNING id',
        [invitation.email],
      );
      // Someone created the account between our read and this insert: it is theirs, not the redeemer's.
      if (!created.rows[0]) throw new ApiError('CONFLICT', 'an account with this address was just created; accept with its access token');
      userId = created.rows[0].id;
    }
    const joined = await client.query(
      'INSERT INTO memberships (organization_id, user_id, role) VALUES ($1, $2, $3) ON CONFLICT (organization_id, user_id) DO NOTHING RETURNING role',
      [invitation.organization_id, userId, invitation.role],
    );
    if (!joined.rows[0]) throw new ApiError('CONFLICT', 'already a member of this organization; the role is unchanged');
    await client.query('UPDATE invitations SET accepted_at = now(), accepted_by = $2 WHERE id = $1', [invitation.id, userId]);
    const accessToken = await insertAccessToken(client, userId, invitation.organization_id, 'invitation');
    return { organizationId: invitation.organization_id, userId, role: invitation.role, accessToken };
  });
}

/**
 * Membership roles and their ranks, and the one place a member's role changes. The rule: nobody
 * changes the role of someone at or above their own rank, and nobody grants a role above their own.
 */
import type { Pool } from '@vespid/example-db';
import { ApiError } from './errors.js';

/** Membership roles. */
export type Role = 'owner' | 'admin' | 'member';

/** Roles that may manage agents, pairing tokens, secrets and members. */
export const MANAGER_ROLES: readonly Role[] = ['owner', 'admin'];

const RANK: Record<Role, number> = { member: 1, admin: 2, owner: 3 };

/** Whether a caller with role `caller` may grant `role` (equal or lower rank). @example `mayGrant('admin', 'owner') // false` */
export function mayGrant(caller: Role, role: Role): boolean {
  return RANK[role] <= RANK[caller];
}

/** Roles strictly below `caller`: the only ones whose holders `caller` may re-role. */
export function rolesBelow(caller: Role): Role[] {
  return (Object.keys(RANK) as Role[]).filter((r) => RANK[r] < RANK[caller]);
}

/**
 * Changes the role of a member. The caller must outrank the member's current role and may not grant
 * more than their own role; the check and the update are one statement, so a concurrent change
 * cannot slip between them.
 *
 * @example
 * ```ts
 * await changeMemberRole(pool, { organizationId, userId, role: 'admin', by: { userId: ownerId, role: 'owner' } });
 * ```
 */
export async function changeMemberRole(
  pool: Pool,
  input: { organizationId: string; userId: string; role: Role; by: { userId: string; role: Role } },
): Promise<{ userId: string; role: Role }> {
  if (!mayGrant(input.by.role, input.role)) throw new ApiError('FORBIDDEN', `a ${input.by.role} cannot grant the role ${input.role}`);
  const { rows } = await pool.query<{ role: Role }>(
    'UPDATE memberships SET role = $3 WHERE organization_id = $1 AND user_id = $2 AND role = ANY($4::text[]) RETURNING role',
    [input.organizationId, input.userId, input.role, rolesBelow(input.by.role)],
  );
  if (rows[0]) return { userId: input.userId, role: rows[0].role };
  const current = await pool.query('SELECT 1 FROM memberships WHERE organization_id = $1 AND user_id = $2', [
    input.organizationId,
    input.userId,
  ]);
  if (!current.rows[0]) throw new ApiError('NOT_FOUND', 'member not found');
  throw new ApiError('FORBIDDEN', 'cannot change the role of a member at or above your own rank');
}

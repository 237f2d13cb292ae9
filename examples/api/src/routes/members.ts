/**
 * Who am I, org members and invitations. `POST /v1/orgs/:orgId/members` invites an address and
 * returns an invitation token (shown once) — never an access token: see invitations.ts for how it is
 * redeemed. `PATCH …/members/:userId` changes a role under the rank rule of roles.ts.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MANAGER_ROLES, authenticateUser, orgOf, requireOrg } from '../auth.js';
import type { AppContext } from '../context.js';
import { idParam, parseOr } from '../http.js';
import { inviteMember } from '../invitations.js';
import { changeMemberRole } from '../roles.js';
import { EmailSchema } from '../users.js';

const RoleSchema = z.enum(['owner', 'admin', 'member']);
const AddMemberSchema = z.strictObject({ email: EmailSchema, role: RoleSchema });
const ChangeRoleSchema = z.strictObject({ role: RoleSchema });

/** Registers `/v1/me` and the member routes. */
export function memberRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger } = ctx;

  // Only what the token may see: the membership in the organization it was minted for.
  app.get('/v1/me', async (request) => {
    const auth = await authenticateUser(pool, request);
    const { rows } = await pool.query<{ organization_id: string; name: string; role: string }>(
      `SELECT m.organization_id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
        WHERE m.user_id = $1 AND m.organization_id = $2`,
      [auth.userId, auth.tokenOrganizationId],
    );
    return {
      userId: auth.userId,
      email: auth.email,
      scope: { organizationId: auth.tokenOrganizationId },
      memberships: rows.map((r) => ({ organizationId: r.organization_id, name: r.name, role: r.role })),
    };
  });

  app.get('/v1/orgs/:orgId/members', { preHandler: requireOrg(pool) }, async (request) => {
    const { organizationId } = orgOf(request);
    const { rows } = await pool.query<{ user_id: string; email: string; role: string }>(
      `SELECT m.user_id, u.email, m.role FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE m.organization_id = $1 ORDER BY m.created_at`,
      [organizationId],
    );
    return { members: rows.map((r) => ({ userId: r.user_id, email: r.email, role: r.role })) };
  });

  app.post('/v1/orgs/:orgId/members', { preHandler: requireOrg(pool, MANAGER_ROLES) }, async (request, reply) => {
    const { organizationId, userId, role } = orgOf(request);
    const body = parseOr(AddMemberSchema, request.body);
    const invitation = await inviteMember(pool, { organizationId, email: body.email, role: body.role, invitedBy: { userId, role } });
    logger.info({ organizationId, invitationId: invitation.invitationId, role: invitation.role }, 'member invited');
    return reply.status(201).send({ status: 'invited', ...invitation });
  });

  app.patch('/v1/orgs/:orgId/members/:userId', { preHandler: requireOrg(pool, MANAGER_ROLES) }, async (request) => {
    const by = orgOf(request);
    const target = idParam(request.params, 'userId', 'member');
    const body = parseOr(ChangeRoleSchema, request.body);
    const changed = await changeMemberRole(pool, { organizationId: by.organizationId, userId: target, role: body.role, by });
    logger.info({ organizationId: by.organizationId, userId: target, role: changed.role, by: by.userId }, 'member role changed');
    return changed;
  });
}

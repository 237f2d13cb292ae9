/**
 * Who am I, and org members. `POST /v1/orgs/:orgId/members` adds a user with a role and returns an
 * access token for them (shown once): the MVP's invitation.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MANAGER_ROLES, authenticateUser, orgOf, requireOrg } from '../auth.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { parseOr } from '../http.js';
import { EmailSchema, addMember } from '../users.js';

const AddMemberSchema = z.strictObject({ email: EmailSchema, role: z.enum(['owner', 'admin', 'member']) });

/** Registers `/v1/me` and the member routes. */
export function memberRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger } = ctx;

  app.get('/v1/me', async (request) => {
    const auth = await authenticateUser(pool, request);
    const { rows } = await pool.query<{ organization_id: string; name: string; role: string }>(
      `SELECT m.organization_id, o.name, m.role FROM memberships m JOIN organizations o ON o.id = m.organization_id
        WHERE m.user_id = $1 ORDER BY o.created_at`,
      [auth.userId],
    );
    return {
      userId: auth.userId,
      email: auth.email,
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
    const { organizationId, role } = orgOf(request);
    const body = parseOr(AddMemberSchema, request.body);
    if (body.role === 'owner' && role !== 'owner') throw new ApiError('FORBIDDEN', 'only an owner can add an owner');
    const added = await addMember(pool, { organizationId, email: body.email, role: body.role });
    logger.info({ organizationId, userId: added.userId, role: added.role }, 'member added');
    return reply.status(201).send(added);
  });
}

/**
 * `POST /v1/invitations/accept {invitationToken}`: redeems an invitation (see invitations.ts). Not an
 * org route: the invitee has no token for the organization yet. An `Authorization` header, when sent,
 * must be a valid access token of the invited account; for an address with no account it is omitted.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { authenticateUser } from '../auth.js';
import type { AppContext } from '../context.js';
import { parseOr } from '../http.js';
import { acceptInvitation } from '../invitations.js';

const AcceptSchema = z.strictObject({ invitationToken: z.string().min(1).max(200) });

/** Registers the invitation redemption route. */
export function invitationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger } = ctx;

  app.post('/v1/invitations/accept', async (request, reply) => {
    const body = parseOr(AcceptSchema, request.body);
    const asUserId = request.headers.authorization === undefined ? undefined : (await authenticateUser(pool, request)).userId;
    const accepted = await acceptInvitation(pool, { invitationToken: body.invitationToken, ...(asUserId ? { asUserId } : {}) });
    logger.info({ organizationId: accepted.organizationId, userId: accepted.userId, role: accepted.role }, 'invitation accepted');
    return reply.status(201).send(accepted);
  });
}

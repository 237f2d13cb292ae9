/**
 * `GET /v1/orgs/:orgId/audit`: the organization's security events, newest first, paged by cursor and
 * filtered by agent and type. Owners and admins only: the log names members and client addresses.
 */
import type { FastifyInstance } from 'fastify';
import { MANAGER_ROLES, orgOf, requireOrg } from '../auth.js';
import { AuditQuerySchema, listAudit } from '../audit/audit-log.js';
import type { AppContext } from '../context.js';
import { parseOr } from '../http.js';

/** Registers the audit log route. */
export function auditRoutes(app: FastifyInstance, ctx: AppContext): void {
  const managers = requireOrg(ctx.pool, MANAGER_ROLES);
  app.get('/v1/orgs/:orgId/audit', { preHandler: managers }, async (request) => {
    const { organizationId } = orgOf(request);
    const query = parseOr(AuditQuerySchema, request.query ?? {}, 'BAD_REQUEST', 'query');
    return listAudit(ctx.pool, organizationId, query);
  });
}

/**
 * Routes an agent calls with its own token (`Authorization: Bearer <agentToken>`), not a user's:
 * `POST /v1/agents/deregister` — `vespid-agent remove` and `--ephemeral` revoke their own identity, the
 * way a GitHub runner's `config.sh remove` does, so nobody has to clean up the /agents page by hand.
 */
import { hashToken, parseToken } from '@vespid/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AppContext } from '../context.js';
import { recordAudit } from '../audit/audit-log.js';
import { ApiError } from '../errors.js';

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match) throw new ApiError('UNAUTHORIZED', 'agent token required (Authorization: Bearer <agentToken>)');
  return match[1]!;
}

/** Registers the agent self-service routes. */
export function agentSelfRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger } = ctx;

  app.post(
    '/v1/agents/deregister',
    // Same budget as the pairing exchange: it is an unauthenticated-by-user route.
    { config: { rateLimit: { max: ctx.config.pairRateLimitMax, timeWindow: ctx.config.rateLimitWindowMs } } },
    async (request) => {
      const token = bearer(request);
      const parsed = parseToken(token);
      if (!parsed) throw new ApiError('UNAUTHORIZED', 'agent token is malformed');
      // Revoke by token hash within the org of the token prefix; a revoked token cannot un-revoke or
      // touch another agent, so the only power this route grants is "forget me".
      const { rows } = await pool.query<{ id: string; organization_id: string; revoked_at: Date | null }>(
        'SELECT id, organization_id, revoked_at FROM organization_agents WHERE token_hash = $1 AND organization_id::text = $2',
        [hashToken(token), parsed.organizationId.toLowerCase()],
      );
      const row = rows[0];
      if (!row) throw new ApiError('UNAUTHORIZED', 'agent token is unknown');
      if (row.revoked_at) throw new ApiError('AGENT_REVOKED', 'the agent is already revoked', { httpStatus: 403 });
      const revoked = await pool.query<{ revoked_at: Date }>(
        'UPDATE organization_agents SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING revoked_at',
        [row.id],
      );
      const revokedAt = revoked.rows[0]!.revoked_at;
      await recordAudit(pool, {
        organizationId: row.organization_id,
        type: 'agent.revoked',
        request,
        actor: { type: 'agent' },
        agentId: row.id,
        details: { reason: 'deregistered' },
      });
      let propagated = true;
      try {
        await ctx.controlBus.publish({ type: 'agent_revoked', agentId: row.id });
      } catch (err) {
        // The database is the source of truth; gateways re-check tokens on every connect.
        propagated = false;
        logger.error({ err, agentId: row.id }, 'control bus publish failed');
      }
      logger.info({ organizationId: row.organization_id, agentId: row.id, propagated }, 'agent deregistered itself');
      return { agentId: row.id, status: 'revoked', revokedAt: revokedAt.toISOString(), propagated };
    },
  );
}

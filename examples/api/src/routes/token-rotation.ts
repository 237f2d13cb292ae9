/**
 * Agent token rotation requests. The api never sees a new token: it marks agents for rotation (their
 * current token is refused after `AGENT_TOKEN_ROTATION_OVERLAP_MS`) and tells the gateways on the
 * control bus (ids only). The replica holding an agent's session mints the token and sends it in-band
 * (`rotate_token`); an agent that is offline is rotated when it next connects within the overlap.
 *
 * - `POST /v1/orgs/:orgId/agents/:agentId/rotate-token` (owner/admin): one agent.
 * - `POST /v1/orgs/:orgId/agents/rotate-tokens` (owner/admin): every agent of the org (incident response).
 * - `POST /v1/agents/rotate-token` (`Authorization: Bearer <agentToken>`): `vespid-agent rotate`.
 */
import { markTokenRotation } from '@vespid/example-db';
import { type RotateTokensResponse, hashToken, parseToken } from '@vespid/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MANAGER_ROLES, orgOf, requireOrg } from '../auth.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../audit/audit-log.js';
import { ApiError } from '../errors.js';
import { idParam } from '../http.js';
import { publishSafely } from './agents.js';

/** Who asked for a rotation: a member (the request's signed-in user) or the agent itself. */
type RotationActor = 'user' | 'agent';

/**
 * Audits a rotation request: one `agent.token_rotated` record per marked agent, with who asked, the
 * scope (one agent, or the whole organization in an incident) and until when the old token stays valid.
 * Never given a token.
 */
async function recordTokenRotationAudit(
  ctx: AppContext,
  request: FastifyRequest,
  entry: {
    organizationId: string;
    actor: RotationActor;
    scope: 'agent' | 'organization';
    marked: { agentId: string; oldTokenValidUntil: Date }[];
  },
): Promise<void> {
  for (const m of entry.marked) {
    await recordAudit(ctx.pool, {
      organizationId: entry.organizationId,
      type: 'agent.token_rotated',
      request,
      ...(entry.actor === 'agent' ? { actor: { type: 'agent' as const } } : {}),
      agentId: m.agentId,
      details: { scope: entry.scope, oldTokenValidUntil: m.oldTokenValidUntil.toISOString() },
    });
  }
}

async function rotate(
  ctx: AppContext,
  request: FastifyRequest,
  target: { organizationId: string; agentId?: string },
  actor: RotationActor,
): Promise<RotateTokensResponse> {
  const marked = await markTokenRotation(ctx.pool, { ...target, overlapMs: ctx.config.tokenRotationOverlapMs });
  if (target.agentId && marked.length === 0) throw new ApiError('NOT_FOUND', 'agent not found (or revoked)');
  await recordTokenRotationAudit(ctx, request, {
    organizationId: target.organizationId,
    actor,
    scope: target.agentId ? 'agent' : 'organization',
    marked,
  });
  // The rows are the source of truth (gateways rotate on connect); the event makes it immediate.
  const propagated = target.agentId
    ? await publishSafely(ctx, { type: 'agent_token_rotation_requested', agentId: target.agentId })
    : await publishSafely(ctx, { type: 'org_agent_tokens_rotation_requested', organizationId: target.organizationId });
  return { agents: marked.map((m) => ({ agentId: m.agentId, oldTokenValidUntil: m.oldTokenValidUntil.toISOString() })), propagated };
}

function bearer(request: FastifyRequest): string {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (!match) throw new ApiError('UNAUTHORIZED', 'agent token required (Authorization: Bearer <agentToken>)');
  return match[1]!;
}

/** Registers the rotation routes. */
export function tokenRotationRoutes(app: FastifyInstance, ctx: AppContext): void {
  const managers = requireOrg(ctx.pool, MANAGER_ROLES);

  app.post('/v1/orgs/:orgId/agents/:agentId/rotate-token', { preHandler: managers }, async (request) => {
    const { organizationId } = orgOf(request);
    const agentId = idParam(request.params, 'agentId', 'agent');
    return rotate(ctx, request, { organizationId, agentId }, 'user');
  });

  app.post('/v1/orgs/:orgId/agents/rotate-tokens', { preHandler: managers }, async (request) => {
    const { organizationId } = orgOf(request);
    return rotate(ctx, request, { organizationId }, 'user');
  });

  app.post(
    '/v1/agents/rotate-token',
    // Unauthenticated-by-user like the pairing exchange: same budget.
    { config: { rateLimit: { max: ctx.config.pairRateLimitMax, timeWindow: ctx.config.rateLimitWindowMs } } },
    async (request) => {
      const token = bearer(request);
      const parsed = parseToken(token);
      if (!parsed) throw new ApiError('UNAUTHORIZED', 'agent token is malformed');
      const { rows } = await ctx.pool.query<{ id: string; organization_id: string; revoked_at: Date | null; expired: boolean }>(
        `SELECT id, organization_id, revoked_at, COALESCE(token_expires_at <= now(), false) AS expired
           FROM organization_agents WHERE token_hash = $1 AND organization_id::text = $2`,
        [hashToken(token), parsed.organizationId.toLowerCase()],
      );
      const row = rows[0];
      if (!row) throw new ApiError('UNAUTHORIZED', 'agent token is unknown');
      if (row.revoked_at) throw new ApiError('AGENT_REVOKED', 'the agent is revoked', { httpStatus: 403 });
      if (row.expired) throw new ApiError('AGENT_TOKEN_EXPIRED', 'the agent token has expired; pair the agent again', { httpStatus: 401 });
      return rotate(ctx, request, { organizationId: row.organization_id, agentId: row.id }, 'agent');
    },
  );
}

/**
 * Fleet routes of one agent: pause and resume (cordon) and its job history. Pausing is recorded on the
 * agent row (`paused_at`, `paused_by`) and as an `agent_events` row, then pushed on the control bus so
 * every gateway replica stops selecting the agent at once; the agent keeps running what it has.
 * Resuming gives it work again: each gateway offers it the organization's queued requests.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MANAGER_ROLES, orgOf, requireOrg } from '../auth.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../audit/audit-log.js';
import { ApiError } from '../errors.js';
import { idParam, parseOr } from '../http.js';
import { inTransaction } from '../users.js';
import { publishSafely } from './agents.js';

const JobsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** The `nextCursor` of the previous page (opaque). */
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'cursor must be the nextCursor of a previous page')
    .optional(),
});

interface JobRow {
  id: string;
  run_id: string;
  node_id: string;
  type: 'node_succeeded' | 'node_failed';
  payload: Record<string, unknown>;
  created_at: Date;
  kind: string | null;
  workflow_id: string;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Registers pause/resume and the job history of an agent. */
export function agentFleetRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger } = ctx;
  const managers = requireOrg(pool, MANAGER_ROLES);
  const members = requireOrg(pool);

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/v1/orgs/:orgId/agents/:agentId/${action}`, { preHandler: managers }, async (request) => {
      const { organizationId, userId } = orgOf(request);
      const agentId = idParam(request.params, 'agentId', 'agent');
      const paused = action === 'pause';
      const row = await inTransaction(pool, async (tx) => {
        const before = await tx.query<{ was_paused: boolean; revoked_at: Date | null; approval_status: string }>(
          'SELECT paused_at IS NOT NULL AS was_paused, revoked_at, approval_status FROM organization_agents WHERE organization_id = $1 AND id = $2 FOR UPDATE',
          [organizationId, agentId],
        );
        const prior = before.rows[0];
        if (!prior) throw new ApiError('NOT_FOUND', 'agent not found');
        if (prior.revoked_at) throw new ApiError('CONFLICT', 'agent is revoked; a revoked agent cannot be paused or resumed');
        // Resume publishes `agent_resumed`, which would make a pending agent eligible: approval decides that.
        if (!paused && prior.approval_status === 'pending') {
          throw new ApiError('CONFLICT', 'agent is pending approval; approve it (POST …/agents/:agentId/approve) to give it work');
        }
        const { rows } = await tx.query<{ paused_at: Date | null }>(
          `UPDATE organization_agents
              SET paused_at = CASE WHEN $3 THEN COALESCE(paused_at, now()) ELSE NULL END,
                  paused_by = CASE WHEN $3 THEN COALESCE(paused_by, $4::uuid) ELSE NULL END
            WHERE organization_id = $1 AND id = $2 RETURNING paused_at`,
          [organizationId, agentId, paused, userId],
        );
        const r = { ...rows[0]!, was_paused: prior.was_paused };
        // Recorded only when the state changed: a repeated click is not a second pause.
        if (r.was_paused !== paused) {
          await tx.query('INSERT INTO agent_events (organization_id, agent_id, type, actor_user_id) VALUES ($1, $2, $3, $4)', [
            organizationId,
            agentId,
            paused ? 'agent_paused' : 'agent_resumed',
            userId,
          ]);
          await recordAudit(tx, { organizationId, type: paused ? 'agent.paused' : 'agent.resumed', request, agentId });
        }
        return r;
      });
      // Published even when unchanged: a replica that missed the first event converges on a retry.
      const propagated = await publishSafely(ctx, { type: paused ? 'agent_paused' : 'agent_resumed', agentId });
      logger.info({ organizationId, agentId, userId, paused, propagated }, paused ? 'agent paused' : 'agent resumed');
      return { agentId, paused, pausedAt: row.paused_at?.toISOString() ?? null, propagated };
    });
  }

  app.get('/v1/orgs/:orgId/agents/:agentId/jobs', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const agentId = idParam(request.params, 'agentId', 'agent');
    const { limit, cursor } = parseOr(JobsQuerySchema, request.query ?? {}, 'BAD_REQUEST', 'query');
    const exists = await pool.query('SELECT 1 FROM organization_agents WHERE organization_id = $1 AND id = $2', [organizationId, agentId]);
    if (!exists.rowCount) throw new ApiError('NOT_FOUND', 'agent not found');
    // Terminal events naming the agent, newest first; the kind comes from the attempt's node_dispatched.
    const { rows } = await pool.query<JobRow>(
      `SELECT e.id::text AS id, e.run_id, e.node_id, e.type, e.payload, e.created_at, r.workflow_id,
              (SELECT d.payload->>'kind' FROM workflow_run_events d
                WHERE d.run_id = e.run_id AND d.type = 'node_dispatched' AND d.payload->>'requestId' = e.payload->>'requestId'
                LIMIT 1) AS kind
         FROM workflow_run_events e JOIN workflow_runs r ON r.id = e.run_id
        WHERE e.organization_id = $1 AND e.type IN ('node_succeeded', 'node_failed') AND e.payload->>'agentId' = $2
          AND ($3::bigint IS NULL OR e.id < $3::bigint)
        ORDER BY e.id DESC LIMIT $4`,
      [organizationId, agentId, cursor ?? null, limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      agentId,
      jobs: page.map((j) => {
        const err = j.payload.error as { code?: unknown } | undefined;
        return {
          runId: j.run_id,
          workflowId: j.workflow_id,
          nodeId: j.node_id,
          attempt: num(j.payload.attempt) ?? 0,
          requestId: typeof j.payload.requestId === 'string' ? j.payload.requestId : null,
          kind: j.kind,
          status: j.type === 'node_succeeded' ? 'succeeded' : 'failed',
          queuedMs: num(j.payload.queuedMs),
          executingMs: num(j.payload.executingMs),
          totalMs: num(j.payload.totalMs),
          errorCode: typeof err?.code === 'string' ? err.code : null,
          finishedAt: j.created_at.toISOString(),
        };
      }),
      nextCursor: rows.length > limit ? page.at(-1)!.id : null,
    };
  });
}

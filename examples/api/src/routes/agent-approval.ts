/**
 * Admin approval of paired agents. The organization setting `agentApproval` ('auto' by default, the
 * runbook's flow; or 'manual') decides how a paired agent starts. Under 'manual' it is `pending`: it
 * connects (its host, version and capabilities show in /agents) but every gateway withholds it from
 * selection exactly like a paused agent (the gateway's authenticator reports it paused). Approving
 * sets its control-plane tags (the ones given, else the ones proposed at pairing) and publishes
 * `agent_tags_updated` then `agent_resumed` on the control bus: every replica makes it eligible and
 * offers it the organization's queued work. Rejecting revokes it (`agent_revoked`: session closed,
 * token refused with 403). Owners and admins decide; every decision is an audit event.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MANAGER_ROLES, orgOf, requireOrg } from '../auth.js';
import { recordAudit } from '../audit/audit-log.js';
import type { AppContext } from '../context.js';
import { ApiError } from '../errors.js';
import { idParam, parseOr } from '../http.js';
import { inTransaction } from '../users.js';
import { TagsSchema, publishSafely } from './agents.js';

/** How a newly paired agent starts. */
export const AgentApprovalModeSchema = z.enum(['auto', 'manual']);
/** Body of `PATCH /v1/orgs/:orgId/settings`. */
const SettingsPatchSchema = z.strictObject({ agentApproval: AgentApprovalModeSchema });
/** Body of `POST …/agents/:agentId/approve`: the control-plane tags to grant (default: the proposed ones). */
const ApproveSchema = z.strictObject({ tags: TagsSchema.optional() }).default({});

interface ApprovalRow {
  approval_status: 'pending' | 'approved' | 'rejected';
  revoked_at: Date | null;
  paused_at: Date | null;
  tags: string[];
  proposed_tags: string[];
}

const lockAgent = `SELECT approval_status, revoked_at, paused_at, tags, proposed_tags
  FROM organization_agents WHERE organization_id = $1 AND id = $2 FOR UPDATE`;

/** Registers the organization settings and the approve / reject routes. */
export function agentApprovalRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, logger } = ctx;
  const managers = requireOrg(pool, MANAGER_ROLES);
  const members = requireOrg(pool);

  app.get('/v1/orgs/:orgId/settings', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const { rows } = await pool.query<{ agent_approval: string }>('SELECT agent_approval FROM organizations WHERE id = $1', [
      organizationId,
    ]);
    return { agentApproval: rows[0]?.agent_approval ?? 'auto' };
  });

  app.patch('/v1/orgs/:orgId/settings', { preHandler: managers }, async (request) => {
    const { organizationId } = orgOf(request);
    const { agentApproval } = parseOr(SettingsPatchSchema, request.body);
    await inTransaction(pool, async (tx) => {
      const { rows } = await tx.query<{ agent_approval: string }>('SELECT agent_approval FROM organizations WHERE id = $1 FOR UPDATE', [
        organizationId,
      ]);
      const before = rows[0]?.agent_approval;
      if (before === agentApproval) return;
      await tx.query('UPDATE organizations SET agent_approval = $2 WHERE id = $1', [organizationId, agentApproval]);
      await recordAudit(tx, {
        organizationId,
        type: 'org.settings_changed',
        request,
        subject: { type: 'organization', id: organizationId },
        details: { setting: 'agentApproval', from: before ?? null, to: agentApproval },
      });
    });
    logger.info({ organizationId, agentApproval }, 'organization settings changed');
    return { agentApproval };
  });

  app.post('/v1/orgs/:orgId/agents/:agentId/approve', { preHandler: managers }, async (request) => {
    const { organizationId, userId } = orgOf(request);
    const agentId = idParam(request.params, 'agentId', 'agent');
    const body = parseOr(ApproveSchema, request.body ?? {});
    const result = await inTransaction(pool, async (tx) => {
      const row = (await tx.query<ApprovalRow>(lockAgent, [organizationId, agentId])).rows[0];
      if (!row) throw new ApiError('NOT_FOUND', 'agent not found');
      if (row.revoked_at) throw new ApiError('CONFLICT', 'agent is revoked (or was rejected); pair it again to add it back');
      // A repeated click is not a second approval.
      if (row.approval_status === 'approved') return { ...row, changed: false };
      const tags = body.tags ?? row.proposed_tags;
      await tx.query(
        `UPDATE organization_agents SET approval_status = 'approved', tags = $3, approval_decided_at = now(), approval_decided_by = $4
          WHERE organization_id = $1 AND id = $2`,
        [organizationId, agentId, tags, userId],
      );
      await recordAudit(tx, {
        organizationId,
        type: 'agent.approved',
        request,
        agentId,
        details: { tags, proposedTags: row.proposed_tags },
      });
      return { ...row, tags, approval_status: 'approved' as const, changed: true };
    });
    // Tags first, so the queue is offered to the agent with the tags it was granted; a paused agent
    // stays paused (approval is not a resume). Published again on a repeat, so a replica that missed
    // the first converges.
    let propagated = await publishSafely(ctx, { type: 'agent_tags_updated', agentId, tags: result.tags });
    if (!result.paused_at) propagated = (await publishSafely(ctx, { type: 'agent_resumed', agentId })) && propagated;
    logger.info({ organizationId, agentId, userId, tags: result.tags, changed: result.changed, propagated }, 'agent approved');
    return { agentId, approval: 'approved', tags: result.tags, paused: result.paused_at !== null, propagated };
  });

  app.post('/v1/orgs/:orgId/agents/:agentId/reject', { preHandler: managers }, async (request) => {
    const { organizationId, userId } = orgOf(request);
    const agentId = idParam(request.params, 'agentId', 'agent');
    const revokedAt = await inTransaction(pool, async (tx) => {
      const row = (await tx.query<ApprovalRow>(lockAgent, [organizationId, agentId])).rows[0];
      if (!row) throw new ApiError('NOT_FOUND', 'agent not found');
      if (row.approval_status === 'approved') {
        throw new ApiError('CONFLICT', 'agent is already approved; revoke it instead (POST …/agents/:agentId/revoke)');
      }
      if (row.approval_status === 'rejected') return row.revoked_at;
      const { rows } = await tx.query<{ revoked_at: Date }>(
        `UPDATE organization_agents SET approval_status = 'rejected', revoked_at = COALESCE(revoked_at, now()),
                approval_decided_at = now(), approval_decided_by = $3
          WHERE organization_id = $1 AND id = $2 RETURNING revoked_at`,
        [organizationId, agentId, userId],
      );
      await recordAudit(tx, { organizationId, type: 'agent.rejected', request, agentId, details: { proposedTags: row.proposed_tags } });
      return rows[0]!.revoked_at;
    });
    // Rejected = revoked: every gateway closes its session (4403) and refuses its token (403).
    const propagated = await publishSafely(ctx, { type: 'agent_revoked', agentId });
    logger.info({ organizationId, agentId, userId, propagated }, 'agent rejected');
    return { agentId, approval: 'rejected', status: 'revoked', revokedAt: revokedAt?.toISOString() ?? null, propagated };
  });
}

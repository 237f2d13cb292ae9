/**
 * Agents: pairing tokens (15 min, single-use), the unauthenticated pairing exchange used by the
 * node-agent, the agents list (online/offline/revoked, approval), revoke and control-plane tags.
 * Revocations and tag edits are pushed on the control bus so every gateway applies them at once.
 * Under the organization's `agentApproval: 'manual'` a paired agent starts `pending` and its tags are
 * a proposal (see agent-approval.ts). Each security event is recorded in the audit log.
 */
import { CapabilitiesSchema, LIMITS, TagSchema, generateToken, hashToken, parseToken } from '@vespid/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { MANAGER_ROLES, orgOf, requireOrg } from '../auth.js';
import { PAIRING_TOKEN_TTL_MS } from '../config.js';
import type { AppContext } from '../context.js';
import { recordAudit } from '../audit/audit-log.js';
import { ApiError } from '../errors.js';
import { idParam, parseOr } from '../http.js';
import { type LiveSession, mergeLive } from '../live-sessions.js';
import { AgentListQuerySchema, matchesFilter } from './agent-filters.js';
import { inTransaction } from '../users.js';
import type { PoolClient } from '@vespid/example-db';

/**
 * Control-plane tags as typed by people and CLIs (`--tags "east, group:alpha"`): each is trimmed, then
 * validated, and duplicates are dropped. Spaces inside a tag are still refused.
 */
export const TagsSchema = z
  .array(z.string().trim().pipe(TagSchema))
  .max(LIMITS.tagsPerAgent)
  .transform((tags) => [...new Set(tags)]);

/** Body of `POST /v1/agents/pair`. Capabilities are hints; known fields are validated, others kept. */
export const PairRequestSchema = z.strictObject({
  pairingToken: z.string().min(1).max(512),
  name: z.string().trim().min(1).max(LIMITS.nameLength),
  /** The node-agent's version (what `hello.agentVersion` carries), stored for the agents list. */
  agentVersion: z.string().trim().min(1).max(64).optional(),
  tags: TagsSchema.optional(),
  capabilities: z
    .looseObject(CapabilitiesSchema.partial().shape)
    .refine((c) => JSON.stringify(c).length <= 16 * 1024, 'capabilities must be at most 16 KiB of JSON')
    .optional(),
});

interface AgentRow {
  id: string;
  name: string;
  tags: string[];
  reported_tags: string[];
  capabilities: Record<string, unknown>;
  agent_version: string | null;
  max_in_flight: number | null;
  last_seen_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
  online: boolean;
  paused_at: Date | null;
  approval_status: 'pending' | 'approved' | 'rejected';
  proposed_tags: string[];
  /** The row as JSON minus the token hash: host columns added by later migrations are read from it. */
  extra: Record<string, unknown>;
}

const AGENT_COLUMNS = `id, name, tags, reported_tags, capabilities, agent_version, max_in_flight, last_seen_at, revoked_at, created_at,
  COALESCE(last_seen_at > now() - make_interval(secs => $2::double precision / 1000), false) AS online,
  paused_at, approval_status, proposed_tags, to_jsonb(organization_agents) - 'token_hash' - 'pending_token_hash' - 'previous_token_hash' AS extra`;

/** Host columns another migration may add; read when present, null otherwise (tolerant of either schema). */
const HOST_FIELDS = { hostname: ['hostname', 'host_name'], os: ['os', 'platform', 'os_platform'], arch: ['arch', 'os_arch'] } as const;

function hostOf(row: AgentRow): { hostname: string | null; os: string | null; arch: string | null } {
  const caps = row.capabilities as Record<string, unknown>;
  const pick = (keys: readonly string[]) => {
    for (const k of keys) {
      const v = row.extra?.[k] ?? caps?.[k];
      if (typeof v === 'string' && v) return v;
    }
    return null;
  };
  return { hostname: pick(HOST_FIELDS.hostname), os: pick(HOST_FIELDS.os), arch: pick(HOST_FIELDS.arch) };
}

function agentView(row: AgentRow) {
  return {
    id: row.id,
    name: row.name,
    // Revoked wins over online: a revoked agent may still have a stale last_seen_at.
    status: row.revoked_at ? 'revoked' : row.online ? 'online' : 'offline',
    tags: row.tags,
    reportedTags: row.reported_tags,
    capabilities: row.capabilities,
    agentVersion: row.agent_version,
    paused: row.paused_at !== null,
    /** `pending`: paired under manual approval, connected maybe, given no work until approved. */
    approval: row.approval_status,
    /** Tags asked for at pairing under manual approval (granted on approval unless others are given). */
    proposedTags: row.proposed_tags,
    pausedAt: row.paused_at?.toISOString() ?? null,
    host: hostOf(row),
    maxInFlight: row.max_in_flight,
    lastSeenAt: row.last_seen_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

/** Registers the agent routes. */
export function agentRoutes(app: FastifyInstance, ctx: AppContext): void {
  const { pool, config, logger } = ctx;
  const managers = requireOrg(pool, MANAGER_ROLES);
  const members = requireOrg(pool);

  app.post('/v1/orgs/:orgId/agents/pairing-tokens', { preHandler: managers }, async (request, reply) => {
    const { organizationId, userId } = orgOf(request);
    const pairingToken = generateToken(organizationId);
    const rows = await inTransaction(pool, async (tx) => {
      const inserted = await tx.query<{ id: string; expires_at: Date }>(
        `INSERT INTO agent_pairing_tokens (organization_id, token_hash, created_by, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(secs => $4::double precision / 1000)) RETURNING id, expires_at`,
        [organizationId, hashToken(pairingToken), userId, PAIRING_TOKEN_TTL_MS],
      );
      const { id, expires_at } = inserted.rows[0]!;
      await recordAudit(tx, {
        organizationId,
        type: 'pairing_token.created',
        request,
        subject: { type: 'pairing_token', id },
        details: { expiresAt: expires_at.toISOString() },
      });
      return inserted.rows;
    });
    logger.info({ organizationId, pairingTokenId: rows[0]!.id }, 'pairing token created');
    return reply.status(201).send({ id: rows[0]!.id, pairingToken, expiresAt: rows[0]!.expires_at.toISOString() });
  });

  app.post(
    '/v1/agents/pair',
    { config: { rateLimit: { max: config.pairRateLimitMax, timeWindow: config.rateLimitWindowMs } } },
    async (request, reply) => {
      const body = parseOr(PairRequestSchema, request.body);
      const parsed = parseToken(body.pairingToken);
      if (!parsed) throw new ApiError('PAIRING_TOKEN_INVALID', 'pairing token is malformed');
      const organizationId = parsed.organizationId.toLowerCase();
      const agentToken = generateToken(organizationId);
      const paired = await inTransaction(pool, async (client) => {
        // One atomic UPDATE: of two racing exchanges exactly one sees used_at IS NULL (the other waits
        // on the row lock, re-checks the condition after commit and matches nothing).
        const used = await client.query<{ id: string }>(
          `UPDATE agent_pairing_tokens SET used_at = now()
          WHERE token_hash = $1 AND organization_id::text = $2 AND used_at IS NULL AND expires_at > now()
          RETURNING id`,
          [hashToken(body.pairingToken), organizationId],
        );
        const tokenId = used.rows[0]?.id;
        if (!tokenId) throw await refusal(client, body.pairingToken, organizationId);
        const org = await client.query<{ agent_approval: string }>('SELECT agent_approval FROM organizations WHERE id = $1', [
          organizationId,
        ]);
        // Manual approval: the requested tags are only a proposal; routing gets none until approved.
        const pending = org.rows[0]?.agent_approval === 'manual';
        const tags = body.tags ?? [];
        const inserted = await client.query<{ id: string }>(
          `INSERT INTO organization_agents (organization_id, name, token_hash, tags, capabilities, agent_version, approval_status, proposed_tags)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
          [
            organizationId,
            body.name,
            hashToken(agentToken),
            pending ? [] : tags,
            JSON.stringify(body.capabilities ?? {}),
            body.agentVersion ?? null,
            pending ? 'pending' : 'approved',
            pending ? tags : [],
          ],
        );
        const id = inserted.rows[0]!.id;
        await client.query('UPDATE agent_pairing_tokens SET used_by_agent = $1 WHERE id = $2 AND organization_id = $3', [
          id,
          tokenId,
          organizationId,
        ]);
        const audit = { organizationId, request, actor: { type: 'agent' as const }, agentId: id };
        await recordAudit(client, { ...audit, type: 'pairing_token.used', subject: { type: 'pairing_token', id: tokenId } });
        await recordAudit(client, {
          ...audit,
          type: 'agent.paired',
          details: { name: body.name, approval: pending ? 'pending' : 'approved', [pending ? 'proposedTags' : 'tags']: tags },
        });
        return { id, pending };
      });
      const agentId = paired.id;
      logger.info({ organizationId, agentId, tags: body.tags ?? [], pending: paired.pending }, 'agent paired');
      // `approval` only when pending: the auto-mode answer stays exactly the runbook's.
      return reply.status(201).send({
        agentId,
        agentToken,
        organizationId,
        gatewayWsUrl: config.gatewayWsUrl,
        ...(paired.pending ? { approval: 'pending' } : {}),
      });
    },
  );

  app.get('/v1/orgs/:orgId/agents', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const filter = parseOr(AgentListQuerySchema, request.query ?? {}, 'BAD_REQUEST', 'query');
    // The gateway call runs beside the query; it never rejects and is bounded by its own timeout.
    const [{ rows }, sessions] = await Promise.all([
      pool.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM organization_agents WHERE organization_id = $1 ORDER BY created_at, id`, [
        organizationId,
        config.agentStaleMs,
      ]),
      ctx.liveSessions?.list(organizationId),
    ]);
    const merged = mergeLive(rows.map(agentView), sessions, Boolean(ctx.liveSessions), { complete: ctx.liveSessions?.complete });
    // Filtered after the live merge: status comes from the live session first.
    const agents = merged.agents.map(withLiveVersion).filter((a) => matchesFilter(a, filter));
    return { agents, staleMs: config.agentStaleMs, live: merged.live };
  });

  app.get('/v1/orgs/:orgId/agents/:agentId', { preHandler: members }, async (request) => {
    const { organizationId } = orgOf(request);
    const agentId = idParam(request.params, 'agentId', 'agent');
    const { rows } = await pool.query<AgentRow>(`SELECT ${AGENT_COLUMNS} FROM organization_agents WHERE organization_id = $1 AND id = $3`, [
      organizationId,
      config.agentStaleMs,
      agentId,
    ]);
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'agent not found');
    const sessions = await ctx.liveSessions?.list(organizationId);
    const agent = mergeLive([agentView(rows[0])], sessions, Boolean(ctx.liveSessions), { complete: ctx.liveSessions?.complete }).agents[0]!;
    // The detail view: identity, version, host, connection (address, since) and the jobs running now.
    return { ...withLiveVersion(agent), currentJobs: agent.live?.requests ?? [] };
  });

  app.post('/v1/orgs/:orgId/agents/:agentId/revoke', { preHandler: managers }, async (request) => {
    const { organizationId } = orgOf(request);
    const agentId = idParam(request.params, 'agentId', 'agent');
    // `prior` reads the row before the update (same snapshot): a repeated revoke is not a second event.
    const { rows } = await pool.query<{ revoked_at: Date; changed: boolean }>(
      `WITH prior AS (SELECT id, revoked_at FROM organization_agents WHERE organization_id = $1 AND id = $2 FOR UPDATE)
       UPDATE organization_agents a SET revoked_at = COALESCE(a.revoked_at, now())
         FROM prior WHERE a.id = prior.id RETURNING a.revoked_at, prior.revoked_at IS NULL AS changed`,
      [organizationId, agentId],
    );
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'agent not found');
    if (rows[0].changed) await recordAudit(pool, { organizationId, type: 'agent.revoked', request, agentId });
    // The database is the source of truth (gateways re-check tokens on connect); the bus makes it
    // immediate for live sessions. A publish failure is logged and reported, not hidden.
    const propagated = await publishSafely(ctx, { type: 'agent_revoked', agentId });
    logger.info({ organizationId, agentId, propagated }, 'agent revoked');
    return { agentId, status: 'revoked', revokedAt: rows[0].revoked_at.toISOString(), propagated };
  });

  app.put('/v1/orgs/:orgId/agents/:agentId/tags', { preHandler: managers }, async (request) => {
    const { organizationId } = orgOf(request);
    const agentId = idParam(request.params, 'agentId', 'agent');
    const { tags } = parseOr(z.strictObject({ tags: TagsSchema }), request.body);
    const { rows } = await pool.query<{ tags: string[]; before: string[] }>(
      `WITH prior AS (SELECT id, tags FROM organization_agents WHERE organization_id = $1 AND id = $2 FOR UPDATE)
       UPDATE organization_agents a SET tags = $3 FROM prior WHERE a.id = prior.id RETURNING a.tags, prior.tags AS before`,
      [organizationId, agentId, tags],
    );
    if (!rows[0]) throw new ApiError('NOT_FOUND', 'agent not found');
    if (rows[0].before.join('\n') !== rows[0].tags.join('\n')) {
      await recordAudit(pool, {
        organizationId,
        type: 'agent.tags_changed',
        request,
        agentId,
        details: { from: rows[0].before, to: rows[0].tags },
      });
    }
    const propagated = await publishSafely(ctx, { type: 'agent_tags_updated', agentId, tags: rows[0].tags });
    logger.info({ organizationId, agentId, tags: rows[0].tags, propagated }, 'agent tags updated');
    return { agentId, tags: rows[0].tags, propagated };
  });
}

/**
 * Why a pairing token was not accepted: an unused token past its expiry is 400 PAIRING_TOKEN_EXPIRED
 * (the CLI then says to create a new one); unknown or already used stays 401 PAIRING_TOKEN_INVALID.
 */
async function refusal(client: PoolClient, pairingToken: string, organizationId: string): Promise<ApiError> {
  const { rows } = await client.query<{ expired: boolean }>(
    `SELECT expires_at <= now() AS expired FROM agent_pairing_tokens
      WHERE token_hash = $1 AND organization_id::text = $2 AND used_at IS NULL`,
    [hashToken(pairingToken), organizationId],
  );
  if (rows[0]?.expired) return new ApiError('PAIRING_TOKEN_EXPIRED', 'pairing token has expired; create a new one');
  return new ApiError('PAIRING_TOKEN_INVALID', 'pairing token is unknown or already used');
}

/** The version the live session reports wins over the one stored at pairing (the agent may have been upgraded). */
function withLiveVersion<A extends { agentVersion: string | null; live?: LiveSession | null }>(a: A): A {
  const live = a.live?.agentVersion;
  return live ? { ...a, agentVersion: live } : a;
}

/** Publishes a control event; false (logged) when the bus failed. Shared by revoke, tags, pause and rotation. */
export async function publishSafely(ctx: AppContext, event: Parameters<AppContext['controlBus']['publish']>[0]): Promise<boolean> {
  try {
    await ctx.controlBus.publish(event);
    return true;
  } catch (err) {
    ctx.logger.error({ err, type: event.type, ...('agentId' in event ? { agentId: event.agentId } : {}) }, 'control bus publish failed');
    return false;
  }
}

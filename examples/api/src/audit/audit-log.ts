/**
 * The audit log: the one place security events are written (`audit_events`, migration 0007) and read.
 * Routes call {@link recordAudit} with the event type, the request (for the actor and client address)
 * and ids; nothing else writes the table. A record holds ids, names, tags and roles — never a token,
 * a token hash or a secret value: detail values are limited to plain scalars and string lists, and any
 * string shaped like a Vespid token (`<orgId>.<secret>`) is replaced before it is stored.
 */
import type { Pool, PoolClient } from '@vespid/example-db';
import { parseToken } from '@vespid/protocol';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { isUuid } from '../http.js';

/**
 * Every audit event type. `agent.token_rotated` is reserved for agent token rotation. A new type is
 * added here only (the table has no CHECK on it).
 */
export const AUDIT_EVENT_TYPES = [
  'pairing_token.created',
  'pairing_token.used',
  'agent.paired',
  'agent.approved',
  'agent.rejected',
  'agent.revoked',
  'agent.paused',
  'agent.resumed',
  'agent.tags_changed',
  'agent.token_rotated',
  'secret.created',
  'secret.rotated',
  'secret.deleted',
  'org.settings_changed',
] as const;
/** An audit event type. @example `const t: AuditEventType = 'agent.approved'` */
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];
/** zod enum of {@link AUDIT_EVENT_TYPES} (the `type` filter of the audit API). */
export const AuditEventTypeSchema = z.enum(AUDIT_EVENT_TYPES);

/** Who did it: a signed-in user, an agent (pairing, rotation) or the system itself. */
export type AuditActor = { type: 'user'; userId: string; email: string | null } | { type: 'agent' } | { type: 'system' };

type DetailValue = string | number | boolean | null | string[];

/** One event to record. */
export interface AuditInput {
  organizationId: string;
  type: AuditEventType;
  /** The request that caused it: gives the client address, and the user when `actor` is not given. */
  request?: FastifyRequest;
  /** @default the request's signed-in user, else `{ type: 'system' }` */
  actor?: AuditActor;
  agentId?: string | null;
  /** What else it is about, e.g. `{ type: 'secret', id }`. */
  subject?: { type: 'pairing_token' | 'secret' | 'organization'; id: string };
  /** Non-secret facts (names, tags, old/new settings). */
  details?: Record<string, DetailValue>;
}

/** The shape of an audit record in API answers. */
export interface AuditRecord {
  id: string;
  type: string;
  actor: { type: string; userId: string | null; email: string | null };
  agentId: string | null;
  subject: { type: string; id: string } | null;
  details: Record<string, unknown>;
  clientAddress: string | null;
  createdAt: string;
}

const REDACTED = '[redacted]';

/** A token-shaped string never reaches the table, whatever a caller passed by mistake. */
function scrub(value: DetailValue): DetailValue {
  if (typeof value === 'string') return parseToken(value) ? REDACTED : value;
  if (Array.isArray(value)) return value.map((v) => (parseToken(v) ? REDACTED : v));
  return value;
}

function actorOf(input: AuditInput): AuditActor {
  if (input.actor) return input.actor;
  const auth = input.request?.auth;
  return auth ? { type: 'user', userId: auth.userId, email: auth.email } : { type: 'system' };
}

/**
 * Records one audit event. Pass the transaction's client to make the record part of the change.
 *
 * @example
 * ```ts
 * await recordAudit(tx, { organizationId, type: 'agent.approved', request, agentId, details: { tags } });
 * ```
 */
export async function recordAudit(db: Pool | PoolClient, input: AuditInput): Promise<void> {
  const actor = actorOf(input);
  const details = Object.fromEntries(Object.entries(input.details ?? {}).map(([k, v]) => [k, scrub(v)]));
  await db.query(
    `INSERT INTO audit_events (organization_id, type, actor_type, actor_user_id, actor_email, agent_id, subject, details, client_address)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      input.organizationId,
      AuditEventTypeSchema.parse(input.type),
      actor.type,
      actor.type === 'user' ? actor.userId : null,
      actor.type === 'user' ? actor.email : null,
      input.agentId ?? null,
      input.subject ? JSON.stringify(input.subject) : null,
      JSON.stringify(details),
      input.request?.ip ?? null,
    ],
  );
}

/** Query of `GET /v1/orgs/:orgId/audit`. */
export const AuditQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** The `nextCursor` of the previous page (opaque). */
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, 'cursor must be the nextCursor of a previous page')
    .optional(),
  agentId: z.string().refine(isUuid, 'agentId must be a uuid').optional(),
  type: AuditEventTypeSchema.optional(),
});

interface AuditRow {
  id: string;
  type: string;
  actor_type: string;
  actor_user_id: string | null;
  actor_email: string | null;
  agent_id: string | null;
  subject: { type: string; id: string } | null;
  details: Record<string, unknown>;
  client_address: string | null;
  created_at: Date;
}

/**
 * One page of an organization's audit log, newest first; `nextCursor` is null on the last page.
 *
 * @example
 * ```ts
 * const { events, nextCursor } = await listAudit(pool, orgId, { limit: 50, agentId });
 * ```
 */
export async function listAudit(
  pool: Pool,
  organizationId: string,
  query: z.output<typeof AuditQuerySchema>,
): Promise<{ events: AuditRecord[]; nextCursor: string | null }> {
  const { rows } = await pool.query<AuditRow>(
    `SELECT id::text AS id, type, actor_type, actor_user_id, actor_email, agent_id, subject, details, client_address, created_at
       FROM audit_events
      WHERE organization_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
        AND ($3::uuid IS NULL OR agent_id = $3::uuid) AND ($4::text IS NULL OR type = $4)
      ORDER BY audit_events.id DESC LIMIT $5`, // qualified: a bare "id" would sort the text alias
    [organizationId, query.cursor ?? null, query.agentId ?? null, query.type ?? null, query.limit + 1],
  );
  const page = rows.slice(0, query.limit);
  return {
    events: page.map((r) => ({
      id: r.id,
      type: r.type,
      actor: { type: r.actor_type, userId: r.actor_user_id, email: r.actor_email },
      agentId: r.agent_id,
      subject: r.subject,
      details: r.details,
      clientAddress: r.client_address,
      createdAt: r.created_at.toISOString(),
    })),
    nextCursor: rows.length > query.limit ? page.at(-1)!.id : null,
  };
}

/**
 * Agent token rotation in `organization_agents` (migration 0008), shared by the api (which requests
 * rotations) and the gateway (which mints, activates and checks tokens). Only SHA-256 hashes are
 * stored; the token itself exists in the gateway's memory and on the agent's WebSocket only.
 */
import { DEFAULT_TOKEN_ROTATION_OVERLAP_MS } from '@vespid/protocol';

/** The query surface used (a pg Pool or PoolClient fits). */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/**
 * `AGENT_TOKEN_ROTATION_OVERLAP_MS` (read by the api and the gateway): how long an agent's old token
 * keeps working once a rotation is requested. @default 86400000 (24 h)
 *
 * @example
 * ```ts
 * const overlapMs = tokenRotationOverlapMsFromEnv(process.env);
 * ```
 */
export function tokenRotationOverlapMsFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.AGENT_TOKEN_ROTATION_OVERLAP_MS?.trim();
  if (!raw) return DEFAULT_TOKEN_ROTATION_OVERLAP_MS;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new TypeError(`AGENT_TOKEN_ROTATION_OVERLAP_MS must be an integer >= 0, got "${raw.slice(0, 20)}"`);
  return n;
}

/**
 * Marks agents of an organization (one, or all that are not revoked) for rotation and puts their
 * current token on the clock: it is refused after `now + overlapMs` (an earlier deadline is kept).
 * Returns the agents marked and their deadline.
 *
 * @example
 * ```ts
 * const rows = await markTokenRotation(pool, { organizationId, agentId, overlapMs });
 * ```
 */
export async function markTokenRotation(
  db: Queryable,
  target: { organizationId: string; agentId?: string; overlapMs: number },
): Promise<Array<{ agentId: string; oldTokenValidUntil: Date }>> {
  const { rows } = await db.query<{ id: string; token_expires_at: Date }>(
    `UPDATE organization_agents
        SET token_rotation_requested_at = now(),
            token_expires_at = LEAST(COALESCE(token_expires_at, 'infinity'::timestamptz), now() + make_interval(secs => $3::double precision / 1000))
      WHERE organization_id = $1 AND ($2::uuid IS NULL OR id = $2::uuid) AND revoked_at IS NULL
      RETURNING id, token_expires_at`,
    [target.organizationId, target.agentId ?? null, target.overlapMs],
  );
  return rows.map((r) => ({ agentId: r.id, oldTokenValidUntil: r.token_expires_at }));
}

/** Records a freshly minted token's hash as pending for the agent; false if the agent is gone or revoked. */
export async function setPendingToken(db: Queryable, agentId: string, tokenHash: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE organization_agents SET pending_token_hash = $2 WHERE id = $1 AND revoked_at IS NULL', [
    agentId,
    tokenHash,
  ]);
  return (rowCount ?? 0) > 0;
}

/**
 * Makes the pending token current. The replaced token stays valid until its rotation deadline, or
 * `now + overlapMs` when it had none, whichever is earlier. False if that token is no longer pending.
 */
export async function activatePendingToken(db: Queryable, agentId: string, tokenHash: string, overlapMs: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE organization_agents
        SET previous_token_hash = token_hash,
            previous_valid_until = LEAST(COALESCE(token_expires_at, 'infinity'::timestamptz), now() + make_interval(secs => $3::double precision / 1000)),
            token_hash = pending_token_hash, pending_token_hash = NULL,
            token_expires_at = NULL, token_rotation_requested_at = NULL, token_rotated_at = now()
      WHERE id = $1 AND pending_token_hash = $2 AND revoked_at IS NULL`,
    [agentId, tokenHash, overlapMs],
  );
  return (rowCount ?? 0) > 0;
}

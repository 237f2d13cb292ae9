import { type Pool, activatePendingToken } from '@vespid/example-db';
import { type Logger, hashToken, parseToken } from '@vespid/protocol';
import type { AgentAuthenticator, AgentHelloInfo, AgentSeen } from '@vespid/sdk-gateway';

interface AgentRow {
  id: string;
  organization_id: string;
  name: string;
  tags: string[];
  max_in_flight: number | null;
  revoked_at: Date | null;
  paused: boolean;
  /** Which of the agent's token hashes matched (migration 0008): the current one, pending, or previous. */
  matched: 'current' | 'pending' | 'previous';
  /** The matched token is past its deadline (current: token_expires_at, previous: previous_valid_until). */
  expired: boolean;
  rotation_requested: boolean;
}

/**
 * Authenticates agent tokens against `organization_agents` (by SHA-256 token hash, never the token)
 * and writes liveness back: one batched UPDATE of `last_seen_at` per flush for many agents, and
 * `reported_tags`/`capabilities` on hello. The org id in the token prefix must match the row's.
 *
 * @example
 * ```ts
 * const agents = postgresAgents(pool, logger);
 * const gateway = createGateway({ authenticator: agents.authenticator });
 * gateway.on('agents.seen', agents.touch);
 * gateway.on('agent.connected', agents.hello);
 * ```
 */
export function postgresAgents(pool: Pool, logger: Logger, options: { overlapMs: number }) {
  const writes = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>, what: string) => {
    const q = p.catch((err: unknown) => logger.warn({ err: (err as Error).message }, `${what} failed`)).finally(() => writes.delete(q));
    writes.add(q);
    return q;
  };
  const authenticator: AgentAuthenticator = {
    async authenticate(token) {
      const parsed = parseToken(token);
      if (!parsed) return { ok: false, reason: 'invalid' };
      const hash = hashToken(token);
      const { rows } = await pool.query<AgentRow>(
        // Read through to_jsonb(a): tolerant of a database without migration 0006 (never paused then) or
        // 0007 (never pending). An agent pending approval is withheld from selection exactly like a
        // paused one; approval publishes `agent_resumed`, which makes it eligible and offers it the queue.
        // A token matches as current, pending (sent by a rotation, not yet acknowledged) or previous
        // (replaced by a rotation, accepted until previous_valid_until).
        `SELECT id, organization_id, name, tags, max_in_flight, revoked_at,
                COALESCE(to_jsonb(a)->>'paused_at', '') <> '' OR COALESCE(to_jsonb(a)->>'approval_status', '') = 'pending' AS paused,
                CASE WHEN token_hash = $1 THEN 'current' WHEN pending_token_hash = $1 THEN 'pending' ELSE 'previous' END AS matched,
                CASE WHEN token_hash = $1 THEN token_expires_at <= now()
                     WHEN pending_token_hash = $1 THEN false
                     ELSE previous_valid_until IS NULL OR previous_valid_until <= now() END AS expired,
                token_rotation_requested_at IS NOT NULL AS rotation_requested
           FROM organization_agents a WHERE token_hash = $1 OR pending_token_hash = $1 OR previous_token_hash = $1`,
        [hash],
      );
      const row = rows[0];
      if (!row || row.organization_id !== parsed.organizationId) return { ok: false, reason: 'invalid' };
      if (row.revoked_at) return { ok: false, reason: 'revoked' };
      if (row.expired) return { ok: false, reason: 'expired' };
      // The agent connects with the token it was sent: it saved it, so the acknowledgement that was lost
      // (crash or disconnect between save and ack) is implied.
      if (row.matched === 'pending') {
        await activatePendingToken(pool, row.id, hash, options.overlapMs);
        logger.info({ agentId: row.id, organizationId: row.organization_id }, 'agent connected with its new token: rotation completed');
      }
      return {
        ok: true,
        agent: {
          agentId: row.id,
          organizationId: row.organization_id,
          tags: row.tags ?? [],
          maxInFlight: row.max_in_flight,
          name: row.name,
          paused: row.paused,
          // Still on the old token (offline during the rotation, or it lost the new one): rotate on hello.
          rotateToken: row.matched === 'previous' || (row.matched === 'current' && row.rotation_requested),
        },
      };
    },
  };
  return {
    authenticator,
    /** One UPDATE for the whole batch; never one per ping. */
    touch(batch: AgentSeen[]): Promise<unknown> {
      return track(
        pool.query(
          `UPDATE organization_agents a SET last_seen_at = GREATEST(COALESCE(a.last_seen_at, v.seen), v.seen)
             FROM (SELECT unnest($1::uuid[]) AS id, unnest($2::timestamptz[]) AS seen) v
            WHERE a.id = v.id AND a.revoked_at IS NULL`,
          [batch.map((b) => b.agentId), batch.map((b) => new Date(b.seenAt).toISOString())],
        ),
        'last_seen_at update',
      );
    },
    /**
     * Stores what the agent reported: tags and capabilities (also kept in the `capabilities` JSON, which
     * the agents list already returns, with `agentVersion` and `host`), plus the version and host in
     * their own columns (migration 0005). An older agent without `host` leaves the host columns as they were.
     */
    hello(info: AgentHelloInfo): Promise<unknown> {
      const host = info.host;
      return track(
        pool.query(
          `UPDATE organization_agents
              SET reported_tags = $2, capabilities = $3, last_seen_at = now(), last_hello_at = now(), agent_version = $4,
                  host_os = COALESCE($5, host_os), host_arch = COALESCE($6, host_arch),
                  host_name = COALESCE($7, host_name), node_version = COALESCE($8, node_version)
            WHERE id = $1`,
          [
            info.agentId,
            info.capabilities.tags ?? [],
            JSON.stringify({ ...info.capabilities, agentVersion: info.agentVersion, name: info.name, ...(host ? { host } : {}) }),
            info.agentVersion,
            host?.os ?? null,
            host?.arch ?? null,
            host?.hostname ?? null,
            host?.nodeVersion ?? null,
          ],
        ),
        'hello update',
      );
    },
    /** Waits for liveness writes in progress (before closing the pool). */
    async settle(): Promise<void> {
      await Promise.all([...writes]);
    },
  };
}

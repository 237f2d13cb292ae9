// #region db-authenticator
import { generateToken, hashToken, parseToken } from '@vespid/protocol';
import type { AgentAuthenticator } from '@vespid/sdk-gateway';
import type pg from 'pg';

/**
 * An {@link AgentAuthenticator} over your own `agents` table. Only the SHA-256 of a token is stored
 * (tokens carry 256 bits of entropy, so no salt is needed); lookups go by that hash, so the token
 * itself never reaches a query log. The organization in the token prefix must match the row.
 *
 * @example
 * ```ts
 * const agents = myAgentsTable(pool, 'my_app');
 * await agents.migrate();
 * const { token } = await agents.create({ organizationId: 'acme', name: 'edge-1', tags: ['group:alpha'] });
 * createGateway({ authenticator: agents.authenticator, serviceToken });
 * ```
 */
export function myAgentsTable(pool: pg.Pool, schema: string) {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new TypeError('schema must be a plain identifier');
  const table = `"${schema}".agents`;

  const authenticator: AgentAuthenticator = {
    async authenticate(token) {
      const parsed = parseToken(token); // `<orgId>.<secret>`; null when malformed
      if (!parsed) return { ok: false, reason: 'invalid' };
      const { rows } = await pool.query<{ id: string; org_id: string; tags: string[]; max_in_flight: number | null; revoked: boolean }>(
        `SELECT id, org_id, tags, max_in_flight, revoked_at IS NOT NULL AS revoked FROM ${table} WHERE token_hash = $1`,
        [hashToken(token)],
      );
      const row = rows[0];
      if (!row || row.org_id !== parsed.organizationId) return { ok: false, reason: 'invalid' }; // → HTTP 401
      if (row.revoked) return { ok: false, reason: 'revoked' }; // → HTTP 403
      // A thrown error (database down) becomes HTTP 503: the agent retries with backoff.
      return { ok: true, agent: { agentId: row.id, organizationId: row.org_id, tags: row.tags, maxInFlight: row.max_in_flight } };
    },
  };

  return {
    authenticator,
    async migrate(): Promise<void> {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
      await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (
        id text PRIMARY KEY DEFAULT gen_random_uuid()::text,
        org_id text NOT NULL,
        name text NOT NULL,
        token_hash text NOT NULL UNIQUE,
        tags text[] NOT NULL DEFAULT '{}',
        max_in_flight int,
        revoked_at timestamptz)`);
    },
    /** Creates an agent and returns its token: show it once, it cannot be recovered. */
    async create(agent: { organizationId: string; name: string; tags?: string[] }): Promise<{ agentId: string; token: string }> {
      const token = generateToken(agent.organizationId);
      const { rows } = await pool.query<{ id: string }>(
        `INSERT INTO ${table} (org_id, name, token_hash, tags) VALUES ($1, $2, $3, $4) RETURNING id`,
        [agent.organizationId, agent.name, hashToken(token), agent.tags ?? []],
      );
      return { agentId: rows[0]?.id ?? '', token };
    },
    async revoke(agentId: string): Promise<void> {
      await pool.query(`UPDATE ${table} SET revoked_at = now() WHERE id = $1`, [agentId]);
    },
  };
}
// #endregion db-authenticator

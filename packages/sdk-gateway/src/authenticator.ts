import { tokensEqual } from '@vespid/protocol';

/**
 * The identity the control plane vouches for. Routing trusts only these fields, never `hello`.
 * @example
 * ```ts
 * const agent: AuthenticatedAgent = { agentId: 'a1', organizationId: 'org1', tags: ['group:alpha'], maxInFlight: 4 };
 * ```
 */
export interface AuthenticatedAgent {
  agentId: string;
  organizationId: string;
  /** Control-plane tags used for routing (`east`, `group:alpha`). */
  tags: readonly string[];
  /** Control-plane concurrency cap; effective cap is `min(reported, this)`. */
  maxInFlight?: number | null;
  name?: string | null;
  /** Paused (cordoned) by the control plane: connected, finishes its work, gets no new work. */
  paused?: boolean | undefined;
  /**
   * The control plane wants this agent's token rotated (a rotation was requested, or the agent used
   * its previous token inside the overlap window): with a {@link TokenRotator} configured, the gateway
   * sends `rotate_token` right after `hello_ack` if the agent supports it.
   */
  rotateToken?: boolean | undefined;
}

/**
 * Outcome of {@link AgentAuthenticator.authenticate}.
 * @example
 * ```ts
 * const result: AuthResult = row ? { ok: true, agent } : { ok: false, reason: 'invalid' };
 * ```
 */
export type AuthResult = { ok: true; agent: AuthenticatedAgent } | { ok: false; reason: 'invalid' | 'revoked' | 'expired' };

/**
 * Maps an agent token to an agent identity. Called once per WebSocket upgrade, before upgrading:
 * `invalid` → HTTP 401, `expired` → HTTP 401 `AGENT_TOKEN_EXPIRED` (rotated
 * and past its overlap window: the agent must be paired again), `revoked` → HTTP 403. A throw → HTTP 503 (the control plane is unavailable).
 *
 * @example
 * ```ts
 * const authenticator: AgentAuthenticator = {
 *   async authenticate(token) {
 *     const row = await db.findAgentByTokenHash(hashToken(token));
 *     if (!row) return { ok: false, reason: 'invalid' };
 *     if (row.revokedAt) return { ok: false, reason: 'revoked' };
 *     return { ok: true, agent: { agentId: row.id, organizationId: row.orgId, tags: row.tags } };
 *   },
 * };
 * ```
 */
export interface AgentAuthenticator {
  authenticate(token: string, context: { remoteAddress: string | undefined }): Promise<AuthResult>;
}

/**
 * Mints and activates agent tokens for in-band rotation (`rotate_token`). The gateway calls `issue`
 * when a rotation is due for a connected agent that supports it, sends the token on that agent's
 * socket only, and calls `activate` once the agent acknowledged that it saved it. Implementations
 * store hashes, never tokens, and keep the old token valid for their overlap window.
 *
 * @example
 * ```ts
 * const rotator: TokenRotator = {
 *   async issue(agent) { const token = generateToken(agent.organizationId); await db.setPending(agent.agentId, hashToken(token)); return { token }; },
 *   async activate(agent, token) { await db.promotePending(agent.agentId, hashToken(token)); },
 * };
 * ```
 */
export interface TokenRotator {
  /** A new token for the agent, recorded as pending (not yet usable as the current token). */
  issue(agent: { agentId: string; organizationId: string }): Promise<{ token: string; expiresAt?: number | undefined }>;
  /** The agent saved `token`: make it the current token; the previous one stays valid for the overlap. */
  activate(agent: { agentId: string; organizationId: string }, token: string): Promise<void>;
}

/**
 * A token → agent entry for {@link staticAuthenticator}.
 * @example
 * ```ts
 * const entry: StaticAgentEntry = { token, agentId: 'a1', organizationId: 'org1', tags: [], revoked: false };
 * ```
 */
export interface StaticAgentEntry extends AuthenticatedAgent {
  token: string;
  revoked?: boolean;
}

/**
 * An in-memory authenticator for tests, demos and single-tenant setups. Tokens are compared in
 * constant time. Entries can be changed later through the returned `set`/`revoke` helpers.
 *
 * @example
 * ```ts
 * const auth = staticAuthenticator([{ token: 'org1.aaaaaaaaaaaaaaaaaaaa', agentId: 'a1', organizationId: 'org1', tags: [] }]);
 * createGateway({ authenticator: auth, serviceToken });
 * ```
 */
export function staticAuthenticator(entries: readonly StaticAgentEntry[]): AgentAuthenticator & {
  set(entry: StaticAgentEntry): void;
  revoke(agentId: string): void;
} {
  const list = new Map<string, StaticAgentEntry>();
  for (const e of entries) list.set(e.agentId, { ...e });
  return {
    async authenticate(token) {
      for (const e of list.values()) {
        if (!tokensEqual(token, e.token)) continue;
        if (e.revoked) return { ok: false, reason: 'revoked' };
        const { token: _t, revoked: _r, ...agent } = e;
        return { ok: true, agent };
      }
      return { ok: false, reason: 'invalid' };
    },
    set(entry) {
      list.set(entry.agentId, { ...entry });
    },
    revoke(agentId) {
      const e = list.get(agentId);
      if (e) e.revoked = true;
    },
  };
}

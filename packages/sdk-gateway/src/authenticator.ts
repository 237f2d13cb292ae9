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
}

/**
 * Outcome of {@link AgentAuthenticator.authenticate}.
 * @example
 * ```ts
 * const result: AuthResult = row ? { ok: true, agent } : { ok: false, reason: 'invalid' };
 * ```
 */
export type AuthResult = { ok: true; agent: AuthenticatedAgent } | { ok: false; reason: 'invalid' | 'revoked' };

/**
 * Maps an agent token to an agent identity. Called once per WebSocket upgrade, before upgrading:
 * `invalid` → HTTP 401, `revoked` → HTTP 403. A throw → HTTP 503 (the control plane is unavailable).
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

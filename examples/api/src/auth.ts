/**
 * Authentication and tenancy guard. `Authorization: Bearer <access token>` identifies the user and the
 * one organization the token was minted for (its scope); org routes also need `X-Org-Id` equal to
 * `:orgId` (missing → 400, mismatch → 400), a token scoped to that organization (else 403), and a
 * membership (none → 403), optionally with one of the given roles (else 403).
 */
import { bearerToken, hashToken } from '@vespid/protocol';
import type { FastifyRequest } from 'fastify';
import type { Pool } from '@vespid/example-db';
import { ApiError } from './errors.js';
import { isUuid } from './http.js';
import type { Role } from './roles.js';

export { MANAGER_ROLES, type Role } from './roles.js';

/** What the guard attaches to the request. */
export interface AuthContext {
  userId: string;
  email: string;
  /** The organization the access token was minted for: the only one it opens. */
  tokenOrganizationId: string;
  /** Set on org routes. */
  organizationId?: string;
  role?: Role;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthContext;
  }
}

/** Resolves the access token of a request to its user; throws 401 otherwise. */
export async function authenticateUser(pool: Pool, request: FastifyRequest): Promise<AuthContext> {
  const token = bearerToken(request.headers.authorization);
  if (!token || token.length > 512) throw new ApiError('UNAUTHORIZED', 'missing or malformed Authorization: Bearer <access token>');
  const { rows } = await pool.query<{ id: string; email: string; organization_id: string }>(
    `SELECT u.id, u.email, t.organization_id FROM access_tokens t JOIN users u ON u.id = t.user_id
      WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.organization_id IS NOT NULL
        AND (t.expires_at IS NULL OR t.expires_at > now())`,
    [hashToken(token)],
  );
  const row = rows[0];
  if (!row) throw new ApiError('UNAUTHORIZED', 'invalid or expired access token');
  return { userId: row.id, email: row.email, tokenOrganizationId: row.organization_id };
}

/**
 * A preHandler for `/v1/orgs/:orgId/...` routes.
 *
 * @example
 * ```ts
 * app.post('/v1/orgs/:orgId/agents/pairing-tokens', { preHandler: requireOrg(pool, MANAGER_ROLES) }, handler);
 * ```
 */
export function requireOrg(pool: Pool, roles?: readonly Role[]) {
  return async (request: FastifyRequest): Promise<void> => {
    const auth = await authenticateUser(pool, request);
    const orgId = (request.params as { orgId?: string }).orgId;
    const header = request.headers['x-org-id'];
    const headerValue = Array.isArray(header) ? header[0] : header;
    if (!headerValue) throw new ApiError('BAD_REQUEST', 'missing X-Org-Id header');
    if (!orgId || headerValue.toLowerCase() !== orgId.toLowerCase()) {
      throw new ApiError('BAD_REQUEST', 'X-Org-Id does not match the organization in the path');
    }
    if (!isUuid(orgId)) throw new ApiError('BAD_REQUEST', 'organization id must be a uuid');
    // Before the membership: an account in several orgs must not reach org B with a token minted in A.
    if (auth.tokenOrganizationId !== orgId.toLowerCase()) {
      throw new ApiError('FORBIDDEN', 'this access token was issued for another organization');
    }
    const { rows } = await pool.query<{ role: Role }>('SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2', [
      orgId,
      auth.userId,
    ]);
    const role = rows[0]?.role;
    if (!role) throw new ApiError('FORBIDDEN', 'not a member of this organization');
    if (roles && !roles.includes(role)) throw new ApiError('FORBIDDEN', `requires role ${roles.join(' or ')}`);
    request.auth = { ...auth, organizationId: orgId.toLowerCase(), role };
  };
}

/** The org context set by {@link requireOrg}. */
export function orgOf(request: FastifyRequest): { organizationId: string; userId: string; role: Role } {
  const a = request.auth;
  if (!a?.organizationId || !a.role) throw new ApiError('INTERNAL_ERROR', 'route is missing its org guard');
  return { organizationId: a.organizationId, userId: a.userId, role: a.role };
}

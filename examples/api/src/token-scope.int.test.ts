/**
 * Access tokens open only the organization they were minted for. One account owns org A and org B;
 * its token minted in A is sent to every org route of B, enumerated from the app's own route table so
 * a route added later is walked too. Each must answer 403 — and the token minted in B must not, so
 * the 403 is the scope and nothing else. Every answer is `Cache-Control: no-store`.
 */
import { randomUUID } from 'node:crypto';
import { hashToken } from '@vespid/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../test/services.js';
import { type TestApi, startTestApi } from '../test/testing.js';
import { bootstrapOrganization } from './users.js';

/**
 * Routes outside `/v1/orgs/:orgId` that take an access token, an agent's own token (deregister and
 * rotate-token: they act on that agent only, rotation never returns a token) or none; a new one must be
 * reviewed here.
 */
const ACCOUNT_ROUTES = [
  'GET /v1/me',
  'POST /v1/agents/pair',
  'POST /v1/agents/deregister',
  'POST /v1/agents/rotate-token',
  'POST /v1/invitations/accept',
];

await describeWith(['postgres', 'redis'], 'api access-token scope', () => {
  let api: TestApi;
  let a: { orgId: string; userId: string; accessToken: string };
  let b: { orgId: string; userId: string; accessToken: string };
  beforeAll(async () => {
    api = await startTestApi();
    const email = `${uniquePrefix('both')}@example.test`;
    a = await bootstrapOrganization(api.pool, { orgName: 'Scope A', email });
    b = await bootstrapOrganization(api.pool, { orgName: 'Scope B', email });
  });
  afterAll(() => api?.close());

  const orgRoutes = () => api.routes.filter((r) => r.url.startsWith('/v1/orgs/:orgId'));
  const fill = (url: string, orgId: string) => url.replace(':orgId', orgId).replace(/:[A-Za-z]+/g, () => randomUUID());
  const send = (route: { method: string; url: string }, orgId: string, token: string) =>
    api.call(route.method, fill(route.url, orgId), { token, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: {} }) });

  it('the same account holds both orgs, but /v1/me shows only the org of the token', async () => {
    expect(a.userId).toBe(b.userId);
    const me = await api.call('GET', '/v1/me', { token: a.accessToken });
    expect(me.body).toMatchObject({ userId: a.userId, scope: { organizationId: a.orgId } });
    expect(me.body.memberships).toEqual([{ organizationId: a.orgId, name: 'Scope A', role: 'owner' }]);
  });

  it('every org route of B refuses the token minted in A with 403, and accepts the one minted in B', async () => {
    const routes = orgRoutes();
    // The table is the app's: members, agents, secrets, workflows and runs are all in it.
    expect(routes.length).toBeGreaterThanOrEqual(20);
    for (const family of ['members', 'agents', 'secrets', 'workflows', 'runs']) {
      expect(
        routes.some((r) => r.url.includes(`/${family}`)),
        family,
      ).toBe(true);
    }
    const outcomes: string[] = [];
    for (const route of routes) {
      const foreign = await send(route, b.orgId, a.accessToken);
      outcomes.push(`${route.method} ${route.url} → ${foreign.status}`);
      expect(foreign.status, `${route.method} ${route.url}`).toBe(403);
      expect(foreign.body, `${route.method} ${route.url}`).toMatchObject({
        code: 'FORBIDDEN',
        message: 'this access token was issued for another organization',
      });
      expect(foreign.headers.get('cache-control'), `${route.method} ${route.url}`).toBe('no-store');
      const own = await send(route, b.orgId, b.accessToken);
      expect(own.status, `${route.method} ${route.url} with B's token`).not.toBe(403);
      expect(own.status, `${route.method} ${route.url} with B's token`).toBeLessThan(500);
      expect(own.headers.get('cache-control')).toBe('no-store');
    }
    expect(outcomes).toHaveLength(routes.length);
  });

  it('routes outside an organization are only the reviewed ones', () => {
    const outside = api.routes
      .filter((r) => r.url.startsWith('/v1/') && !r.url.startsWith('/v1/orgs/:orgId'))
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(outside).toEqual([...ACCOUNT_ROUTES].sort());
  });

  it('the schema refuses a live token without a scope; a revoked token opens nothing', async () => {
    const { rows } = await api.pool.query<{ id: string }>(
      "INSERT INTO access_tokens (user_id, organization_id, token_hash, label) VALUES ($1, $2, 'x', 'probe') RETURNING id",
      [a.userId, a.orgId],
    );
    // The schema refuses a live token without a scope.
    await expect(api.pool.query('UPDATE access_tokens SET organization_id = NULL WHERE id = $1', [rows[0]!.id])).rejects.toThrow(
      /access_tokens_scoped/,
    );
    await api.pool.query('UPDATE access_tokens SET revoked_at = now() WHERE token_hash = $1', [hashToken(a.accessToken)]);
    const res = await api.call('GET', '/v1/me', { token: a.accessToken });
    expect(res.status).toBe(401);
  });
});

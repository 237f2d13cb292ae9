import { randomUUID } from 'node:crypto';
import { hashToken } from '@vespid/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../../../test/services.js';
import { type TestApi, startTestApi } from '../test/testing.js';
import { addMember } from './users.js';

await describeWith(['postgres', 'redis'], 'api auth, tenancy and roles', () => {
  let api: TestApi;
  let a: { orgId: string; userId: string; accessToken: string };
  let b: { orgId: string; userId: string; accessToken: string };
  beforeAll(async () => {
    api = await startTestApi();
    a = await api.org('A');
    b = await api.org('B');
  });
  afterAll(() => api?.close());

  it('bootstrap creates an org, its owner and a working access token stored only as a hash', async () => {
    const me = await api.call('GET', '/v1/me', { token: a.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ userId: a.userId, memberships: [{ organizationId: a.orgId, role: 'owner', name: 'A' }] });
    const stored = await api.pool.query('SELECT token_hash FROM access_tokens WHERE user_id = $1', [a.userId]);
    expect(stored.rows).toEqual([{ token_hash: hashToken(a.accessToken) }]);
  });

  it('refuses missing or wrong access tokens with 401', async () => {
    expect((await api.call('GET', `/v1/orgs/${a.orgId}/agents`)).body).toMatchObject({ code: 'UNAUTHORIZED' });
    const wrong = await api.call('GET', `/v1/orgs/${a.orgId}/agents`, { token: 'vat_nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('UNAUTHORIZED');
  });

  it('applies the X-Org-Id rules: missing → 400, mismatch → 400, not a member → 403', async () => {
    const missing = await api.call('GET', `/v1/orgs/${a.orgId}/agents`, { token: a.accessToken, orgId: null });
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('X-Org-Id') });
    const mismatch = await api.call('GET', `/v1/orgs/${a.orgId}/agents`, { token: a.accessToken, orgId: b.orgId });
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.code).toBe('BAD_REQUEST');
    const notMember = await api.call('GET', `/v1/orgs/${b.orgId}/agents`, { token: a.accessToken });
    expect(notMember.status).toBe(403);
    expect(notMember.body.code).toBe('FORBIDDEN');
    const ok = await api.call('GET', `/v1/orgs/${a.orgId}/agents`, { token: a.accessToken });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ agents: [], staleMs: 60_000, live: 'not_configured' });
  });

  it('lets a member read but not create pairing tokens, revoke, or manage secrets', async () => {
    const member = await addMember(api.pool, { organizationId: a.orgId, email: `m-${randomUUID()}@example.test`, role: 'member' });
    expect((await api.call('GET', `/v1/orgs/${a.orgId}/agents`, { token: member.accessToken })).status).toBe(200);
    const pairing = await api.call('POST', `/v1/orgs/${a.orgId}/agents/pairing-tokens`, { token: member.accessToken });
    expect(pairing.status).toBe(403);
    expect(pairing.body.code).toBe('FORBIDDEN');
    const secret = await api.call('POST', `/v1/orgs/${a.orgId}/secrets`, {
      token: member.accessToken,
      body: { name: 's', connectorId: 'http', value: 'x' },
    });
    expect(secret.status).toBe(403);
    const count = await api.pool.query('SELECT count(*)::int AS n FROM agent_pairing_tokens WHERE organization_id = $1', [a.orgId]);
    expect(count.rows[0].n).toBe(0);
  });

  it('lets an admin create pairing tokens and invite members, but only an owner invite an owner', async () => {
    const added = await api.call('POST', `/v1/orgs/${a.orgId}/members`, {
      token: a.accessToken,
      body: { email: `adm-${randomUUID()}@example.test`, role: 'admin' },
    });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ status: 'invited', role: 'admin', invitationToken: expect.stringMatching(/^vinv_/) });
    expect(added.body.accessToken).toBeUndefined();
    const accepted = await api.call('POST', '/v1/invitations/accept', { body: { invitationToken: added.body.invitationToken } });
    expect(accepted.status).toBe(201);
    const admin = accepted.body as { accessToken: string; role: string; organizationId: string };
    expect(admin).toMatchObject({ role: 'admin', organizationId: a.orgId });
    expect((await api.call('POST', `/v1/orgs/${a.orgId}/agents/pairing-tokens`, { token: admin.accessToken })).status).toBe(201);
    const owner = await api.call('POST', `/v1/orgs/${a.orgId}/members`, {
      token: admin.accessToken,
      body: { email: `own-${randomUUID()}@example.test`, role: 'owner' },
    });
    expect(owner.status).toBe(403);
    const list = await api.call('GET', `/v1/orgs/${a.orgId}/members`, { token: admin.accessToken });
    expect(list.body.members.map((m: { role: string }) => m.role).sort()).toEqual(['admin', 'member', 'owner']);
  });

  it('answers unknown routes and bad JSON with {code, message}', async () => {
    const notFound = await api.call('GET', '/v1/nope', { token: a.accessToken });
    expect(notFound.status).toBe(404);
    expect(notFound.body).toMatchObject({ code: 'NOT_FOUND', message: expect.any(String) });
    const res = await fetch(`${api.url}/v1/orgs/${a.orgId}/workflows`, {
      method: 'POST',
      headers: { authorization: `Bearer ${a.accessToken}`, 'x-org-id': a.orgId, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('never writes an access token into a log line', () => {
    const all = api.logs.join('\n');
    expect(api.logs.length).toBeGreaterThan(0);
    expect(all).not.toContain(a.accessToken);
    expect(all).not.toContain(b.accessToken);
  });
});

await describeWith(['postgres', 'redis'], 'api auth rate limit', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ rateLimitMax: 5 });
  });
  afterAll(() => api?.close());

  it('returns 429 RATE_LIMITED per client address once the window is used up', async () => {
    const statuses: number[] = [];
    let limited: { code?: string } | undefined;
    for (let i = 0; i < 8; i++) {
      const res = await api.call('GET', '/v1/me', { token: 'vat_guessing' });
      statuses.push(res.status);
      if (res.status === 429) limited = res.body;
    }
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    expect(statuses.slice(5)).toEqual([429, 429, 429]);
    expect(limited).toMatchObject({ code: 'RATE_LIMITED' });
  });
});

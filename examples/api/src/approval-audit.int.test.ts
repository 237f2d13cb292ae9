/**
 * Admin approval and the audit log on real Postgres and Redis: the `agentApproval` setting (auto by
 * default), a manual-mode pairing that starts pending with proposed tags (and that the gateway's
 * authenticator reports paused), approve (control-plane tags, `agent_tags_updated` + `agent_resumed`
 * on the bus), reject (revoked: the gateway's authenticator refuses the token), role checks, and the
 * audit API with cursor paging and filters. Canary: no pairing token, agent token or secret value in
 * any audit row or answer.
 */
import { randomBytes } from 'node:crypto';
import { hashToken, noopLogger } from '@vespid/protocol';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL, describeWith } from '../../../test/services.js';
// The gateway's Postgres authenticator is another example package: a test-only edge, imported by path.
import { postgresAgents } from '../../gateway/src/pg-agents.js';
import { AUDIT_EVENT_TYPES } from './audit/audit-log.js';
import { CONTROL_CHANNEL, type ControlEvent } from './control-bus.js';
import { type TestApi, startTestApi } from '../test/testing.js';
import { addMember } from './users.js';
import { waitFor } from '../../../test/support/wait-for.js';

await describeWith(['postgres', 'redis'], 'api agent approval and audit log', () => {
  let api: TestApi;
  let org: { orgId: string; userId: string; accessToken: string };
  let member: { accessToken: string };
  let sub: Redis;
  const control: ControlEvent[] = [];
  const answers: string[] = [];
  const planted: string[] = [];

  beforeAll(async () => {
    api = await startTestApi();
    org = await api.org('Approvals');
    member = await addMember(api.pool, { organizationId: org.orgId, email: `m-${randomBytes(4).toString('hex')}@x.test`, role: 'member' });
    sub = new Redis(REDIS_URL);
    sub.on('message', (_channel, message) => control.push(JSON.parse(message)));
    await sub.subscribe(CONTROL_CHANNEL);
  });
  afterAll(async () => {
    await sub?.quit();
    await api?.close();
  });

  const call = async (method: string, path: string, options: { token?: string; body?: unknown } = {}) => {
    const res = await api.call(method, `/v1/orgs/${org.orgId}${path}`, { token: org.accessToken, ...options });
    answers.push(res.text);
    return res;
  };
  const pairAgent = async (name: string, tags?: string[]) => {
    const t = await call('POST', '/agents/pairing-tokens');
    expect(t.status).toBe(201);
    planted.push(t.body.pairingToken);
    const res = await api.call('POST', '/v1/agents/pair', { body: { pairingToken: t.body.pairingToken, name, ...(tags ? { tags } : {}) } });
    answers.push(res.text);
    expect(res.status).toBe(201);
    planted.push(res.body.agentToken);
    return res.body as { agentId: string; agentToken: string; approval?: string };
  };
  /** What the gateway's Postgres authenticator answers for a token at connect. */
  const gatewayAuth = (token: string) =>
    postgresAgents(api.pool, noopLogger, { overlapMs: 60_000 }).authenticator.authenticate(token, { remoteAddress: undefined });
  const waitForControl = (type: string, agentId: string) =>
    waitFor(() => control.find((e) => e.type === type && 'agentId' in e && e.agentId === agentId), `${type} for ${agentId}`);

  it('agentApproval defaults to auto: a paired agent is approved with its tags, the answer is the runbook one', async () => {
    expect((await call('GET', '/settings', { token: member.accessToken })).body).toEqual({ agentApproval: 'auto' });
    const paired = await pairAgent('auto-box', ['east']);
    expect(Object.keys(paired).sort()).toEqual(['agentId', 'agentToken', 'gatewayWsUrl', 'organizationId']);
    const agent = (await call('GET', `/agents/${paired.agentId}`)).body;
    expect(agent).toMatchObject({ approval: 'approved', tags: ['east'], proposedTags: [] });
    const auth = await gatewayAuth(paired.agentToken);
    expect(auth).toMatchObject({ ok: true, agent: { paused: false, tags: ['east'] } });
  });

  it('only owners and admins change the setting; values are checked', async () => {
    expect((await call('PATCH', '/settings', { token: member.accessToken, body: { agentApproval: 'manual' } })).status).toBe(403);
    expect((await call('PATCH', '/settings', { body: { agentApproval: 'sometimes' } })).status).toBe(400);
    expect((await call('PATCH', '/settings', { body: { agentApproval: 'manual' } })).body).toEqual({ agentApproval: 'manual' });
    expect((await call('GET', '/settings')).body).toEqual({ agentApproval: 'manual' });
  });

  it('manual: a paired agent is pending, its tags only proposed, and the gateway withholds it like a paused one', async () => {
    const paired = await pairAgent('pending-box', ['gpu', 'group:lab']);
    expect(paired.approval).toBe('pending');
    const agent = (await call('GET', `/agents/${paired.agentId}`)).body;
    expect(agent).toMatchObject({ approval: 'pending', tags: [], proposedTags: ['gpu', 'group:lab'], paused: false });
    const listed = (await call('GET', '/agents?status=pending')).body.agents.map((a: { id: string }) => a.id);
    expect(listed).toEqual([paired.agentId]);
    const auth = await gatewayAuth(paired.agentToken);
    expect(auth).toMatchObject({ ok: true, agent: { agentId: paired.agentId, paused: true, tags: [] } });
    // Resume would make it eligible: only approval may.
    const resume = await call('POST', `/agents/${paired.agentId}/resume`);
    expect(resume.status).toBe(409);
    expect(resume.body.code).toBe('CONFLICT');
  });

  it('approve: a member may not; the owner approves with the proposed tags, pushed to the gateways', async () => {
    const paired = await pairAgent('approve-me', ['gpu']);
    expect((await call('POST', `/agents/${paired.agentId}/approve`, { token: member.accessToken })).status).toBe(403);
    expect((await call('POST', `/agents/${paired.agentId}/reject`, { token: member.accessToken })).status).toBe(403);
    const approved = await call('POST', `/agents/${paired.agentId}/approve`);
    expect(approved.status).toBe(200);
    expect(approved.body).toEqual({ agentId: paired.agentId, approval: 'approved', tags: ['gpu'], paused: false, propagated: true });
    expect(await waitForControl('agent_tags_updated', paired.agentId)).toMatchObject({ tags: ['gpu'] });
    await waitForControl('agent_resumed', paired.agentId);
    const auth = await gatewayAuth(paired.agentToken);
    expect(auth).toMatchObject({ ok: true, agent: { paused: false, tags: ['gpu'] } });
    // Idempotent, and a rejected-after-approved is refused (revoke is the verb then).
    expect((await call('POST', `/agents/${paired.agentId}/approve`)).status).toBe(200);
    expect((await call('POST', `/agents/${paired.agentId}/reject`)).status).toBe(409);
  });

  it('approve with tags of the admin’s choosing: control-plane tags stay the authority', async () => {
    const paired = await pairAgent('retag-me', ['prod', 'group:all']);
    const approved = await call('POST', `/agents/${paired.agentId}/approve`, { body: { tags: ['staging'] } });
    expect(approved.body.tags).toEqual(['staging']);
    expect((await call('GET', `/agents/${paired.agentId}`)).body).toMatchObject({ tags: ['staging'], proposedTags: ['prod', 'group:all'] });
  });

  it('reject revokes: bus event, the gateway refuses the token, approval afterwards is a conflict', async () => {
    const paired = await pairAgent('reject-me', ['x']);
    const rejected = await call('POST', `/agents/${paired.agentId}/reject`);
    expect(rejected.body).toMatchObject({ agentId: paired.agentId, approval: 'rejected', status: 'revoked', propagated: true });
    await waitForControl('agent_revoked', paired.agentId);
    const auth = await gatewayAuth(paired.agentToken);
    expect(auth).toEqual({ ok: false, reason: 'revoked' });
    expect((await call('GET', `/agents/${paired.agentId}`)).body).toMatchObject({ status: 'revoked', approval: 'rejected' });
    expect((await call('POST', `/agents/${paired.agentId}/approve`)).status).toBe(409);
  });

  it('records security events with actor, time and address; pages by cursor and filters by agent and type', async () => {
    const canary = `canary-secret-${randomBytes(16).toString('hex')}`;
    planted.push(canary);
    const secret = await call('POST', '/secrets', { body: { name: 'db', connectorId: 'http', value: canary } });
    expect(secret.status).toBe(201);
    expect((await call('PUT', `/secrets/${secret.body.id}`, { body: { value: `${canary}-2` } })).status).toBe(200);
    expect((await call('DELETE', `/secrets/${secret.body.id}`)).status).toBe(204);
    const agent = await pairAgent('audited', ['a']);
    await call('POST', `/agents/${agent.agentId}/approve`);
    await call('PUT', `/agents/${agent.agentId}/tags`, { body: { tags: ['b'] } });
    await call('POST', `/agents/${agent.agentId}/pause`);
    await call('POST', `/agents/${agent.agentId}/resume`);
    expect((await call('POST', `/agents/${agent.agentId}/rotate-token`)).status).toBe(200);
    await call('POST', `/agents/${agent.agentId}/revoke`);
    await call('POST', `/agents/${agent.agentId}/revoke`); // a repeat is not a second event

    expect((await call('GET', '/audit', { token: member.accessToken })).status).toBe(403);
    expect((await call('GET', '/audit?type=agent.exploded')).status).toBe(400);

    const byAgent = (await call('GET', `/audit?agentId=${agent.agentId}`)).body;
    expect(byAgent.events.map((e: { type: string }) => e.type)).toEqual([
      'agent.revoked',
      'agent.token_rotated',
      'agent.resumed',
      'agent.paused',
      'agent.tags_changed',
      'agent.approved',
      'agent.paired',
      'pairing_token.used',
    ]);
    const [revoked] = byAgent.events;
    expect(revoked).toEqual({
      id: expect.stringMatching(/^\d+$/),
      type: 'agent.revoked',
      actor: { type: 'user', userId: org.userId, email: expect.stringContaining('@') },
      agentId: agent.agentId,
      subject: null,
      details: {},
      clientAddress: '127.0.0.1',
      createdAt: expect.any(String),
    });
    expect(byAgent.events.find((e: { type: string }) => e.type === 'agent.paired')).toMatchObject({
      actor: { type: 'agent', userId: null },
      details: { name: 'audited', approval: 'pending', proposedTags: ['a'] },
    });
    expect(byAgent.events.find((e: { type: string }) => e.type === 'agent.tags_changed').details).toEqual({ from: ['a'], to: ['b'] });

    expect(byAgent.events.find((e: { type: string }) => e.type === 'agent.token_rotated')).toMatchObject({
      actor: { type: 'user', userId: org.userId },
      details: { scope: 'agent', oldTokenValidUntil: expect.any(String) },
      clientAddress: '127.0.0.1',
    });

    const secrets = (await call('GET', '/audit?type=secret.rotated')).body.events;
    expect(secrets).toEqual([
      expect.objectContaining({ subject: { type: 'secret', id: secret.body.id }, details: { name: 'db', kekId: 'test-kek' } }),
    ]);

    // Cursor paging over everything: pages of 3 add up to the whole log, newest first, no repeats.
    const all = (await call('GET', '/audit?limit=200')).body;
    expect(all.nextCursor).toBeNull();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: Array<{ id: string }>; nextCursor: string | null } = (
        await call('GET', `/audit?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      ).body;
      expect(page.events.length).toBeLessThanOrEqual(3);
      seen.push(...page.events.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.events.map((e: { id: string }) => e.id));
    // Every type happened above.
    expect(new Set(all.events.map((e: { type: string }) => e.type))).toEqual(new Set(AUDIT_EVENT_TYPES));
  });

  it('canary: no planted token or secret value in any audit row or API answer', async () => {
    const { rows } = await api.pool.query<{ j: string }>('SELECT row_to_json(a)::text AS j FROM audit_events a');
    expect(rows.length).toBeGreaterThan(10);
    const stored = rows.map((r) => r.j).join('\n');
    expect(planted.length).toBeGreaterThan(10);
    const secretParts = planted.map((t) => t.split('.').at(-1)!);
    for (const answer of answers.filter((a) => !a.includes('"agentToken"') && !a.includes('"pairingToken"'))) {
      for (const part of secretParts) expect(answer).not.toContain(part);
    }
    for (const part of secretParts) expect(stored).not.toContain(part);
    for (const t of planted) expect(stored).not.toContain(hashToken(t));
    expect(stored).not.toMatch(/token_hash|tokenHash/);
  });
});

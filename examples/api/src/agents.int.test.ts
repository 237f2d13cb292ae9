import { hashToken, parseToken } from '@vespid/protocol';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL, describeWith } from '../../../test/services.js';
import { CONTROL_CHANNEL, type ControlEvent } from './control-bus.js';
import { type TestApi, dumpSchema, startTestApi } from '../test/testing.js';
import { waitFor } from '../../../test/support/wait-for.js';

await describeWith(['postgres', 'redis'], 'api agents and pairing', () => {
  let api: TestApi;
  let org: { orgId: string; userId: string; accessToken: string };
  let other: { orgId: string; userId: string; accessToken: string };
  let sub: Redis;
  const control: ControlEvent[] = [];
  const raw: string[] = [];

  beforeAll(async () => {
    api = await startTestApi({ gatewayWsUrl: 'ws://gw.test:3002/ws' });
    org = await api.org('Agents');
    other = await api.org('Other');
    sub = new Redis(REDIS_URL);
    sub.on('message', (_channel, message) => {
      raw.push(message);
      control.push(JSON.parse(message));
    });
    await sub.subscribe(CONTROL_CHANNEL);
  });
  afterAll(async () => {
    await sub?.quit();
    await api?.close();
  });

  const createPairingToken = async () => {
    const res = await api.call('POST', `/v1/orgs/${org.orgId}/agents/pairing-tokens`, { token: org.accessToken });
    expect(res.status).toBe(201);
    return res.body as { id: string; pairingToken: string; expiresAt: string };
  };
  const pair = (pairingToken: string, extra: Record<string, unknown> = {}) =>
    api.call('POST', '/v1/agents/pair', { body: { pairingToken, name: 'agent-1', ...extra } });

  /** Waits (bounded) until a control event for `agentId` of `type` arrives. */
  const waitForControl = (type: string, agentId: string) =>
    waitFor(
      () => control.find((e) => e.type === type && 'agentId' in e && e.agentId === agentId),
      `${type} for ${agentId} on ${CONTROL_CHANNEL}`,
    );

  it('creates 15-minute pairing tokens of the form <orgId>.<secret>', async () => {
    const t = await createPairingToken();
    expect(parseToken(t.pairingToken)?.organizationId).toBe(org.orgId);
    const ttl = Date.parse(t.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000 + 5000);
  });

  it('pairs an agent once: of two racing exchanges exactly one gets 201', async () => {
    const t = await createPairingToken();
    const results = await Promise.all([pair(t.pairingToken, { tags: ['east', 'group:alpha'] }), pair(t.pairingToken, { tags: ['west'] })]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 401]);
    const won = results.find((r) => r.status === 201)!.body;
    const lost = results.find((r) => r.status === 401)!.body;
    expect(lost.code).toBe('PAIRING_TOKEN_INVALID');
    expect(won).toEqual({
      agentId: expect.any(String),
      agentToken: expect.stringMatching(new RegExp(`^${org.orgId}\\.`)),
      organizationId: org.orgId,
      gatewayWsUrl: 'ws://gw.test:3002/ws',
    });
    const agents = await api.pool.query('SELECT id, tags FROM organization_agents WHERE organization_id = $1', [org.orgId]);
    expect(agents.rows).toHaveLength(1);
    // The pairing call's tags are the initial control-plane tags.
    expect([['east', 'group:alpha'], ['west']]).toContainEqual(agents.rows[0].tags);
    expect((await pair(t.pairingToken)).status).toBe(401);
  });

  it('refuses an expired pairing token with 400 PAIRING_TOKEN_EXPIRED, a used, unknown or malformed one with 401', async () => {
    const t = await createPairingToken();
    await api.pool.query("UPDATE agent_pairing_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [t.id]);
    const res = await pair(t.pairingToken);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('PAIRING_TOKEN_EXPIRED');
    expect(res.text).not.toContain(parseToken(t.pairingToken)!.secret);
    // Used, then expired: "used" is what the user needs to hear (401), not "expired".
    const used = await createPairingToken();
    expect((await pair(used.pairingToken)).status).toBe(201);
    await api.pool.query("UPDATE agent_pairing_tokens SET expires_at = now() - interval '1 second' WHERE id = $1", [used.id]);
    expect(await pair(used.pairingToken).then((r) => [r.status, r.body.code])).toEqual([401, 'PAIRING_TOKEN_INVALID']);
    const unknown = `${org.orgId}.${parseToken(t.pairingToken)!.secret.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'))}`;
    expect(await pair(unknown).then((r) => [r.status, r.body.code])).toEqual([401, 'PAIRING_TOKEN_INVALID']);
    expect((await pair('not-a-token')).body.code).toBe('PAIRING_TOKEN_INVALID');
    // A token of org A cannot be replayed with org B's prefix.
    const t2 = await createPairingToken();
    const forged = `${other.orgId}.${parseToken(t2.pairingToken)!.secret}`;
    expect((await pair(forged)).status).toBe(401);
  });

  it('accepts and stores the agentVersion the node-agent sends, and trims and de-duplicates tags', async () => {
    const t = await createPairingToken();
    const res = await pair(t.pairingToken, { agentVersion: '0.1.0', tags: [' east ', 'east', 'group:alpha '] });
    expect(res.status).toBe(201);
    const row = await api.pool.query('SELECT agent_version, tags FROM organization_agents WHERE id = $1', [res.body.agentId]);
    expect(row.rows[0]).toEqual({ agent_version: '0.1.0', tags: ['east', 'group:alpha'] });
    const view = await api.call('GET', `/v1/orgs/${org.orgId}/agents/${res.body.agentId}`, { token: org.accessToken });
    expect(view.body).toMatchObject({ agentVersion: '0.1.0', tags: ['east', 'group:alpha'] });
    // Still refused: an empty version, a tag that is only spaces, a space inside a tag.
    for (const extra of [{ agentVersion: ' ' }, { tags: ['  '] }, { tags: ['has space'] }]) {
      const again = await createPairingToken();
      expect((await pair(again.pairingToken, extra)).status, JSON.stringify(extra)).toBe(400);
    }
  });

  it('stores pairing, agent and access tokens only as hashes', async () => {
    const t = await createPairingToken();
    const paired = await pair(t.pairingToken);
    expect(paired.status).toBe(201);
    const dump = await dumpSchema(api.pool, api.schema);
    for (const token of [t.pairingToken, paired.body.agentToken, org.accessToken]) {
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(parseToken(token)?.secret ?? token.slice(4));
    }
    expect(dump).toContain(hashToken(paired.body.agentToken));
    const logs = api.logs.join('\n');
    expect(logs).not.toContain(paired.body.agentToken);
    expect(logs).not.toContain(parseToken(t.pairingToken)!.secret);
  });

  it('lists agents as online, offline or revoked (revoked wins), with tags and reported tags', async () => {
    const ids: string[] = [];
    for (const name of ['on', 'off', 'gone']) {
      const t = await createPairingToken();
      const res = await pair(t.pairingToken, { name, tags: [`n:${name}`], capabilities: { kinds: ['connector.action'], maxInFlight: 4 } });
      ids.push(res.body.agentId);
    }
    const [on, off, gone] = ids as [string, string, string];
    await api.pool.query("UPDATE organization_agents SET last_seen_at = now(), reported_tags = '{hello-tag}' WHERE id = $1", [on]);
    await api.pool.query("UPDATE organization_agents SET last_seen_at = now() - interval '10 minutes' WHERE id = $1", [off]);
    await api.pool.query('UPDATE organization_agents SET last_seen_at = now(), revoked_at = now() WHERE id = $1', [gone]);
    // Revoked agents are listed only when asked for (they pile up otherwise).
    const hidden = await api.call('GET', `/v1/orgs/${org.orgId}/agents`, { token: org.accessToken });
    expect(hidden.body.agents.map((x: { id: string }) => x.id)).not.toContain(gone);
    const res = await api.call('GET', `/v1/orgs/${org.orgId}/agents?includeRevoked=true`, { token: org.accessToken });
    expect(res.status).toBe(200);
    const byId = new Map(res.body.agents.map((x: { id: string }) => [x.id, x]));
    expect(byId.get(on)).toMatchObject({ status: 'online', tags: ['n:on'], reportedTags: ['hello-tag'], capabilities: { maxInFlight: 4 } });
    expect(byId.get(off)).toMatchObject({ status: 'offline' });
    expect(byId.get(gone)).toMatchObject({ status: 'revoked' });
    expect(JSON.stringify(res.body)).not.toContain('token');
    // Another org sees none of them.
    const theirs = await api.call('GET', `/v1/orgs/${other.orgId}/agents`, { token: other.accessToken });
    expect(theirs.body.agents).toEqual([]);
    expect((await api.call('GET', `/v1/orgs/${other.orgId}/agents/${on}`, { token: other.accessToken })).status).toBe(404);
  });

  it('revokes an agent and publishes agent_revoked on vespid:control', async () => {
    const t = await createPairingToken();
    const { agentId } = (await pair(t.pairingToken)).body;
    // Cross-org revoke is a 404 and publishes nothing.
    const cross = await api.call('POST', `/v1/orgs/${other.orgId}/agents/${agentId}/revoke`, { token: other.accessToken });
    expect(cross.status).toBe(404);
    const res = await api.call('POST', `/v1/orgs/${org.orgId}/agents/${agentId}/revoke`, { token: org.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ agentId, status: 'revoked', propagated: true });
    expect(await waitForControl('agent_revoked', agentId)).toEqual({ type: 'agent_revoked', agentId });
    const view = await api.call('GET', `/v1/orgs/${org.orgId}/agents/${agentId}`, { token: org.accessToken });
    expect(view.body.status).toBe('revoked');
    expect((await api.call('POST', `/v1/orgs/${org.orgId}/agents/${crypto.randomUUID()}/revoke`, { token: org.accessToken })).status).toBe(
      404,
    );
  });

  it('replaces control-plane tags and publishes agent_tags_updated', async () => {
    const t = await createPairingToken();
    const { agentId } = (await pair(t.pairingToken, { tags: ['old'] })).body;
    const bad = await api.call('PUT', `/v1/orgs/${org.orgId}/agents/${agentId}/tags`, {
      token: org.accessToken,
      body: { tags: ['has space'] },
    });
    expect(bad.status).toBe(400);
    const res = await api.call('PUT', `/v1/orgs/${org.orgId}/agents/${agentId}/tags`, {
      token: org.accessToken,
      body: { tags: [' east', 'group:beta ', 'east'] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ agentId, tags: ['east', 'group:beta'], propagated: true });
    expect(await waitForControl('agent_tags_updated', agentId)).toEqual({
      type: 'agent_tags_updated',
      agentId,
      tags: ['east', 'group:beta'],
    });
    const row = await api.pool.query('SELECT tags FROM organization_agents WHERE id = $1', [agentId]);
    expect(row.rows[0].tags).toEqual(['east', 'group:beta']);
    expect(raw.join('\n')).not.toContain(org.accessToken);
  });
});

await describeWith(['postgres', 'redis'], 'api pairing rate limit', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi({ pairRateLimitMax: 3 });
  });
  afterAll(() => api?.close());

  it('limits the unauthenticated pairing exchange per client address with 429 RATE_LIMITED', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await api.call('POST', '/v1/agents/pair', { body: { pairingToken: 'guess', name: 'x' } });
      statuses.push(res.status);
      if (res.status === 429) expect(res.body.code).toBe('RATE_LIMITED');
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});

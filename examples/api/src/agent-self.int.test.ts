import { generateToken } from '@vespid/protocol';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { REDIS_URL, describeWith } from '../../../test/services.js';
import { CONTROL_CHANNEL, type ControlEvent } from './control-bus.js';
import { type TestApi, startTestApi } from '../test/testing.js';
import { waitFor } from '../../../test/support/wait-for.js';

await describeWith(['postgres', 'redis'], 'api: an agent deregisters itself with its own token', () => {
  let api: TestApi;
  let org: { orgId: string; userId: string; accessToken: string };
  let sub: Redis;
  const control: ControlEvent[] = [];

  beforeAll(async () => {
    api = await startTestApi({ gatewayWsUrl: 'ws://gw.test:3002/ws' });
    org = await api.org('SelfDeregister');
    sub = new Redis(REDIS_URL);
    sub.on('message', (_channel, message) => control.push(JSON.parse(message)));
    await sub.subscribe(CONTROL_CHANNEL);
  });
  afterAll(async () => {
    await sub?.quit();
    await api?.close();
  });

  const pairAgent = async (name: string) => {
    const t = await api.call('POST', `/v1/orgs/${org.orgId}/agents/pairing-tokens`, { token: org.accessToken });
    const res = await api.call('POST', '/v1/agents/pair', { body: { pairingToken: t.body.pairingToken, name } });
    expect(res.status).toBe(201);
    return res.body as { agentId: string; agentToken: string };
  };

  it('revokes only the calling agent, tells the gateways, and answers 403 AGENT_REVOKED the second time', async () => {
    const me = await pairAgent('ephemeral-1');
    const neighbour = await pairAgent('stays');
    const res = await api.call('POST', '/v1/agents/deregister', { token: me.agentToken, orgId: null });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ agentId: me.agentId, status: 'revoked', propagated: true });
    await waitFor(() => control.some((e) => 'agentId' in e && e.agentId === me.agentId), 'a control event for the agent');
    expect(control).toContainEqual({ type: 'agent_revoked', agentId: me.agentId });

    // Revoked agents are listed only when asked for.
    const list = await api.call('GET', `/v1/orgs/${org.orgId}/agents?includeRevoked=true`, { token: org.accessToken });
    const byId = new Map((list.body.agents as Array<{ id: string; status: string }>).map((a) => [a.id, a.status]));
    expect(byId.get(me.agentId)).toBe('revoked');
    expect(byId.get(neighbour.agentId)).not.toBe('revoked');
    const audit = await api.call('GET', `/v1/orgs/${org.orgId}/audit?agentId=${me.agentId}&type=agent.revoked`, { token: org.accessToken });
    expect(audit.body.events).toEqual([
      expect.objectContaining({ actor: { type: 'agent', userId: null, email: null }, details: { reason: 'deregistered' } }),
    ]);

    const again = await api.call('POST', '/v1/agents/deregister', { token: me.agentToken, orgId: null });
    expect(again).toMatchObject({ status: 403, body: { code: 'AGENT_REVOKED' } });
    expect(api.logs.join('\n')).not.toContain(me.agentToken.split('.')[1]);
  });

  it('refuses a missing, malformed or unknown token with 401', async () => {
    expect((await api.call('POST', '/v1/agents/deregister', { orgId: null })).status).toBe(401);
    expect((await api.call('POST', '/v1/agents/deregister', { token: 'not-a-token', orgId: null })).status).toBe(401);
    const unknown = await api.call('POST', '/v1/agents/deregister', { token: generateToken(org.orgId), orgId: null });
    expect(unknown).toMatchObject({ status: 401, body: { code: 'UNAUTHORIZED' } });
  });
});

import { ExplainResponseSchema, LiveSessionsResponseSchema } from '@vespid/protocol';
import { afterEach, expect, it } from 'vitest';
import { type TestGateway, startTestGateway } from '../testing/test-gateway.js';

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

it('GET /internal/v1/sessions lists the live sessions of one organization only, behind the service token', async () => {
  t = await startTestGateway();
  await t.agent({ agentId: 'a1', organizationId: 'org1', tags: ['east'] }, { name: 'one', capabilities: { maxInFlight: 3 } });
  await t.agent({ agentId: 'b1', organizationId: 'org2', tags: [] });

  const r = await t.call('GET', '/internal/v1/sessions?organizationId=org1');
  expect(r.status).toBe(200);
  expect(r.body.sessions).toHaveLength(1);
  expect(r.body.sessions[0]).toMatchObject({
    agentId: 'a1',
    organizationId: 'org1',
    name: 'one',
    inFlight: 0,
    maxInFlight: 3,
    tags: ['east'],
  });

  expect((await t.call('GET', '/internal/v1/sessions')).status).toBe(400);
  expect((await t.call('GET', '/internal/v1/sessions?organizationId=org1', undefined, 'wrong-token')).status).toBe(401);
  expect((await t.call('POST', '/internal/v1/sessions?organizationId=org1', {})).status).toBe(405);
});

it('answers /sessions and /explain in the shapes of the protocol schemas', async () => {
  t = await startTestGateway();
  await t.agent({ agentId: 'a1', organizationId: 'org1', tags: ['east'] }, { name: 'one', capabilities: { maxInFlight: 2 } });

  const sessions = LiveSessionsResponseSchema.parse((await t.call('GET', '/internal/v1/sessions?organizationId=org1')).body);
  expect(sessions.sessions[0]).toMatchObject({ agentId: 'a1', organizationId: 'org1', state: 'ready', tags: ['east'], requests: [] });

  const explained = await t.call('POST', '/internal/v1/explain', {
    organizationId: 'org1',
    kind: 'agent.execute',
    selector: { tag: 'east' },
  });
  expect(explained.status).toBe(200);
  const why = ExplainResponseSchema.parse(explained.body);
  expect(why).toMatchObject({
    organizationId: 'org1',
    connected: 1,
    eligible: 1,
    selected: { agentId: 'a1', name: 'one' },
    queue: { depth: 0, position: null },
  });

  const refused = await t.call('POST', '/internal/v1/explain', {
    organizationId: 'org1',
    kind: 'x',
    payload: { token: 'vsp_CANARY_explain' },
    selector: 5,
  });
  expect(refused).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST' } });
  expect(JSON.stringify(refused.body)).not.toContain('CANARY');
});

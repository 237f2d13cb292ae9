/**
 * Regression (found by the chaos suite, SIGTERM of a node-agent while it drained): an `execute` that
 * reached an agent in its last milliseconds was never confirmed and never resent, so the caller waited
 * for the whole timeout and the run failed NODE_EXECUTION_TIMEOUT. A request the agent never confirmed
 * with `execute_received` now fails at once, retryably, when its session closes; a confirmed one still
 * waits for the agent's resend after it reconnects.
 */
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/index.js';

const ORG = '11111111-2222-4333-8444-555555555555';
let t: TestGateway | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

const request = (requestId: string) => ({
  organizationId: ORG,
  requestId,
  kind: 'connector.action',
  payload: { connectorId: 'http' },
  timeoutMs: 30_000,
});

it('fails an unconfirmed request with a retryable AGENT_DISCONNECTED as soon as the agent goes away', async () => {
  t = await startTestGateway();
  const agent = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
  const pending = t.gateway.dispatch(request('r-unconfirmed:n:0'));
  await agent.next('execute');
  const startedWaiting = Date.now();
  await agent.close();
  const result = await pending;
  expect(result).toMatchObject({ status: 'failed', error: { code: 'AGENT_DISCONNECTED', retryable: true }, agentId: 'a' });
  expect(Date.now() - startedWaiting).toBeLessThan(30_000);
  expect(await t.gateway.getResult('r-unconfirmed:n:0')).toMatchObject({ error: { code: 'AGENT_DISCONNECTED' } });
});

it('keeps waiting for a confirmed request, and takes the result the agent resends after reconnecting', async () => {
  t = await startTestGateway();
  const agent = await t.agent({ agentId: 'b', organizationId: ORG, tags: [] });
  const pending = t.gateway.dispatch(request('r-confirmed:n:0'));
  const execute = await agent.next('execute');
  agent.send({ type: 'execute_received', requestId: execute.requestId });
  // Frames are handled in order: the pong proves the gateway has taken the confirmation.
  agent.send({ type: 'ping', ts: 1 });
  await agent.next('pong');
  await agent.close();
  const again = await t.agent({ agentId: 'b', organizationId: ORG, tags: [] });
  again.send({ type: 'execute_result', requestId: execute.requestId, status: 'succeeded', output: { resent: true } });
  expect(await pending).toMatchObject({ status: 'succeeded', output: { resent: true }, agentId: 'b' });
});

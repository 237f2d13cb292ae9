/**
 * Regression (found by the chaos suite, SIGTERM of a node-agent under load): a draining agent refuses
 * new tasks with AGENT_SHUTDOWN, but its in-flight count drops as it drains, so least-in-flight kept
 * choosing it — every retry of a node landed on it again until the run ran out of attempts. An agent
 * that answered AGENT_SHUTDOWN must no longer be selected by this gateway.
 */
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/index.js';

const ORG = '11111111-2222-4333-8444-555555555555';
let t: TestGateway | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

it('stops selecting an agent once it refused a task with AGENT_SHUTDOWN', async () => {
  t = await startTestGateway();
  const draining = await t.agent({ agentId: 'draining', organizationId: ORG, tags: [] });
  const healthy = await t.agent({ agentId: 'healthy', organizationId: ORG, tags: [] });
  draining.autoRespond((m) => ({
    type: 'execute_result',
    requestId: m.requestId,
    status: 'failed',
    error: { code: 'AGENT_SHUTDOWN', message: 'the agent is shutting down and takes no new work' },
  }));
  healthy.autoRespond();
  const outcomes: string[] = [];
  for (let i = 0; i < 6; i++) {
    const r = await t.gateway.dispatch({
      organizationId: ORG,
      requestId: `r-drain-${i}:n:0`,
      kind: 'connector.action',
      payload: { connectorId: 'http' },
      timeoutMs: 5000,
    });
    outcomes.push(`${r.agentId}:${r.status}`);
  }
  // At most the first dispatch can reach the draining agent; after its refusal only the healthy one is used.
  expect(outcomes.slice(1)).toEqual(Array.from({ length: 5 }, () => 'healthy:succeeded'));
});

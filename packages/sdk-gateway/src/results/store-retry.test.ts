/**
 * Regression (found by the chaos suite, Redis restarted under load): when storing an agent's result
 * failed (Redis down), the gateway did not ack — correct — and waited for the agent to resend. But an
 * agent resends unacked results only after a reconnect, and its session was fine: the result was lost
 * and the request timed out (NODE_EXECUTION_TIMEOUT) although the node had succeeded. The gateway must
 * retry the store while the request is in flight, then ack and settle.
 */
import type { StoredResult } from '@vespid/protocol';
import { afterEach, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from '../testing/index.js';
import { memoryResultStore } from './result-store.js';

const ORG = '11111111-2222-4333-8444-555555555555';
let t: TestGateway | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

it('retries a failed result store until it is durable, then acks (the waiter is answered from the first attempt)', async () => {
  const inner = memoryResultStore();
  let failures = 3;
  // A store whose backend is down for the first few writes (like Redis restarting).
  const store = {
    ...inner,
    get: (id: string) => inner.get(id),
    lookup: (id: string) => inner.lookup(id),
    recordDispatch: (r: Parameters<typeof inner.recordDispatch>[0]) => inner.recordDispatch(r),
    put: async (r: StoredResult) => {
      if (failures > 0) {
        failures--;
        throw new Error('Connection is closed.');
      }
      return inner.put(r);
    },
  };
  t = await startTestGateway({ resultStore: store });
  const a = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
  const pending = t.gateway.dispatch({
    organizationId: ORG,
    requestId: 'r-store:n:0',
    kind: 'connector.action',
    payload: { connectorId: 'http' },
    timeoutMs: 30_000,
  });
  const exec = await a.next('execute');
  a.send({ type: 'execute_result', requestId: exec.requestId, status: 'succeeded', output: { ok: true } });
  const result = await pending;
  expect(result).toMatchObject({ requestId: 'r-store:n:0', status: 'succeeded', output: { ok: true } });
  // The ack waits for the write: three refusals, 500 ms apart.
  expect((await a.next('execute_ack', 10_000)).requestId).toBe('r-store:n:0');
  expect(failures).toBe(0);
  expect(await inner.get('r-store:n:0')).toMatchObject({ status: 'succeeded' });
});

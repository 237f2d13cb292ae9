/**
 * A waiting caller is answered as soon as the agent's result is accepted and its write has started; the
 * agent is acked only once the result is stored, and a failed write is retried (never replaced by a
 * timeout). Driven with a store whose writes are held open until the test lets them finish.
 */
import type { StoredResult } from '@vespid/protocol';
import { afterEach, expect, it } from 'vitest';
import { memoryResultStore } from '../results/result-store.js';
import { startTestGateway, type TestAgent, type TestGateway } from '../testing/index.js';
import { waitFor } from '../../../../test/support/wait-for.js';

const ORG = '11111111-2222-4333-8444-555555555555';
let t: TestGateway | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

interface HeldPut {
  result: StoredResult;
  /** Lets the write reach the store. */
  release(): void;
  /** Makes the write fail, as with Redis down. */
  fail(): void;
}

/** A memory store whose writes wait in `puts` until released or failed (while `holding`). */
function heldStore() {
  const inner = memoryResultStore();
  const puts: HeldPut[] = [];
  const s = {
    inner,
    puts,
    holding: true,
    store: {
      ...inner,
      put: (r: StoredResult) => {
        if (!s.holding) return inner.put(r);
        return new Promise<boolean>((resolve, reject) => {
          puts.push({
            result: r,
            release: () => void inner.put(r).then(resolve, reject),
            fail: () => reject(new Error('Connection is closed.')),
          });
        });
      },
    },
  };
  return s;
}

const request = (requestId: string, timeoutMs = 30_000) => ({
  organizationId: ORG,
  requestId,
  kind: 'connector.action',
  payload: { connectorId: 'http' },
  timeoutMs,
});

/** Frames are handled in order: once the pong is back, the gateway has taken every frame sent before. */
async function settledFrames(agent: TestAgent): Promise<void> {
  agent.send({ type: 'ping', ts: Date.now() });
  await agent.next('pong');
}

const acks = (agent: TestAgent) => agent.received.filter((m) => m.type === 'execute_ack').length;

it('answers the caller while the write is held open, and acks the agent only once it is stored', async () => {
  const held = heldStore();
  t = await startTestGateway({ resultStore: held.store });
  const settledEvents: string[] = [];
  t.gateway.on('request.settled', (e) => settledEvents.push(e.requestId));
  const agent = await t.agent({ agentId: 'a', organizationId: ORG, tags: [] });
  const pending = t.gateway.dispatch(request('r-early:n:0'));
  const exec = await agent.next('execute');
  agent.send({ type: 'execute_received', requestId: exec.requestId });
  agent.send({ type: 'execute_result', requestId: exec.requestId, status: 'succeeded', output: { n: 1 } });

  // The write has started and is still open: the caller already has the agent's result.
  expect(await pending).toMatchObject({ requestId: 'r-early:n:0', status: 'succeeded', output: { n: 1 }, agentId: 'a' });
  expect(held.puts).toHaveLength(1);
  await settledFrames(agent);
  expect(acks(agent)).toBe(0);
  expect(await held.inner.get('r-early:n:0')).toBeNull();
  expect(settledEvents).toEqual([]);
  // Meanwhile a repeat gets the same answer and is not sent again; the result reads back the same.
  expect(await t.gateway.dispatch(request('r-early:n:0'))).toMatchObject({ status: 'succeeded', output: { n: 1 } });
  expect(await t.gateway.dispatchAsync(request('r-early:n:0'))).toMatchObject({ dispatched: false });
  expect(await t.gateway.getResult('r-early:n:0')).toMatchObject({ status: 'succeeded', output: { n: 1 } });
  expect(agent.received.filter((m) => m.type === 'execute')).toHaveLength(1);
  expect(t.gateway.listSessions()[0]?.inFlight).toBe(1);

  held.puts[0]!.release();
  expect((await agent.next('execute_ack')).requestId).toBe('r-early:n:0');
  expect(await held.inner.get('r-early:n:0')).toMatchObject({ status: 'succeeded', output: { n: 1 } });
  await waitFor(() => (settledEvents.length === 1 ? true : undefined), { what: 'request.settled' });
  expect(t.gateway.listSessions()[0]?.inFlight).toBe(0);
});

it('a failed write leaves the agent unacked, is retried past the deadline and stores the answer given', async () => {
  const held = heldStore();
  t = await startTestGateway({ resultStore: held.store });
  const agent = await t.agent({ agentId: 'b', organizationId: ORG, tags: [] });
  // A deadline shorter than the store's retry pause: it must not turn the answered request into a timeout.
  const pending = t.gateway.dispatch(request('r-fail:n:0', 200));
  const exec = await agent.next('execute');
  agent.send({ type: 'execute_result', requestId: exec.requestId, status: 'succeeded', output: { n: 2 } });
  expect(await pending).toMatchObject({ status: 'succeeded', output: { n: 2 } });

  held.holding = false;
  held.puts[0]!.fail();
  await waitFor(async () => (await held.inner.get('r-fail:n:0')) ?? undefined, { what: 'the retried write', timeoutMs: 5000 });
  expect(await held.inner.get('r-fail:n:0')).toMatchObject({ status: 'succeeded', output: { n: 2 } });
  expect((await agent.next('execute_ack')).requestId).toBe('r-fail:n:0');
  expect(agent.received.filter((m) => m.type === 'cancel')).toEqual([]);
});

it('a result resent on a later session is answered only once stored (it may not be the first one)', async () => {
  const held = heldStore();
  t = await startTestGateway({ resultStore: held.store });
  const first = await t.agent({ agentId: 'c', organizationId: ORG, tags: [] });
  let answered = false;
  const pending = t.gateway.dispatch(request('r-resend:n:0')).then((r) => {
    answered = true;
    return r;
  });
  const exec = await first.next('execute');
  first.send({ type: 'execute_received', requestId: exec.requestId });
  await settledFrames(first);
  await first.close();
  const again = await t.agent({ agentId: 'c', organizationId: ORG, tags: [] });
  again.send({ type: 'execute_result', requestId: exec.requestId, status: 'succeeded', output: { n: 3 } });
  await waitFor(() => (held.puts.length === 1 ? true : undefined), { what: 'the write to start' });
  await settledFrames(again);
  expect(answered).toBe(false);
  held.puts[0]!.release();
  expect(await pending).toMatchObject({ status: 'succeeded', output: { n: 3 } });
  expect((await again.next('execute_ack')).requestId).toBe('r-resend:n:0');
});

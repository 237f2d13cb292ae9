import type { DispatchAsyncResponse, DispatchRequestInput, StoredResult } from '@vespid/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DispatchClient } from '../client/dispatch-client.js';
import { type MemoryTx, memoryCursorStore } from '../store/memory-store.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { ContinuationRunner } from './types.js';

const explanation = {
  message: 'no agent available for org o: 0 connected',
  connected: 0,
  excluded: { kind: 0, connector: 0, selector: 0, capacity: 0 },
};

/** A gateway stand-in that keeps a request queued until `assign()`, then answers it in flight and stores its result. */
function queueingClient() {
  const sent: DispatchRequestInput[] = [];
  let assigned = false;
  let result: StoredResult | null = null;
  const client: DispatchClient = {
    async dispatchAsync(request) {
      sent.push(request);
      if (!assigned)
        return { requestId: request.requestId, dispatched: false, queued: true, position: 1, explanation } as DispatchAsyncResponse;
      return { requestId: request.requestId, dispatched: false, inFlight: true };
    },
    dispatch: () => Promise.reject(new Error('not used')),
    cancel: async (r) => ({ requestId: r.requestId, cancelled: false }),
    getResult: async () => result,
    state: 'open',
    closed: false,
    close: async () => {},
    [Symbol.asyncDispose]: async () => {},
  };
  return {
    client,
    sent,
    assign(requestId: string) {
      assigned = true;
      result = { requestId, organizationId: 'o', status: 'succeeded', output: 1, completedAt: Date.now() };
    },
  };
}

let runner: ContinuationRunner | undefined;
afterEach(async () => {
  await runner?.close({ timeoutMs: 1000 });
});

describe('continuation runner: queued dispatch', () => {
  it('sends queueTimeoutMs, extends the deadline by it, re-dispatches the same id while queued, reports `queued` once, applies once', async () => {
    const gw = queueingClient();
    const store = memoryCursorStore();
    const queued: Array<{ position: number; message: string }> = [];
    const results: string[] = [];
    runner = createContinuationRunner<MemoryTx>({
      client: gw.client,
      store,
      pollMs: 20,
      deadlineGraceMs: 0,
      onResult: ({ cursor }) => {
        results.push(cursor.requestId);
      },
    });
    runner.on('queued', ({ position, explanation: why }) => {
      queued.push({ position, message: why.message });
    });
    await runner.start();
    const before = Date.now();
    const blocked = await runner.block({
      organizationId: 'o',
      runId: 'run1',
      nodeId: 'n1',
      attempt: 0,
      kind: 'agent.execute',
      payload: {},
      timeoutMs: 1000,
      queueTimeoutMs: 300_000,
    });
    expect(blocked.state).toBe('blocked');
    expect(blocked.cursor.deadlineAt).toBeGreaterThanOrEqual(before + 301_000);
    expect(gw.sent[0]).toMatchObject({ requestId: 'run1:n1:0', queueTimeoutMs: 300_000, timeoutMs: 1000 });
    // Each poll repeats the dispatch with the same id: a gateway that lost its queue gets it back.
    await vi.waitFor(() => expect(gw.sent.length).toBeGreaterThanOrEqual(3));
    expect(new Set(gw.sent.map((r) => r.requestId))).toEqual(new Set(['run1:n1:0']));
    expect(queued).toEqual([{ position: 1, message: explanation.message }]);
    expect((await store.get('run1:n1:0'))?.dispatchedAt).toBeNull();
    gw.assign('run1:n1:0');
    await vi.waitFor(() => expect(results).toEqual(['run1:n1:0']));
    expect(queued).toHaveLength(1);
  });
});

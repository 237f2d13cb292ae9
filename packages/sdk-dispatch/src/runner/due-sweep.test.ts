/**
 * The one fallback for blocked cursors: no queue job is scheduled (or cancelled) per node. A cursor
 * still blocked `pollMs` after its creation is found by the due sweep and polled; one whose result
 * arrived first never costs a queue job.
 */
import type { StoredResult } from '@vespid/protocol';
import { afterEach, expect, it, vi } from 'vitest';
import type { DispatchClient } from '../client/dispatch-client.js';
import { inProcessQueue } from '../queue/in-process-queue.js';
import type { ContinuationQueue } from '../queue/queue.js';
import { type MemoryTx, memoryCursorStore } from '../store/memory-store.js';
import type { ContinuationRunnerOptions } from './options.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { ContinuationRunner } from './types.js';

let runner: ContinuationRunner | undefined;
afterEach(async () => {
  await runner?.close({ timeoutMs: 1000 });
  runner = undefined;
});

function setup(over: Partial<ContinuationRunnerOptions<MemoryTx>> = {}) {
  const store = memoryCursorStore();
  const results = new Map<string, StoredResult>();
  const client = {
    dispatchAsync: async (req: { requestId: string }) => ({ requestId: req.requestId, dispatched: true, agentId: 'a1' }),
    getResult: async (id: string) => results.get(id) ?? null,
    close: async () => {},
  } as unknown as DispatchClient;
  const inner = inProcessQueue({ concurrency: 4 });
  const scheduled: Array<{ requestId: string; runAt: number }> = [];
  const queue: ContinuationQueue = {
    name: 'counted',
    start: (h) => inner.start(h),
    schedule: (requestId, runAt, o) => {
      scheduled.push({ requestId, runAt });
      return inner.schedule(requestId, runAt, o);
    },
    cancel: (id) => inner.cancel(id),
    close: (o) => inner.close(o),
  };
  const windows: Array<number | undefined> = [];
  const listBlocked = store.listBlocked.bind(store);
  store.listBlocked = (o) => {
    windows.push(o.createdAfter);
    return listBlocked(o);
  };
  const applied: Array<{ requestId: string; source: string; dispatchedAt: number | null }> = [];
  runner = createContinuationRunner({
    client,
    store,
    queue,
    pollMs: 50,
    onResult: async () => undefined,
    ...over,
  });
  runner.on('applied', ({ cursor, result }) => {
    applied.push({ requestId: cursor.requestId, source: result.source, dispatchedAt: cursor.dispatchedAt });
  });
  const input = (runId: string) => ({
    organizationId: 'o',
    runId,
    nodeId: 'n',
    attempt: 0,
    kind: 'connector.action',
    payload: { connectorId: 'http', actionId: 'request' },
  });
  const result = (requestId: string): StoredResult => ({
    requestId,
    organizationId: 'o',
    status: 'succeeded',
    output: 1,
    completedAt: Date.now(),
  });
  return { store, scheduled, windows, applied, results, input, result };
}

it('finds a blocked cursor whose push was lost and polls it pollMs after its creation, with no job scheduled at block()', async () => {
  const t = setup();
  await runner!.start();
  const blocked = await runner!.block(t.input('lost'));
  expect(blocked.state).toBe('blocked');
  expect(t.scheduled).toEqual([]); // nothing per node
  t.results.set(blocked.requestId, t.result(blocked.requestId)); // stored at the gateway, never pushed
  await vi.waitFor(() => expect(t.applied).toHaveLength(1), { timeout: 3000, interval: 10 });
  expect(t.applied[0]).toMatchObject({ requestId: blocked.requestId, source: 'poll' });
  // The gateway's acceptance, known only in memory until then, is on the completed cursor.
  expect(t.applied[0]!.dispatchedAt).toEqual(expect.any(Number));
  expect(t.scheduled.map((s) => s.requestId)).toContain(blocked.requestId);
  expect(t.scheduled[0]!.runAt).toBe(blocked.cursor.createdAt + 50);
  expect((await t.store.get(blocked.requestId))?.status).toBe('completed');
});

it('a result delivered before the first due sweep costs no queue job at all', async () => {
  const t = setup();
  await runner!.start();
  const blocked = await runner!.block(t.input('fast'));
  expect(await runner!.deliver(t.result(blocked.requestId))).toBe(true);
  const sweepsBefore = t.windows.filter((w) => w !== undefined).length;
  // Two due sweeps later the completed cursor was never handed to the queue.
  await vi.waitFor(() => expect(t.windows.filter((w) => w !== undefined).length).toBeGreaterThanOrEqual(sweepsBefore + 2), {
    timeout: 3000,
    interval: 10,
  });
  expect(t.scheduled).toEqual([]);
  expect(t.applied).toEqual([{ requestId: blocked.requestId, source: 'deliver', dispatchedAt: expect.any(Number) }]);
});

it('queues its own cursor that no due window saw (its insert committed after the windows had passed)', async () => {
  // Every windowed listing misses the cursor, as when its insert transaction outlasts the windows that
  // cover its createdAt; the full sweep is an hour away. Only the runner's own watch list can find it.
  const t = setup({ sweepIntervalMs: 3_600_000 });
  const listBlocked = t.store.listBlocked;
  t.store.listBlocked = async (o) => (o.createdAfter === undefined ? listBlocked(o) : []);
  await runner!.start();
  const blocked = await runner!.block(t.input('slow-insert'));
  t.results.set(blocked.requestId, t.result(blocked.requestId));
  await vi.waitFor(() => expect(t.applied).toHaveLength(1), { timeout: 3000, interval: 10 });
  expect(t.applied[0]).toMatchObject({ requestId: blocked.requestId, source: 'poll' });
});

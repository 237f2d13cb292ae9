/**
 * Regression (found by the chaos suite, Redis shut down with NOSAVE under load): the BullMQ
 * continuation jobs of blocked cursors vanished with Redis, so nothing looked at those cursors again
 * until the periodic sweep (30 s) — by then most were past their deadline and failed with
 * NODE_EXECUTION_TIMEOUT although their results were waiting at the gateway. When the runner's Redis
 * comes back it must re-queue every blocked cursor and look at once.
 */
import type { StoredResult } from '@vespid/protocol';
import { afterAll, expect, it } from 'vitest';
import { startOwnRedis } from '../../../../test/chaos/lib/infra.js';
import { describeWith } from '../../../../test/services.js';
import type { DispatchClient } from '../client/dispatch-client.js';
import { bullmqQueue, redisResultPush } from '../redis/index.js';
import { memoryCursorStore } from '../store/memory-store.js';
import { createContinuationRunner } from './continuation-runner.js';
import { waitFor } from '../../../../test/support/wait-for.js';

await describeWith(['redis'], 'continuation runner across a Redis restart', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it('re-queues blocked cursors when Redis returns, so a result ready at the gateway is applied', async () => {
    const redis = await startOwnRedis();
    cleanups.push(() => redis.close());
    let ready: StoredResult | null = null;
    // The gateway side: accepts the dispatch; holds the result once "the agent" has answered.
    const client = {
      dispatchAsync: async (req: { requestId: string }) => ({ requestId: req.requestId, dispatched: true }),
      getResult: async () => ready,
      close: async () => {},
    } as unknown as DispatchClient;
    const applied: string[] = [];
    const runner = createContinuationRunner({
      client,
      store: memoryCursorStore(),
      queue: bullmqQueue({ connection: redis.url }),
      push: redisResultPush({ connection: redis.url }),
      // Far beyond the test: only the reconnect sweep can find the result in time.
      pollMs: 600_000,
      sweepIntervalMs: 600_000,
      nodeExecTimeoutMs: 600_000,
      onResult: async ({ cursor }) => {
        applied.push(cursor.requestId);
      },
    });
    await runner.start();
    cleanups.push(() => runner.close({ timeoutMs: 2000 }));
    const blocked = await runner.block({
      organizationId: 'org-1',
      runId: 'run-1',
      nodeId: 'n',
      attempt: 0,
      kind: 'connector.action',
      payload: { connectorId: 'http' },
    });
    expect(blocked.state).toBe('blocked');

    await redis.shutdown();
    ready = { requestId: blocked.requestId, organizationId: 'org-1', status: 'succeeded', output: { ok: true }, completedAt: Date.now() };
    await redis.start();

    await waitFor(() => applied.length > 0, { what: 'the result applied after the restart', timeoutMs: 10_000 });
    expect(applied).toEqual([blocked.requestId]);
  });
});

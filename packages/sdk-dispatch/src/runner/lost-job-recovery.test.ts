/**
 * Regression (found by the chaos suite, Postgres unreachable for 10 s): a run job lost its database
 * connection right after the blocked cursor was committed, so the cursor existed with no continuation
 * job and was never sent to the gateway. Only the periodic sweep finds such a cursor, and its fixed
 * 30 s interval was longer than the node timeout in use: the node timed out without ever being
 * dispatched. By default the sweep must run well within the node timeout.
 */
import type { StoredResult } from '@vespid/protocol';
import { afterEach, expect, it } from 'vitest';
import type { DispatchClient } from '../client/dispatch-client.js';
import { memoryCursorStore } from '../store/memory-store.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { ContinuationRunner } from './types.js';
import { waitFor } from '../../../../test/support/wait-for.js';

let runner: ContinuationRunner | undefined;
afterEach(async () => {
  await runner?.close({ timeoutMs: 1000 });
  runner = undefined;
});

it('finds a cursor left without a continuation and dispatches it before its deadline', async () => {
  const store = memoryCursorStore();
  const sent: string[] = [];
  let ready: StoredResult | null = null;
  const client = {
    dispatchAsync: async (req: { requestId: string; organizationId: string }) => {
      sent.push(req.requestId);
      ready = {
        requestId: req.requestId,
        organizationId: req.organizationId,
        status: 'succeeded',
        output: { ok: 1 },
        completedAt: Date.now(),
      };
      return { requestId: req.requestId, dispatched: true };
    },
    getResult: async () => ready,
    close: async () => {},
  } as unknown as DispatchClient;
  const applied: Array<{ requestId: string; status: string }> = [];
  runner = createContinuationRunner({
    client,
    store,
    nodeExecTimeoutMs: 4000,
    pollMs: 100,
    onResult: async ({ cursor, result }) => {
      applied.push({ requestId: cursor.requestId, status: result.status });
    },
  });
  await runner.start();
  // What the crashed run job left behind: a committed cursor, no job, never sent.
  const now = Date.now();
  await store.insert({
    requestId: 'run-o:n:0',
    runId: 'run-o',
    nodeId: 'n',
    attempt: 0,
    organizationId: 'org-o',
    request: { kind: 'connector.action', payload: {}, timeoutMs: 4000 },
    deadlineAt: now + 5000,
    createdAt: now,
  });
  await waitFor(() => applied.length > 0, 'the orphan cursor applied');
  expect(sent).toEqual(['run-o:n:0']);
  expect(applied).toEqual([{ requestId: 'run-o:n:0', status: 'succeeded' }]);
});

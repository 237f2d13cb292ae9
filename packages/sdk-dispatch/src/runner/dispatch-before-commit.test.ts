/**
 * `dispatchBeforeCommit`: the request leaves while the cursor's insert is under way (its round trips
 * leave the node's wall time). A result pushed before the insert commits is applied once the cursor
 * is in the store, exactly once; a failed insert applies nothing and `block()` rejects.
 */
import type { StoredResult } from '@vespid/protocol';
import { afterEach, expect, it } from 'vitest';
import type { DispatchClient } from '../client/dispatch-client.js';
import { memoryCursorStore } from '../store/memory-store.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { createContinuationRunner } from './continuation-runner.js';
import type { ResultPush } from './result-push.js';
import type { ContinuationRunner } from './types.js';

let runner: ContinuationRunner | undefined;
afterEach(async () => {
  await runner?.close({ timeoutMs: 1000 });
  runner = undefined;
});

function setup() {
  const store = memoryCursorStore();
  // The insert waits until the test lets it commit (or fail).
  let commit: (() => void) | undefined;
  let fail: ((err: Error) => void) | undefined;
  const insert = store.insert.bind(store);
  store.insert = (cursor, onInserted) =>
    new Promise<void>((resolve, reject) => {
      commit = resolve;
      fail = reject;
    }).then(() => insert(cursor, onInserted));
  const sent: string[] = [];
  const client = {
    dispatchAsync: async (req: { requestId: string }) => {
      sent.push(req.requestId);
      return { requestId: req.requestId, dispatched: true, agentId: 'a1' };
    },
    getResult: async () => null,
    close: async () => {},
  } as unknown as DispatchClient;
  let publish: ((r: StoredResult) => void) | undefined;
  const push: ResultPush = {
    name: 'test',
    subscribe: async ({ onResult }) => {
      publish = onResult;
      return { close: async () => {} };
    },
  };
  const applied: string[] = [];
  const dispatched: string[] = [];
  runner = createContinuationRunner({
    client,
    store,
    push,
    pollMs: 60_000,
    onResult: async ({ cursor }) => {
      applied.push(cursor.requestId);
    },
  });
  runner.on('dispatched', ({ cursor }) => {
    dispatched.push(cursor.requestId);
  });
  const input = {
    organizationId: 'o',
    runId: 'r',
    nodeId: 'n',
    attempt: 0,
    kind: 'connector.action',
    payload: { connectorId: 'http', actionId: 'request' },
    dispatchBeforeCommit: true,
  };
  const result: StoredResult = { requestId: 'r:n:0', organizationId: 'o', status: 'succeeded', output: 1, completedAt: Date.now() };
  return {
    store,
    sent,
    applied,
    dispatched,
    input,
    result,
    publish: (r: StoredResult) => publish!(r),
    commit: () => commit!(),
    fail: (err: Error) => fail!(err),
    insertStarted: () => commit !== undefined,
  };
}

it('sends before the insert commits and applies a result that came first once the cursor is stored, exactly once', async () => {
  const t = setup();
  await runner!.start();
  const blocking = runner!.block(t.input);
  await waitFor(() => t.sent.length === 1 && t.insertStarted());
  // The result arrives (twice) while the cursor is not in the store yet.
  t.publish(t.result);
  t.publish(t.result);
  expect(await t.store.get('r:n:0')).toBeUndefined();
  expect(t.applied).toEqual([]);
  // Nothing that reads the cursor runs before it exists: the agent is named after the commit.
  expect(t.dispatched).toEqual([]);
  t.commit();
  const blocked = await blocking;
  await waitFor(() => t.applied.length === 1);
  expect(t.applied).toEqual(['r:n:0']);
  expect(blocked.created).toBe(true);
  expect((await t.store.get('r:n:0'))?.status).toBe('completed');
  await waitFor(() => t.dispatched.length === 1);
  // A late third publication finds nothing to apply.
  t.publish(t.result);
  await runner!.close({ timeoutMs: 1000 });
  expect(t.applied).toEqual(['r:n:0']);
});

it('rejects block() and applies nothing when the insert fails after the request left', async () => {
  const t = setup();
  await runner!.start();
  const blocking = runner!.block(t.input);
  await waitFor(() => t.sent.length === 1 && t.insertStarted());
  t.publish(t.result);
  t.fail(new Error('insert failed'));
  await expect(blocking).rejects.toThrow('insert failed');
  await runner!.close({ timeoutMs: 1000 });
  expect(t.applied).toEqual([]);
  expect(await t.store.get('r:n:0')).toBeUndefined();
});

it('without the option, sends only after the insert committed', async () => {
  const t = setup();
  await runner!.start();
  const blocking = runner!.block({ ...t.input, dispatchBeforeCommit: false });
  await waitFor(() => t.insertStarted());
  expect(t.sent).toEqual([]);
  t.commit();
  await blocking;
  expect(t.sent).toEqual(['r:n:0']);
});

import type { StoredResult } from '@vespid/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultStore } from '../results/result-store.js';

/**
 * What a result-store factory returns: the store and how to clean up after one test.
 * @example
 * ```ts
 * resultStoreConformance('mine', async (): Promise<ResultStoreFixture> => ({ store: myStore(), cleanup: async () => {} }));
 * ```
 */
export interface ResultStoreFixture {
  store: ResultStore;
  cleanup?: () => Promise<void>;
}

let seq = 0;
const id = () => `run${Date.now().toString(36)}${++seq}:node:0`;

function result(requestId: string, extra: Partial<StoredResult> = {}): StoredResult {
  return {
    requestId,
    organizationId: 'org-1',
    status: 'succeeded',
    output: { rows: [1, 2, { nested: 'ü' }] },
    agentId: 'agent-1',
    completedAt: 1_700_000_000_000,
    ...extra,
  };
}

/**
 * Registers vitest tests that every `ResultStore` must pass: round trip of results, first write wins,
 * dispatch records visible through `lookup`, unknown ids answering null, and (for stores that have
 * it) `claimDispatch` claiming a request once.
 *
 * @example
 * ```ts
 * resultStoreConformance('memory', async () => ({ store: memoryResultStore() }));
 * ```
 */
export function resultStoreConformance(name: string, factory: () => Promise<ResultStoreFixture>): void {
  describe(`ResultStore conformance: ${name}`, () => {
    let fixture: ResultStoreFixture | undefined;
    const make = async () => {
      fixture = await factory();
      return fixture.store;
    };
    afterEach(async () => {
      await fixture?.cleanup?.();
      fixture = undefined;
    });

    it('answers null for unknown ids', async () => {
      const store = await make();
      const rid = id();
      expect(await store.get(rid)).toBeNull();
      expect(await store.lookup(rid)).toEqual({ result: null, dispatch: null });
    });

    it('round-trips a result exactly', async () => {
      const store = await make();
      const r = result(id());
      expect(await store.put(r)).toBe(true);
      expect(await store.get(r.requestId)).toEqual(r);
      const failed = result(id(), { status: 'failed', output: undefined, error: { code: 'DOCKER_EXIT_CODE:3', message: 'exit 3' } });
      delete failed.output;
      await store.put(failed);
      expect(await store.get(failed.requestId)).toEqual(failed);
    });

    it('keeps the first write', async () => {
      const store = await make();
      const rid = id();
      expect(await store.put(result(rid, { output: 'first' }))).toBe(true);
      expect(await store.put(result(rid, { output: 'second', status: 'failed' }))).toBe(false);
      expect((await store.get(rid))?.output).toBe('first');
    });

    it('returns stored values that callers cannot mutate in the store', async () => {
      const store = await make();
      const r = result(id());
      await store.put(r);
      const copy = await store.get(r.requestId);
      (copy as { output: unknown }).output = 'changed';
      expect((await store.get(r.requestId))?.output).toEqual(r.output);
    });

    it('records dispatches and shows them through lookup', async () => {
      const store = await make();
      const rid = id();
      const record = { requestId: rid, organizationId: 'org-1', agentId: 'agent-7', deadline: Date.now() + 60_000 };
      await store.recordDispatch(record);
      expect(await store.lookup(rid)).toEqual({ result: null, dispatch: record });
      await store.put(result(rid));
      expect((await store.lookup(rid)).result?.requestId).toBe(rid);
    });

    it('claimDispatch (if implemented) records only when no result and no live record exist', async () => {
      const store = await make();
      // Optional: a store without it is used through lookup + recordDispatch, which the tests above cover.
      if (!store.claimDispatch) return expect(store.claimDispatch).toBeUndefined();
      const rid = id();
      const record = { requestId: rid, organizationId: 'org-1', agentId: 'agent-7', deadline: Date.now() + 60_000 };
      expect(await store.claimDispatch(record)).toEqual({ result: null, dispatch: null, claimed: true });
      expect((await store.lookup(rid)).dispatch).toEqual(record);
      // A second claimer (another replica, a retry) sees the live record and writes nothing.
      const second = await store.claimDispatch({ ...record, agentId: 'agent-8' });
      expect(second).toEqual({ result: null, dispatch: record, claimed: false });
      expect((await store.lookup(rid)).dispatch?.agentId).toBe('agent-7');
      // An expired record (deadline passed) can be claimed again.
      await store.recordDispatch({ ...record, deadline: 0 });
      expect((await store.claimDispatch({ ...record, agentId: 'agent-9' })).claimed).toBe(true);
      expect((await store.lookup(rid)).dispatch?.agentId).toBe('agent-9');
      // Once a result is stored it is answered instead.
      await store.put(result(rid, { output: 'done' }));
      const done = await store.claimDispatch(record);
      expect(done.claimed).toBe(false);
      expect(done.result?.output).toBe('done');
      // Concurrent claims of a fresh id: exactly one wins.
      const fresh = id();
      const claims = await Promise.all(
        ['a', 'b', 'c', 'd'].map((agentId) => store.claimDispatch!({ ...record, requestId: fresh, agentId })),
      );
      expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    });
  });
}

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CursorStore, NewCursor } from '../store/cursor.js';

/**
 * What {@link cursorStoreConformance} needs to exercise a store.
 *
 * @example
 * ```ts
 * cursorStoreConformance('pg', async () => ({ store, writeEffect: (tx, k) => tx.query('insert …', [k]), countEffects }));
 * ```
 */
export interface CursorStoreHarness<Tx> {
  store: CursorStore<Tx>;
  /** Writes one host side effect through `tx`, so it commits or rolls back with the store's transaction. */
  writeEffect(tx: Tx, key: string): Promise<void>;
  /** How many committed side effects carry `key`. */
  countEffects(key: string): Promise<number>;
  /** Drops what the harness created (schema, tables, pools). */
  cleanup?(): Promise<void>;
}

let seq = 0;
function newCursor(over: Partial<NewCursor> = {}): NewCursor {
  seq++;
  const runId = over.runId ?? `run${seq}-${Math.random().toString(36).slice(2, 8)}`;
  return {
    requestId: `${runId}:node:0`,
    runId,
    nodeId: 'node',
    attempt: 0,
    organizationId: 'org-1',
    request: {
      kind: 'connector.action',
      payload: { connectorId: 'http', actionId: 'get', input: { n: 1 } },
      selector: { tag: 'east' },
      timeoutMs: 5000,
    },
    deadlineAt: Date.now() + 5000,
    createdAt: Date.now(),
    data: { version: 3, nested: { ok: true } },
    ...over,
  };
}

const succeeded = () => ({ status: 'succeeded' as const, completedAt: Date.now() });

/**
 * Registers vitest tests every {@link CursorStore} must pass: idempotent insert, transactional hooks,
 * compare-and-set completion under concurrency, rollback on a throwing `apply`, keyset listing.
 * Call it at the top level of a test file with a factory that returns a fresh harness.
 *
 * @example
 * ```ts
 * import { cursorStoreConformance } from '@vespid/sdk-dispatch/testing';
 *
 * cursorStoreConformance('my store', async () => {
 *   const store = myStore();
 *   const effects: string[] = [];
 *   return { store, writeEffect: async (tx, key) => tx.later(() => effects.push(key)), countEffects: async (k) => effects.filter((e) => e === k).length };
 * });
 * ```
 */
export function cursorStoreConformance<Tx>(name: string, factory: () => Promise<CursorStoreHarness<Tx>>): void {
  describe(`CursorStore conformance: ${name}`, () => {
    let h: CursorStoreHarness<Tx>;
    beforeEach(async () => {
      h = await factory();
      await Promise.all([h.store.migrate(), h.store.migrate()]);
    });
    afterEach(async () => {
      await h.store.close();
      await h.cleanup?.();
    });

    it('inserts a blocked cursor once and returns the original on repeats', async () => {
      const c = newCursor();
      const first = await h.store.insert(c);
      expect(first.created).toBe(true);
      expect(first.cursor).toMatchObject({ ...c, status: 'blocked', dispatchedAt: null, completedAt: null, outcome: null });
      const again = await h.store.insert({ ...c, deadlineAt: c.deadlineAt + 1, data: { other: true } });
      expect(again.created).toBe(false);
      expect(again.cursor.deadlineAt).toBe(c.deadlineAt);
      expect(again.cursor.data).toEqual(c.data);
      expect(await h.store.get(c.requestId)).toEqual(first.cursor);
      expect(await h.store.get('missing:node:0')).toBeUndefined();
    });

    it('runs onInserted in the insert transaction and inserts nothing when it throws', async () => {
      const ok = newCursor();
      await h.store.insert(ok, (cursor, tx) => h.writeEffect(tx, `ins:${cursor.requestId}`));
      expect(await h.countEffects(`ins:${ok.requestId}`)).toBe(1);
      await h.store.insert(ok, (cursor, tx) => h.writeEffect(tx, `ins:${cursor.requestId}`));
      expect(await h.countEffects(`ins:${ok.requestId}`)).toBe(1);

      const bad = newCursor();
      await expect(
        h.store.insert(bad, async (cursor, tx) => {
          await h.writeEffect(tx, `ins:${cursor.requestId}`);
          throw new Error('host failed');
        }),
      ).rejects.toThrow('host failed');
      expect(await h.store.get(bad.requestId)).toBeUndefined();
      expect(await h.countEffects(`ins:${bad.requestId}`)).toBe(0);
    });

    it('records the first dispatch time only while blocked', async () => {
      const c = newCursor();
      await h.store.insert(c);
      await h.store.markDispatched(c.requestId, 1000);
      await h.store.markDispatched(c.requestId, 2000);
      expect((await h.store.get(c.requestId))?.dispatchedAt).toBe(1000);
    });

    it('completes once: the winner applies, later callers see the completed cursor', async () => {
      const c = newCursor();
      await h.store.insert(c);
      const first = await h.store.complete(c.requestId, succeeded(), async (cursor, tx) => {
        expect(cursor.status).toBe('blocked');
        await h.writeEffect(tx, `done:${c.requestId}`);
        return 'v1';
      });
      expect(first).toMatchObject({ applied: true, value: 'v1', cursor: { status: 'completed', outcome: { status: 'succeeded' } } });
      const second = await h.store.complete(c.requestId, succeeded(), async (_cursor, tx) => h.writeEffect(tx, `done:${c.requestId}`));
      expect(second.applied).toBe(false);
      expect(second.cursor?.status).toBe('completed');
      expect(await h.countEffects(`done:${c.requestId}`)).toBe(1);
      expect(await h.store.listBlocked({ limit: 1000 })).not.toContainEqual(expect.objectContaining({ requestId: c.requestId }));
    });

    it('lets exactly one of many concurrent completions apply', async () => {
      const c = newCursor();
      await h.store.insert(c);
      const outcomes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          h.store.complete(c.requestId, { status: i % 2 ? 'failed' : 'succeeded', completedAt: Date.now() }, async (_cursor, tx) => {
            await h.writeEffect(tx, `race:${c.requestId}`);
          }),
        ),
      );
      expect(outcomes.filter((o) => o.applied)).toHaveLength(1);
      expect(await h.countEffects(`race:${c.requestId}`)).toBe(1);
    });

    it('rolls back when apply throws, leaving the cursor blocked for a later attempt', async () => {
      const c = newCursor();
      await h.store.insert(c);
      await expect(
        h.store.complete(
          c.requestId,
          { status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT', message: 'late' }, completedAt: 1 },
          async (_x, tx) => {
            await h.writeEffect(tx, `rb:${c.requestId}`);
            throw new Error('host crashed mid-apply');
          },
        ),
      ).rejects.toThrow('host crashed mid-apply');
      expect((await h.store.get(c.requestId))?.status).toBe('blocked');
      expect(await h.countEffects(`rb:${c.requestId}`)).toBe(0);
      const retry = await h.store.complete(
        c.requestId,
        { status: 'failed', error: { code: 'NODE_EXECUTION_TIMEOUT', message: 'late' }, completedAt: 2 },
        async (_x, tx) => h.writeEffect(tx, `rb:${c.requestId}`),
      );
      expect(retry.applied).toBe(true);
      expect(retry.cursor?.outcome).toEqual({ status: 'failed', errorCode: 'NODE_EXECUTION_TIMEOUT' });
      expect(await h.countEffects(`rb:${c.requestId}`)).toBe(1);
    });

    it('does not complete an unknown request', async () => {
      const r = await h.store.complete('nobody:node:0', succeeded(), async () => 'x');
      expect(r).toEqual({ applied: false, cursor: undefined });
    });

    it('lists blocked cursors in request-id order with keyset pagination', async () => {
      const tag = `l${Math.random().toString(36).slice(2, 8)}`;
      const ids = ['B', 'a', 'c', 'A', 'b'].map((x) => `${tag}${x}`);
      for (const runId of ids) await h.store.insert(newCursor({ runId }));
      await h.store.complete(`${tag}c:node:0`, succeeded(), async () => undefined);
      const mine = (list: { requestId: string }[]) => list.map((c) => c.requestId).filter((id) => id.startsWith(tag));
      const all = mine(await h.store.listBlocked({ limit: 10_000 }));
      expect(all).toEqual([`${tag}A:node:0`, `${tag}B:node:0`, `${tag}a:node:0`, `${tag}b:node:0`]);
      const pages: string[] = [];
      let after: string | undefined = `${tag}`;
      for (let i = 0; i < 10; i++) {
        const page = await h.store.listBlocked({ after, limit: 2 });
        const own = mine(page);
        pages.push(...own);
        if (own.length < 2) break;
        after = page[page.length - 1]!.requestId;
      }
      expect(pages).toEqual(all);
    });

    it('lists only the blocked cursors created within a window (createdAfter exclusive, createdBefore inclusive)', async () => {
      const tag = `w${Math.random().toString(36).slice(2, 8)}`;
      const base = 1_700_000_000_000;
      for (const [x, at] of [
        ['a', base],
        ['b', base + 10],
        ['c', base + 20],
        ['d', base + 30],
      ] as const) {
        await h.store.insert(newCursor({ runId: `${tag}${x}`, createdAt: at }));
      }
      await h.store.complete(`${tag}c:node:0`, succeeded(), async () => undefined);
      const ids = (await h.store.listBlocked({ limit: 10_000, createdAfter: base, createdBefore: base + 30 }))
        .map((c) => c.requestId)
        .filter((id) => id.startsWith(tag));
      expect(ids).toEqual([`${tag}b:node:0`, `${tag}d:node:0`]);
    });

    it('stores a dispatch time given with the completion unless one was recorded', async () => {
      const fresh = newCursor();
      await h.store.insert(fresh);
      const r1 = await h.store.complete(fresh.requestId, { ...succeeded(), dispatchedAt: 42 }, async () => undefined);
      expect(r1.cursor?.dispatchedAt).toBe(42);
      const marked = newCursor();
      await h.store.insert(marked);
      await h.store.markDispatched(marked.requestId, 7);
      const r2 = await h.store.complete(marked.requestId, { ...succeeded(), dispatchedAt: 42 }, async () => undefined);
      expect(r2.cursor?.dispatchedAt).toBe(7);
      expect((await h.store.get(marked.requestId))?.dispatchedAt).toBe(7);
    });
  });
}

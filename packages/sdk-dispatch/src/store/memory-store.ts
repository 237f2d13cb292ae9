import type { BlockedCursor, CompleteResult, CursorOutcome, CursorStore, NewCursor } from './cursor.js';

/**
 * The transaction handle of the in-memory store. In-memory host state cannot be rolled back, so stage
 * side effects with `onCommit`: they run only if the transaction commits, which gives the same
 * all-or-nothing behaviour as the Postgres store.
 *
 * @example
 * ```ts
 * onResult: ({ cursor, tx }) => tx.onCommit(() => runs.advance(cursor.runId))
 * ```
 */
export interface MemoryTx {
  onCommit(fn: () => void): void;
}

function copy(cursor: BlockedCursor): BlockedCursor {
  return structuredClone(cursor);
}

/**
 * An in-memory {@link CursorStore} for embedded single-process use (no database) and tests. Same
 * compare-and-set semantics as the Postgres store; state is lost when the process exits.
 *
 * @example
 * ```ts
 * const store = memoryCursorStore();
 * const runner = createContinuationRunner({
 *   client, store,
 *   onResult: async ({ cursor, result, tx }) => tx.onCommit(() => events.push({ type: `node_${result.status}`, nodeId: cursor.nodeId })),
 * });
 * ```
 */
export function memoryCursorStore(): CursorStore<MemoryTx> & { readonly size: number } {
  const cursors = new Map<string, BlockedCursor>();
  const locks = new Map<string, Promise<unknown>>();

  // Serializes work per request id, like a row lock: the second caller sees the first one's outcome.
  async function withLock<T>(requestId: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(requestId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    locks.set(requestId, tail);
    try {
      return await run;
    } finally {
      if (locks.get(requestId) === tail) locks.delete(requestId);
    }
  }

  async function transaction(apply: (tx: MemoryTx) => Promise<void>): Promise<void> {
    const staged: Array<() => void> = [];
    await apply({ onCommit: (fn) => staged.push(fn) });
    for (const fn of staged) fn();
  }

  return {
    get size() {
      return cursors.size;
    },
    async migrate() {},
    insert(cursor: NewCursor, onInserted) {
      return withLock(cursor.requestId, async () => {
        const existing = cursors.get(cursor.requestId);
        if (existing) return { created: false, cursor: copy(existing) };
        const row: BlockedCursor = { ...structuredClone(cursor), status: 'blocked', dispatchedAt: null, completedAt: null, outcome: null };
        await transaction(async (tx) => {
          if (onInserted) await onInserted(copy(row), tx);
        });
        cursors.set(row.requestId, row);
        return { created: true, cursor: copy(row) };
      });
    },
    async get(requestId) {
      const c = cursors.get(requestId);
      return c ? copy(c) : undefined;
    },
    async markDispatched(requestId, at) {
      const c = cursors.get(requestId);
      if (c && c.status === 'blocked' && c.dispatchedAt === null) c.dispatchedAt = at;
    },
    complete<T>(requestId: string, outcome: CursorOutcome, apply: (cursor: BlockedCursor, tx: MemoryTx) => Promise<T>) {
      return withLock(requestId, async (): Promise<CompleteResult<T>> => {
        const c = cursors.get(requestId);
        if (c?.status !== 'blocked') return { applied: false, cursor: c ? copy(c) : undefined };
        const done: BlockedCursor = {
          ...copy(c),
          status: 'completed',
          dispatchedAt: c.dispatchedAt ?? outcome.dispatchedAt ?? null,
          completedAt: outcome.completedAt,
          outcome: { status: outcome.status, errorCode: outcome.error?.code },
        };
        let value!: T;
        await transaction(async (tx) => {
          value = await apply(copy(c), tx);
        });
        cursors.set(requestId, done);
        return { applied: true, value, cursor: copy(done) };
      });
    },
    async listBlocked({ after, limit, createdAfter, createdBefore }) {
      return [...cursors.values()]
        .filter(
          (c) =>
            c.status === 'blocked' &&
            (after === undefined || c.requestId > after) &&
            (createdAfter === undefined || c.createdAt > createdAfter) &&
            (createdBefore === undefined || c.createdAt <= createdBefore),
        )
        .sort((a, b) => (a.requestId < b.requestId ? -1 : a.requestId > b.requestId ? 1 : 0))
        .slice(0, limit)
        .map(copy);
    },
    async close() {},
  };
}

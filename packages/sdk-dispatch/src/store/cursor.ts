import type { ErrorInfo, Selector, TraceContext } from '@vespid/protocol';

/**
 * What the runner needs to (re)send a request. The secret is deliberately absent: it is never stored.
 *
 * @example
 * ```ts
 * const request: StoredRequest = { kind: 'agent.execute', payload: { task }, timeoutMs: 30_000 };
 * ```
 */
export interface StoredRequest {
  kind: string;
  payload: unknown;
  selector?: Selector | undefined;
  timeoutMs: number;
  /** How long the gateway may queue it waiting for an agent (sent again with every re-dispatch). */
  queueTimeoutMs?: number | undefined;
  /** W3C context of the runner's block span (tracing on): re-dispatches and the apply span continue it. */
  trace?: TraceContext | undefined;
}

/**
 * A run parked on a remote node: persisted before the request is sent, completed exactly once when
 * its result (or its deadline) arrives.
 *
 * @example
 * ```ts
 * const cursor = await store.get('run7:fetch:0');
 * if (cursor?.status === 'blocked' && Date.now() > cursor.deadlineAt) log('overdue') // the runner times it out
 * ```
 */
export interface BlockedCursor {
  /** `runId:nodeId:attempt`; the primary key. */
  requestId: string;
  runId: string;
  nodeId: string;
  attempt: number;
  organizationId: string;
  /** `blocked` until a result was applied, then `completed` forever. */
  status: 'blocked' | 'completed';
  request: StoredRequest;
  /** Epoch ms after which the runner applies `NODE_EXECUTION_TIMEOUT`. */
  deadlineAt: number;
  createdAt: number;
  /** Epoch ms when the gateway accepted the request; `null` until then (a crash may leave it unset). */
  dispatchedAt: number | null;
  completedAt: number | null;
  /** Terminal status once completed. */
  outcome: { status: 'succeeded' | 'failed'; errorCode?: string | undefined } | null;
  /** Host context (JSON), e.g. the workflow version or the secret's id. Never put a secret here. */
  data?: unknown;
}

/**
 * A new cursor as the runner hands it to {@link CursorStore.insert}.
 *
 * @example
 * ```ts
 * await store.insert({ requestId: 'r:n:0', runId: 'r', nodeId: 'n', attempt: 0, organizationId: 'o',
 *   request: { kind: 'connector.action', payload, timeoutMs: 60_000 }, deadlineAt: Date.now() + 60_000, createdAt: Date.now() });
 * ```
 */
export type NewCursor = Omit<BlockedCursor, 'status' | 'dispatchedAt' | 'completedAt' | 'outcome'>;

/**
 * The terminal outcome recorded by {@link CursorStore.complete}.
 *
 * @example
 * ```ts
 * await store.complete(id, { status: 'succeeded', completedAt: Date.now() }, apply);
 * ```
 */
export interface CursorOutcome {
  status: 'succeeded' | 'failed';
  error?: ErrorInfo | undefined;
  completedAt: number;
  /** When the gateway accepted the request, if the runner knew it but had not stored it yet (kept if already set). */
  dispatchedAt?: number | undefined;
}

/**
 * What {@link CursorStore.complete} reports.
 *
 * @example
 * ```ts
 * const r = await store.complete(id, outcome, apply);
 * if (!r.applied) return; // someone else applied it first
 * ```
 */
export type CompleteResult<T> = { applied: true; value: T; cursor: BlockedCursor } | { applied: false; cursor: BlockedCursor | undefined };

/**
 * What {@link CursorStore.listBlocked} selects.
 *
 * @example
 * ```ts
 * await store.listBlocked({ limit: 500, createdAfter: Date.now() - 4000, createdBefore: Date.now() });
 * ```
 */
export interface ListBlockedOptions {
  after?: string | undefined;
  limit: number;
  /** Epoch ms, exclusive. */
  createdAfter?: number | undefined;
  /** Epoch ms, inclusive. */
  createdBefore?: number | undefined;
}

/**
 * Persistence of blocked cursors. Implementations must make {@link CursorStore.complete} a
 * compare-and-set whose winner runs `apply` inside the same transaction: if `apply` throws (or the
 * process dies) the cursor stays `blocked` and the result is applied later; it is never applied twice.
 * `Tx` is what `apply` receives to write its own side effects atomically (a `pg` client for Postgres).
 *
 * Run `cursorStoreConformance` from `@vespid/sdk-dispatch/testing` against any implementation.
 *
 * @example
 * ```ts
 * class MyStore implements CursorStore<MyTx> { … }
 * cursorStoreConformance('my store', async () => ({ store: new MyStore(), writeEffect, countEffects }));
 * ```
 */
export interface CursorStore<Tx = unknown> {
  /** Creates the store's tables if needed. Safe to call concurrently and repeatedly. */
  migrate(): Promise<void>;
  /**
   * Inserts a cursor unless one with the same request id exists. When inserted, `onInserted` runs in
   * the same transaction (e.g. to append `node_dispatched`); when it throws nothing is inserted.
   */
  insert(
    cursor: NewCursor,
    onInserted?: (cursor: BlockedCursor, tx: Tx) => Promise<void>,
  ): Promise<{ created: boolean; cursor: BlockedCursor }>;
  get(requestId: string): Promise<BlockedCursor | undefined>;
  /** Records that the gateway accepted the request (only while blocked). */
  markDispatched(requestId: string, at: number): Promise<void>;
  /** Compare-and-set `blocked → completed`; the single winner runs `apply` in the same transaction. */
  complete<T>(requestId: string, outcome: CursorOutcome, apply: (cursor: BlockedCursor, tx: Tx) => Promise<T>): Promise<CompleteResult<T>>;
  /**
   * Blocked cursors ordered by request id, after `after` (keyset pagination), at most `limit`; with
   * `createdAfter`/`createdBefore`, only those with `createdAfter < createdAt <= createdBefore` (a
   * store that ignores the window is still correct, it only hands the runner more cursors).
   */
  listBlocked(options: ListBlockedOptions): Promise<BlockedCursor[]>;
  /** Releases what the store owns (not an injected pool). Idempotent. */
  close(): Promise<void>;
}

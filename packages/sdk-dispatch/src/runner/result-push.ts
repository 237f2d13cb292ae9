import type { StoredResult } from '@vespid/protocol';

/**
 * A live subscription to result publications; `close()` ends it (idempotent).
 *
 * @example
 * ```ts
 * const sub = await push.subscribe({ onResult: (r) => console.log(r.requestId) });
 * await sub.close();
 * ```
 */
export interface ResultSubscription {
  close(): Promise<void>;
}

/**
 * Where the runner hears about results the moment the gateway stores them (so a run resumes in
 * milliseconds, not at the next poll). Delivery is best effort: what is missed while disconnected is
 * found by polling, and `onReconnect` lets the runner look for it at once. The Redis built-in is
 * `redisResultPush()` from `@vespid/sdk-dispatch/redis`; the runner itself knows no transport.
 *
 * @example
 * ```ts
 * import { redisResultPush } from '@vespid/sdk-dispatch/redis';
 *
 * createContinuationRunner({ client, store, onResult, push: redisResultPush({ connection: process.env.REDIS_URL! }) });
 * ```
 */
export interface ResultPush {
  /** A label for logs (e.g. the channel). */
  readonly name: string;
  /** Starts listening; rejects if the subscription cannot be made. Invalid publications are dropped by the source. */
  subscribe(handlers: { onResult: (result: StoredResult) => void; onReconnect?: () => void }): Promise<ResultSubscription>;
}

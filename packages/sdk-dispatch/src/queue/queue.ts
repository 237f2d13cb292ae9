/**
 * What one continuation step decided: finished, or look again at `retryAt` (epoch ms).
 *
 * @example
 * ```ts
 * await queue.start(async (id) => (await check(id)) ? { done: true } : { done: false, retryAt: Date.now() + 2000 });
 * ```
 */
export type ContinuationStep = { done: true } | { done: false; retryAt: number };

/**
 * The runner's per-request step; the queue calls it when a continuation is due.
 *
 * @example
 * ```ts
 * const handler: ContinuationHandler = async () => ({ done: true });
 * ```
 */
export type ContinuationHandler = (requestId: string) => Promise<ContinuationStep>;

/**
 * Where continuations live between checks: one logical job per blocked request id, due at a time.
 * Built-ins: {@link inProcessQueue} (timers, no Redis) and {@link bullmqQueue} (BullMQ, survives
 * restarts, shared by all workers).
 *
 * @example
 * ```ts
 * const runner = createContinuationRunner({ client, store, onResult, queue: bullmqQueue({ connection: redisUrl }) });
 * ```
 */
export interface ContinuationQueue {
  /** A label for logs. */
  readonly name: string;
  /** Starts consuming; `handler` runs at most `concurrency` at a time. */
  start(handler: ContinuationHandler): Promise<void>;
  /**
   * Ensures a continuation for `requestId` exists, due at `runAt` when created here. A no-op when one
   * already exists, unless `promote` is set, which makes the existing one due at `runAt`.
   */
  schedule(requestId: string, runAt: number, options?: { promote?: boolean }): Promise<void>;
  /** Drops the continuation (best effort: a running one finishes). */
  cancel(requestId: string): Promise<void>;
  /** Stops consuming: waits for running steps up to `timeoutMs`, keeps scheduled ones if durable. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/**
 * `@vespid/sdk-dispatch/redis` — the Redis parts of the continuation runner: {@link bullmqQueue}, a
 * durable continuation queue shared by every worker, and {@link redisResultPush}, the gateway's result
 * publications so a blocked run resumes in milliseconds. `ioredis` and `bullmq` are optional peer
 * dependencies of `@vespid/sdk-dispatch` (a worker that only dispatches over HTTP does not install
 * them): install them with `npm install ioredis bullmq`. They are loaded on first use, so without them
 * `queue.start()` / `push.subscribe()` — and so `runner.start()` — reject with a
 * `DispatchError` with code `OPTIONAL_DEPENDENCY_MISSING`.
 *
 * @example
 * ```ts
 * import { createContinuationRunner, continuationOptionsFromEnv, dispatchClientFromEnv } from '@vespid/sdk-dispatch';
 * import { postgresCursorStore } from '@vespid/sdk-dispatch/postgres';
 * import { bullmqQueue, redisResultPush } from '@vespid/sdk-dispatch/redis';
 *
 * const env = continuationOptionsFromEnv(process.env);
 * const runner = createContinuationRunner({
 *   client: dispatchClientFromEnv(process.env),
 *   store: postgresCursorStore({ pool }),
 *   queue: bullmqQueue({ connection: process.env.REDIS_URL!, queueName: env.queueName, concurrency: env.concurrency }),
 *   push: redisResultPush({ connection: process.env.REDIS_URL! }),
 *   ...env,
 *   onResult: ({ cursor, result, tx }) => advanceRun(tx, cursor, result),
 * });
 * ```
 *
 * @packageDocumentation
 */
export { bullmqQueue, DEFAULT_CONTINUATION_QUEUE_NAME, type BullmqQueueOptions } from './bullmq-queue.js';
export { redisResultPush, type RedisResultPushOptions } from './result-push.js';
export type { ResultPush, ResultSubscription } from '../runner/result-push.js';
export type { ContinuationQueue } from '../queue/queue.js';

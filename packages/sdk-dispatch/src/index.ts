/**
 * `@vespid/sdk-dispatch` — the worker side of Vespid remote execution: a keep-alive HTTP client for
 * the gateway's internal dispatch API, and a continuation runner that parks a workflow run on a
 * blocked cursor and resumes it exactly once when the node's result arrives (Redis push first,
 * polling as a fallback, `NODE_EXECUTION_TIMEOUT` at the deadline). This entry loads no Redis or
 * Postgres driver: the BullMQ queue and the Redis result push live in `@vespid/sdk-dispatch/redis`
 * (optional peers `ioredis` + `bullmq`), the Postgres cursor store in `@vespid/sdk-dispatch/postgres`
 * (optional peer `pg`), the store conformance suite in `@vespid/sdk-dispatch/testing`.
 *
 * @example
 * ```ts
 * import { createDispatchClient } from '@vespid/sdk-dispatch';
 *
 * const client = createDispatchClient({ gatewayHttpUrl: 'http://gateway:3002', serviceToken });
 * const { status, output } = await client.dispatch(request);       // waits for the result
 * const { dispatched } = await client.dispatchAsync(otherRequest); // does not wait
 * ```
 *
 * @example
 * ```ts
 * import { createContinuationRunner, continuationOptionsFromEnv, dispatchClientFromEnv, memoryCursorStore } from '@vespid/sdk-dispatch';
 * import { bullmqQueue, redisResultPush } from '@vespid/sdk-dispatch/redis'; // npm install ioredis bullmq
 *
 * const redis = process.env.REDIS_URL;
 * const env = continuationOptionsFromEnv(process.env);
 * const runner = createContinuationRunner({
 *   client: dispatchClientFromEnv(process.env),   // throws GATEWAY_NOT_CONFIGURED without GATEWAY_SERVICE_TOKEN
 *   store: memoryCursorStore(),
 *   // optional: without them, an in-process queue and polling
 *   ...(redis ? { queue: bullmqQueue({ connection: redis, queueName: env.queueName }), push: redisResultPush({ connection: redis }) } : {}),
 *   ...env,
 *   onResult: async ({ cursor, result, tx }) => tx.onCommit(() => advanceRun(cursor.runId, cursor.nodeId, result)),
 * });
 * runner.on('applied', ({ cursor }) => log.info({ runId: cursor.runId }, 'node finished'));
 * await runner.start();
 * await runner.block({ organizationId, runId, nodeId: 'fetch', attempt: 0, kind: 'connector.action', payload });
 * ```
 *
 * @packageDocumentation
 */
export { DispatchError } from './errors.js';
export { requestIdFor, continuationJobId, type NodeAttempt } from './request-id.js';
export {
  createDispatchClient,
  dispatchClientFromEnv,
  type DispatchClient,
  type DispatchClientFromEnvOptions,
  type CallOptions,
} from './client/dispatch-client.js';
export { DEFAULT_GATEWAY_HTTP_URL, dispatchClientOptionsFromEnv, type DispatchClientOptions } from './client/options.js';
export type { TracingOption } from './tracing.js';
export type { ChannelState } from './client/channel.js';
export type {
  BlockedCursor,
  NewCursor,
  StoredRequest,
  CursorOutcome,
  CompleteResult,
  CursorStore,
  ListBlockedOptions,
} from './store/cursor.js';
export { memoryCursorStore, type MemoryTx } from './store/memory-store.js';
export type { ContinuationQueue, ContinuationHandler, ContinuationStep } from './queue/queue.js';
export { inProcessQueue, type InProcessQueueOptions } from './queue/in-process-queue.js';
export { createContinuationRunner } from './runner/continuation-runner.js';
export type { ContinuationRunner, RunnerState } from './runner/types.js';
/** A listener of `runner.on()` (the SDKs' one listener type, from `@vespid/protocol`). */
export type { EventListener as RunnerListener } from '@vespid/protocol';
export type { ResultPush, ResultSubscription } from './runner/result-push.js';
export {
  continuationOptionsFromEnv,
  CONTINUATION_DEFAULTS,
  type ContinuationEnvOptions,
  type ContinuationRunnerOptions,
  type ContinuationResult,
  type ResultEvent,
  type ContinuationRunnerEvents,
  type DispatchedEvent,
  type QueuedEvent,
  type AppliedEvent,
  type ResultSource,
  type BlockInput,
  type BlockResult,
} from './runner/options.js';

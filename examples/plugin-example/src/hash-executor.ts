// #region executor
import { createHash } from 'node:crypto';
import { setImmediate as nextTick } from 'node:timers/promises';
import { formatZodIssues } from '@vespid/protocol';
import { type Executor, type ExecutorResult, toErrorInfo } from '@vespid/sdk-agent';
import { z } from 'zod';

/** The payload a workflow node of kind `example.hash` carries. */
const HashPayload = z.strictObject({
  text: z.string().max(1_000_000),
  algorithm: z.enum(['sha256', 'sha512']).default('sha256'),
  /** Hash the digest again this many times (a stand-in for any long, CPU-bound job). */
  rounds: z.number().int().min(1).max(100_000_000).default(1),
});

/**
 * Options of {@link hashExecutor}.
 *
 * @example
 * ```ts
 * const options: HashExecutorOptions = { roundsPerSlice: 5_000 };
 * ```
 */
export interface HashExecutorOptions {
  /** Rounds computed before yielding to the event loop, so heartbeats and aborts get through. @default 10000 */
  roundsPerSlice?: number;
}

/**
 * A custom executor for nodes of kind `example.hash`: hashes `payload.text` `rounds` times. Long jobs
 * are cut into slices so the event loop stays free (the agent keeps answering pings) and the task's
 * `signal` (timeout, cancel, shutdown) ends it between two slices.
 *
 * @example
 * ```ts
 * createAgent({ gatewayWsUrl, agentToken, name: 'edge-1', executors: [hashExecutor()] });
 * ```
 */
export function hashExecutor(options: HashExecutorOptions = {}): Executor {
  const slice = options.roundsPerSlice ?? 10_000;
  return {
    kind: 'example.hash',
    async execute(task, { signal, logger }): Promise<ExecutorResult> {
      const parsed = HashPayload.safeParse(task.payload);
      if (!parsed.success) {
        // Name the fields only: a message quoting the payload could leak data into logs.
        const fields = formatZodIssues(parsed.error, { show: 'paths', root: '(payload)' });
        return { status: 'failed', error: { code: 'BAD_REQUEST', message: `invalid example.hash payload: ${fields}` } };
      }
      const { text, algorithm, rounds } = parsed.data;
      try {
        let digest = createHash(algorithm).update(text).digest('hex');
        for (let done = 1; done < rounds; done++) {
          if (done % slice === 0) {
            await nextTick();
            signal.throwIfAborted();
          }
          digest = createHash(algorithm).update(digest).digest('hex');
        }
        signal.throwIfAborted();
        logger.debug({ requestId: task.requestId, rounds }, 'hash computed');
        return { status: 'succeeded', output: { algorithm, rounds, digest } };
      } catch (err) {
        if (signal.aborted) return { status: 'failed', error: { code: 'TASK_CANCELLED', message: 'example.hash was aborted' } };
        return { status: 'failed', error: toErrorInfo(err) };
      }
    },
  };
}
// #endregion executor

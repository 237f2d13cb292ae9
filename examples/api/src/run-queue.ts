/**
 * The run queue hands newly created runs to the worker. The api enqueues `{runId, organizationId}`
 * after the run row and its `run_queued` event are committed; the worker consumes.
 */
import { Queue, type ConnectionOptions, type JobsOptions } from 'bullmq';

/**
 * BullMQ queue name of workflow runs. The worker consumes exactly this.
 *
 * @example
 * ```ts
 * new Worker(RUN_QUEUE_NAME, processRun, { connection });
 * ```
 */
export const RUN_QUEUE_NAME = 'workflow-runs';

/** The job of a run. @example `{ runId: '6f1c…', organizationId: '9a2b…' }` */
export interface RunJob {
  runId: string;
  organizationId: string;
}

/**
 * Where new runs go.
 *
 * @example
 * ```ts
 * await runQueue.enqueue({ runId, organizationId });
 * ```
 */
export interface RunQueue {
  enqueue(job: RunJob): Promise<void>;
  close?(): Promise<void>;
}

/** Options of {@link bullmqRunQueue}. @example `{ connection: redis, prefix: 'test1' }` */
export interface BullmqRunQueueOptions {
  /** An ioredis instance or connection options. */
  connection: ConnectionOptions;
  /** @default 'workflow-runs' */
  queueName?: string;
  /** BullMQ key prefix (isolates tests). @default 'bull' */
  prefix?: string;
  /** Job options merged over the defaults (3 attempts, exponential backoff from 1 s). */
  jobOptions?: JobsOptions;
}

/** A BullMQ-backed {@link RunQueue}; `queue` is exposed for inspection. @example `await q.queue.getJob(runId)` */
export interface BullmqRunQueue extends RunQueue {
  readonly queue: Queue<RunJob>;
  close(): Promise<void>;
}

/**
 * A {@link RunQueue} on BullMQ queue `workflow-runs`. The job id is the run id, so enqueueing the same
 * run twice is a no-op (run ids are UUIDs: BullMQ job ids must not contain ':').
 *
 * @example
 * ```ts
 * const runQueue = bullmqRunQueue({ connection: new Redis(url, { maxRetriesPerRequest: null }) });
 * ```
 */
export function bullmqRunQueue(options: BullmqRunQueueOptions): BullmqRunQueue {
  const queue = new Queue<RunJob>(options.queueName ?? RUN_QUEUE_NAME, {
    connection: options.connection,
    ...(options.prefix ? { prefix: options.prefix } : {}),
  });
  let closed: Promise<void> | undefined;
  return {
    queue,
    async enqueue(job) {
      if (job.runId.includes(':')) throw new Error('run id must not contain ":" (BullMQ job id)');
      await queue.add(
        'run',
        { runId: job.runId, organizationId: job.organizationId },
        {
          attempts: 3,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: { count: 1000 },
          removeOnFail: { count: 1000 },
          ...options.jobOptions,
          jobId: job.runId,
        },
      );
    },
    close() {
      closed ??= queue.close();
      return closed;
    },
  };
}

/**
 * An in-process {@link RunQueue} for the single-process demo without Redis: each enqueued run is
 * handed to `handler` on the next tick (never inside the HTTP request). Handler errors go to `onError`.
 *
 * @example
 * ```ts
 * const runQueue = inProcessRunQueue((job) => worker.processRun(job));
 * ```
 */
export function inProcessRunQueue(handler: (job: RunJob) => Promise<void> | void, onError?: (err: unknown, job: RunJob) => void): RunQueue {
  return {
    async enqueue(job) {
      const copy = { runId: job.runId, organizationId: job.organizationId };
      setImmediate(() => {
        Promise.resolve()
          .then(() => handler(copy))
          .catch((err) => onError?.(err, copy));
      });
    },
  };
}

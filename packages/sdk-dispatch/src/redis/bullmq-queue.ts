import { type Logger, noopLogger } from '@vespid/protocol';
import type { Job, Queue, Worker } from 'bullmq';
import type { Redis, RedisOptions } from 'ioredis';
import type { ContinuationHandler, ContinuationQueue } from '../queue/queue.js';
import { continuationJobId } from '../request-id.js';
import { type RedisPeers, loadRedisPeer } from './load.js';

/**
 * The runbook default of `WORKFLOW_CONTINUATION_QUEUE_NAME`.
 *
 * @example
 * ```ts
 * bullmqQueue({ connection, queueName: DEFAULT_CONTINUATION_QUEUE_NAME });
 * ```
 */
export const DEFAULT_CONTINUATION_QUEUE_NAME = 'workflow-continuations';

/**
 * Options of {@link bullmqQueue}.
 *
 * @example
 * ```ts
 * bullmqQueue({ connection: 'redis://127.0.0.1:6379', queueName: 'workflow-continuations', concurrency: 10 });
 * ```
 */
export interface BullmqQueueOptions {
  /** A Redis URL, or an ioredis client to copy settings from (the queue opens its own connections). */
  connection: string | Redis;
  /** BullMQ queue name (`WORKFLOW_CONTINUATION_QUEUE_NAME`). @default 'workflow-continuations' */
  queueName?: string;
  /** Jobs processed at once by this worker (`WORKFLOW_CONTINUATION_CONCURRENCY`). @default 10 */
  concurrency?: number;
  /** BullMQ key prefix. @default 'bull' */
  prefix?: string;
  /** Delay before retrying a step that threw. @default 1000 */
  errorRetryMs?: number;
  logger?: Logger;
}

interface JobData {
  requestId: string;
}

/**
 * A {@link ContinuationQueue} on BullMQ: one job per blocked request (id `cont~<requestId with ~ for :>`),
 * kept delayed between checks with `moveToDelayed`, so continuations survive worker restarts and are
 * shared by every worker on the queue. Completed and failed jobs are removed so an id can be reused.
 *
 * @example
 * ```ts
 * import { bullmqQueue } from '@vespid/sdk-dispatch/redis';
 *
 * const queue = bullmqQueue({ connection: process.env.REDIS_URL!, queueName: 'workflow-continuations', concurrency: 10 });
 * const runner = createContinuationRunner({ client, store, onResult, queue });
 * ```
 */
export function bullmqQueue(options: BullmqQueueOptions): ContinuationQueue {
  const name = options.queueName ?? DEFAULT_CONTINUATION_QUEUE_NAME;
  const logger = options.logger ?? noopLogger;
  const errorRetryMs = options.errorRetryMs ?? 1000;
  const prefix = options.prefix ?? 'bull';
  // The optional peers are loaded on first use, so a missing one rejects start() (and so
  // runner.start()) with OPTIONAL_DEPENDENCY_MISSING; nothing is opened before they are there.
  let peers: Promise<[RedisPeers['ioredis'], RedisPeers['bullmq']]> | undefined;
  const load = () => (peers ??= Promise.all([loadRedisPeer('ioredis'), loadRedisPeer('bullmq')]));
  // BullMQ's blocking worker connection requires maxRetriesPerRequest: null.
  const open = (RedisClass: new (url: string, opts: RedisOptions) => Redis): Redis =>
    typeof options.connection === 'string'
      ? new RedisClass(options.connection, { maxRetriesPerRequest: null, lazyConnect: false })
      : options.connection.duplicate({ maxRetriesPerRequest: null });
  let queueConnection: Redis | undefined;
  let queue: Promise<Queue<JobData>> | undefined;
  const getQueue = () =>
    (queue ??= load().then(([{ Redis }, { Queue }]) => {
      queueConnection = open(Redis);
      const q: Queue<JobData> = new Queue<JobData>(name, { connection: queueConnection, prefix });
      q.on('error', (err) => logger.warn({ queue: name, err: err.message }, 'continuation queue error'));
      return q;
    }));
  let worker: Worker<JobData> | undefined;
  let workerConnection: Redis | undefined;
  let closing: Promise<void> | undefined;

  async function process(handler: ContinuationHandler, job: Job<JobData>, token?: string): Promise<void> {
    let retryAt: number | undefined;
    try {
      const step = await handler(job.data.requestId);
      retryAt = step.done ? undefined : step.retryAt;
    } catch (err) {
      logger.warn({ requestId: job.data.requestId, err: (err as Error).message }, 'continuation step failed; retrying');
      retryAt = Date.now() + errorRetryMs;
    }
    if (retryAt === undefined) return;
    // Same job, later: the id stays taken, so a sweeper's add() cannot create a twin.
    await job.moveToDelayed(Math.max(retryAt, Date.now() + 1), token);
    const [, { DelayedError }] = await load();
    throw new DelayedError();
  }

  return {
    name: `bullmq:${name}`,
    async start(handler) {
      if (worker || closing) return;
      const [{ Redis }, { Worker }] = await load();
      await getQueue();
      if (worker || closing) return;
      workerConnection = open(Redis);
      worker = new Worker<JobData>(name, (job, token) => process(handler, job, token), {
        connection: workerConnection,
        prefix,
        concurrency: Math.max(1, options.concurrency ?? 10),
      });
      worker.on('error', (err) => logger.warn({ queue: name, err: err.message }, 'continuation worker error'));
      await worker.waitUntilReady();
    },
    async schedule(requestId, runAt, opts = {}) {
      if (closing) return;
      const queue = await getQueue();
      const jobId = continuationJobId(requestId);
      const delay = Math.max(0, runAt - Date.now());
      // add() with a taken jobId is a no-op in BullMQ, which is exactly "ensure it exists".
      if (!opts.promote) {
        await queue.add('continue', { requestId }, { jobId, delay, removeOnComplete: true, removeOnFail: true });
        return;
      }
      const existing = await queue.getJob(jobId);
      if (!existing) {
        await queue.add('continue', { requestId }, { jobId, delay, removeOnComplete: true, removeOnFail: true });
        return;
      }
      if ((await existing.getState()) !== 'delayed') return;
      try {
        if (delay === 0) await existing.promote();
        else await existing.changeDelay(delay);
      } catch (err) {
        // It may have become active meanwhile, which is what we wanted anyway.
        logger.debug({ requestId, err: (err as Error).message }, 'could not reschedule continuation');
      }
    },
    async cancel(requestId) {
      if (closing) return;
      const queue = await getQueue();
      try {
        await queue.remove(continuationJobId(requestId));
      } catch (err) {
        logger.debug({ requestId, err: (err as Error).message }, 'continuation not removed (running)');
      }
    },
    close({ timeoutMs = 5000 } = {}) {
      closing ??= (async () => {
        if (worker) {
          let timer: NodeJS.Timeout | undefined;
          const graceful = worker.close();
          const forced = new Promise<'timeout'>((resolve) => {
            timer = setTimeout(() => resolve('timeout'), timeoutMs);
          });
          if ((await Promise.race([graceful, forced])) === 'timeout') await worker.close(true);
          clearTimeout(timer);
        }
        // Never created (never used, or its peers are missing): nothing to close.
        const opened = await queue?.catch(() => undefined);
        await opened?.close();
        for (const c of [queueConnection, workerConnection]) if (c && c.status !== 'end') await c.quit().catch(() => c.disconnect());
      })();
      return closing;
    },
  };
}

/**
 * The worker side of the `workflow-runs` queue: BullMQ when Redis is configured, an in-process queue
 * for the single-process demo. The api enqueues new runs (job id = run id); the worker re-enqueues a
 * run after each remote result with a step-keyed job id, so one step is never queued twice.
 */
import { Queue, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@vespid/protocol';
import type { RunJob } from './engine.js';

export const RUN_QUEUE_NAME = 'workflow-runs';

export interface RunQueueConsumer {
  /** Adds a continuation of a run (deduplicated by `stepKey`). */
  schedule(job: RunJob, stepKey: string, delayMs?: number): Promise<void>;
  /** Hands a new run to the worker (what the api's RunQueue does in-process). */
  enqueue(job: RunJob): Promise<void>;
  close(): Promise<void>;
}

function jobId(job: RunJob, stepKey: string): string {
  // BullMQ job ids must not contain ':'; run ids are UUIDs and node ids exclude ':' (DSL).
  return `${job.runId}-${stepKey}`.replaceAll(':', '-');
}

export function bullmqRunQueueConsumer(options: {
  connection: ConnectionOptions;
  prefix?: string;
  queueName?: string;
  concurrency: number;
  handler: (job: RunJob) => Promise<void>;
  logger: Logger;
}): RunQueueConsumer {
  const name = options.queueName ?? RUN_QUEUE_NAME;
  const base = { connection: options.connection, ...(options.prefix ? { prefix: options.prefix } : {}) };
  const queue = new Queue<RunJob>(name, base);
  const worker = new Worker<RunJob>(
    name,
    async (job) => options.handler({ runId: job.data.runId, organizationId: job.data.organizationId }),
    {
      ...base,
      concurrency: options.concurrency,
    },
  );
  worker.on('failed', (job, err) => options.logger.warn({ runId: job?.data.runId, err: err.message }, 'run job failed'));
  worker.on('error', (err) => options.logger.warn({ err: err.message }, 'run queue error'));
  const add = (job: RunJob, id: string, delayMs = 0) =>
    queue.add('run', job, {
      jobId: id,
      delay: delayMs,
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 3600, count: 10_000 },
      removeOnFail: { age: 24 * 3600 },
    });
  return {
    async schedule(job, stepKey, delayMs) {
      await add(job, jobId(job, stepKey), delayMs);
    },
    async enqueue(job) {
      await add(job, job.runId);
    },
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}

/** In-process queue: bounded concurrency, duplicate step keys dropped while pending. */
export function inProcessRunQueueConsumer(options: {
  concurrency: number;
  handler: (job: RunJob) => Promise<void>;
  logger: Logger;
}): RunQueueConsumer {
  const pending = new Set<string>();
  const timers = new Set<NodeJS.Timeout>();
  const waiting: Array<() => void> = [];
  let running = 0;
  let closed = false;
  const idle: Array<() => void> = [];

  async function run(job: RunJob, id: string): Promise<void> {
    if (running >= options.concurrency) await new Promise<void>((r) => waiting.push(r));
    running++;
    pending.delete(id);
    try {
      if (!closed) await options.handler(job);
    } catch (err) {
      options.logger.warn({ runId: job.runId, err: (err as Error).message }, 'run step failed; the sweeper will resume it');
    } finally {
      running--;
      waiting.shift()?.();
      if (running === 0 && timers.size === 0) for (const r of idle.splice(0)) r();
    }
  }
  function add(job: RunJob, id: string, delayMs = 0): void {
    if (closed || pending.has(id)) return;
    pending.add(id);
    const t = setTimeout(() => {
      timers.delete(t);
      void run(job, id);
    }, delayMs);
    timers.add(t);
  }
  return {
    async schedule(job, stepKey, delayMs) {
      add(job, jobId(job, stepKey), delayMs);
    },
    async enqueue(job) {
      add(job, job.runId);
    },
    async close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      if (running > 0) await new Promise<void>((r) => idle.push(r));
    },
  };
}

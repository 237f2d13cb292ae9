import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../../test/services.js';
import { continuationJobId } from '../request-id.js';
import { bullmqQueue } from './bullmq-queue.js';
import type { ContinuationQueue } from '../queue/queue.js';
import { waitFor } from '../../../../test/support/wait-for.js';

await describeWith(['redis'], 'bullmqQueue', () => {
  const name = uniquePrefix('bq');
  const open: ContinuationQueue[] = [];
  // Reads BullMQ's keys: a job hash exists until the job completes (removeOnComplete), a delayed job
  // sits in the queue's `delayed` set. Those states answer "will it run (again)?" without a pause.
  const probe = new Redis(REDIS_URL);
  const jobKey = (queueName: string, requestId: string) => `bull:${queueName}:${continuationJobId(requestId)}`;
  const make = (queueName = name) => {
    const q = bullmqQueue({ connection: REDIS_URL, queueName, concurrency: 4 });
    open.push(q);
    return q;
  };
  afterEach(async () => {
    for (const q of open.splice(0)) await q.close({ timeoutMs: 2000 });
  });
  afterAll(async () => {
    const redis = new Redis(REDIS_URL);
    const keys = await redis.keys(`bull:${name}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
    await probe.quit();
  });

  it('runs one job per request id (colons allowed in the request id) until it is done', async () => {
    const q = make();
    const runs: string[] = [];
    await q.start(async (id) => {
      runs.push(id);
      return runs.length < 3 ? { done: false, retryAt: Date.now() + 10 } : { done: true };
    });
    await Promise.all([q.schedule('run:a:0', Date.now()), q.schedule('run:a:0', Date.now()), q.schedule('run:a:0', Date.now())]);
    await waitFor(() => runs.length === 3, { timeoutMs: 10_000 });
    await waitFor(async () => (await probe.exists(jobKey(name, 'run:a:0'))) === 0, { what: 'the job completed', timeoutMs: 10_000 });
    expect(runs).toEqual(['run:a:0', 'run:a:0', 'run:a:0']);
    expect(continuationJobId('run:a:0')).not.toContain(':');
  });

  it('keeps a delayed continuation across a worker restart and promotes it on demand', async () => {
    const first = make();
    const seen: string[] = [];
    await first.start(async (id) => {
      seen.push(`first:${id}`);
      return { done: true };
    });
    await first.schedule('run:b:0', Date.now() + 60_000);
    await first.close();
    const second = make();
    await second.start(async (id) => {
      seen.push(`second:${id}`);
      return { done: true };
    });
    await second.schedule('run:b:0', Date.now());
    // A plain schedule of a taken id leaves the delayed job as it was.
    expect(await probe.zscore(`bull:${name}:delayed`, continuationJobId('run:b:0'))).not.toBeNull();
    expect(seen).toEqual([]);
    await second.schedule('run:b:0', Date.now(), { promote: true });
    await waitFor(() => seen.length === 1, { timeoutMs: 10_000 });
    expect(seen).toEqual(['second:run:b:0']);
  });

  it('cancels a delayed continuation and retries a step that threw', async () => {
    const q = make(`${name}-c`);
    const seen: string[] = [];
    let threw = false;
    await q.start(async (id) => {
      if (id === 'run:flaky:0' && !threw) {
        threw = true;
        throw new Error('transient');
      }
      seen.push(id);
      return { done: true };
    });
    await q.schedule('run:c:0', Date.now() + 200);
    await q.cancel('run:c:0');
    await q.schedule('run:flaky:0', Date.now());
    await waitFor(() => seen.includes('run:flaky:0'), { timeoutMs: 10_000 });
    // The cancelled job is gone, so it can never run.
    expect(await probe.exists(jobKey(`${name}-c`, 'run:c:0'))).toBe(0);
    expect(seen).toEqual(['run:flaky:0']);
  });
});

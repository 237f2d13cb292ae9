import { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../../test/services.js';
import { continuationJobId } from '../request-id.js';
import { bullmqQueue } from './bullmq-queue.js';
import type { ContinuationQueue } from '../queue/queue.js';

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

await describeWith(['redis'], 'bullmqQueue', () => {
  const name = uniquePrefix('bq');
  const open: ContinuationQueue[] = [];
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
  });

  it('runs one job per request id (colons allowed in the request id) until it is done', async () => {
    const q = make();
    const runs: string[] = [];
    await q.start(async (id) => {
      runs.push(id);
      return runs.length < 3 ? { done: false, retryAt: Date.now() + 10 } : { done: true };
    });
    await Promise.all([q.schedule('run:a:0', Date.now()), q.schedule('run:a:0', Date.now()), q.schedule('run:a:0', Date.now())]);
    await until(() => runs.length === 3);
    await new Promise((r) => setTimeout(r, 100));
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
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual([]);
    await second.schedule('run:b:0', Date.now(), { promote: true });
    await until(() => seen.length === 1);
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
    await until(() => seen.includes('run:flaky:0'));
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(['run:flaky:0']);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { inProcessQueue } from './in-process-queue.js';
import type { ContinuationQueue } from './queue.js';

const queues: ContinuationQueue[] = [];
// The queue schedules with setTimeout and Date.now: fake timers make "and nothing else ran" exact.
beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(async () => {
  vi.useRealTimers();
  for (const q of queues.splice(0)) await q.close({ timeoutMs: 1000 });
});

describe('inProcessQueue', () => {
  it('runs a continuation until it is done, once per request id', async () => {
    const q = inProcessQueue();
    queues.push(q);
    const runs: string[] = [];
    await q.start(async (id) => {
      runs.push(id);
      return runs.filter((r) => r === id).length < 3 ? { done: false, retryAt: Date.now() + 5 } : { done: true };
    });
    await q.schedule('a', Date.now());
    await q.schedule('a', Date.now());
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toEqual(['a', 'a', 'a']);
  });

  it('promotes an existing continuation and cancels one', async () => {
    const q = inProcessQueue();
    queues.push(q);
    const runs: string[] = [];
    await q.start(async (id) => {
      runs.push(id);
      return { done: true };
    });
    await q.schedule('late', Date.now() + 60_000);
    await q.schedule('late', Date.now());
    await vi.advanceTimersByTimeAsync(30_000);
    expect(runs).toEqual([]);
    await q.schedule('late', Date.now(), { promote: true });
    await vi.advanceTimersByTimeAsync(0);
    expect(runs).toEqual(['late']);
    await q.schedule('gone', Date.now() + 20);
    await q.cancel('gone');
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toEqual(['late']);
  });

  it('bounds concurrency and retries a step that threw', async () => {
    const q = inProcessQueue({ concurrency: 2, errorRetryMs: 10 });
    queues.push(q);
    let active = 0;
    let peak = 0;
    const attempts = new Map<string, number>();
    await q.start(async (id) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 10));
      active--;
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      if (n === 1) throw new Error('transient');
      return { done: true };
    });
    for (let i = 0; i < 6; i++) await q.schedule(`r${i}`, Date.now());
    await vi.advanceTimersByTimeAsync(1000);
    expect([...attempts.values()]).toEqual([2, 2, 2, 2, 2, 2]);
    expect(peak).toBe(2);
  });
});

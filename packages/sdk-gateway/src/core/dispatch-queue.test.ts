import { describe, expect, it } from 'vitest';
import { DispatchQueue, type QueueItem } from './dispatch-queue.js';

const item = (organizationId: string, n: number, routeKey = 'k'): QueueItem => ({
  requestId: `${organizationId}-${n}`,
  organizationId,
  routeKey,
});

describe('DispatchQueue', () => {
  it('keeps FIFO per org, reports positions and refuses beyond the bound or a duplicate id', () => {
    const q = new DispatchQueue<QueueItem>(3);
    expect(q.enqueue(item('a', 1))).toEqual({ ok: true, position: 1 });
    expect(q.enqueue(item('a', 2, 'other'))).toEqual({ ok: true, position: 2 });
    expect(q.enqueue(item('a', 2))).toEqual({ ok: false, reason: 'duplicate' });
    expect(q.enqueue(item('a', 3))).toEqual({ ok: true, position: 3 });
    expect(q.enqueue(item('a', 4))).toEqual({ ok: false, reason: 'full' });
    expect(q.enqueue(item('b', 1))).toEqual({ ok: true, position: 1 });
    expect(q.position('a-3')).toBe(3);
    q.remove('a-1');
    expect(q.position('a-3')).toBe(2);
    expect([q.depth('a'), q.depth('b'), q.size]).toEqual([2, 1, 3]);
    const order: string[] = [];
    q.pump('a', (i) => order.push(i.requestId) > 0);
    expect(order).toEqual(['a-2', 'a-3']);
    expect(q.depth('a')).toBe(0);
  });

  it('tries lane heads oldest first and never lets a blocked head hold back another routing key', () => {
    const q = new DispatchQueue<QueueItem>(100);
    q.enqueue(item('a', 1, 'gpu'));
    q.enqueue(item('a', 2, 'cpu'));
    q.enqueue(item('a', 3, 'gpu'));
    q.enqueue(item('a', 4, 'cpu'));
    const tried: string[] = [];
    // Only cpu agents have capacity.
    q.pump('a', (i) => tried.push(i.requestId) > 0 && i.routeKey === 'cpu');
    expect(tried).toEqual(['a-1', 'a-2', 'a-1', 'a-4', 'a-1']);
    expect(q.position('a-3')).toBe(2);
    expect(q.depth('a')).toBe(2);
  });

  it('one org with 10,000 waiting delays another org by at most one placement', () => {
    const q = new DispatchQueue<QueueItem>(20_000);
    for (let n = 0; n < 10_000; n++) q.enqueue(item('big', n));
    q.enqueue(item('small', 0));
    const order: string[] = [];
    let bigSlots = 100;
    const place = (i: QueueItem): boolean => {
      if (i.organizationId === 'big') {
        if (bigSlots === 0) return false;
        bigSlots--;
        order.push(i.requestId);
        // While big's pump runs, a slot frees up for small.
        if (order.length === 1) q.pump('small', place);
        return true;
      }
      order.push(i.requestId);
      return true;
    };
    q.pump('big', place);
    expect(order.slice(0, 3)).toEqual(['big-0', 'small-0', 'big-1']);
    expect(order).toHaveLength(101);
    expect(q.depth('big')).toBe(9_900);
    expect(q.depth('small')).toBe(0);
  });

  it('removes from the middle and compacts long lanes without losing order', () => {
    const q = new DispatchQueue<QueueItem>(1000);
    for (let n = 0; n < 500; n++) q.enqueue(item('a', n));
    for (let n = 0; n < 500; n += 2) q.remove(`a-${n}`);
    for (let n = 1; n < 300; n += 2) q.remove(`a-${n}`);
    const order: string[] = [];
    q.pump('a', (i) => order.push(i.requestId) > 0);
    expect(order).toEqual(Array.from({ length: 100 }, (_, k) => `a-${301 + 2 * k}`));
    expect(q.size).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { LruPool } from './lru-pool.js';

describe('LruPool', () => {
  it('iterates least recently used first and moves members to the end', () => {
    const pool = new LruPool<string>();
    const [a, b, c] = ['a', 'b', 'c'].map((x) => pool.push(x));
    expect([...pool]).toEqual(['a', 'b', 'c']);
    pool.moveToEnd(a!);
    expect([...pool]).toEqual(['b', 'c', 'a']);
    pool.moveToEnd(a!);
    pool.moveToEnd(c!);
    expect([...pool]).toEqual(['b', 'a', 'c']);
    pool.moveToEnd(b!);
    expect([...pool]).toEqual(['a', 'c', 'b']);
    expect(pool.size).toBe(3);
  });

  it('removes head, middle and tail once; a second remove or a foreign node changes nothing', () => {
    const pool = new LruPool<number>();
    const other = new LruPool<number>();
    const nodes = [1, 2, 3, 4].map((x) => pool.push(x));
    const foreign = other.push(9);
    pool.remove(nodes[1]!);
    pool.remove(nodes[1]!);
    pool.remove(foreign);
    expect([...pool]).toEqual([1, 3, 4]);
    pool.remove(nodes[0]!);
    pool.remove(nodes[3]!);
    expect([...pool]).toEqual([3]);
    expect(pool.size).toBe(1);
    pool.remove(nodes[2]!);
    expect([...pool]).toEqual([]);
    expect(pool.size).toBe(0);
    pool.push(5);
    expect([...pool]).toEqual([5]);
    expect([...other]).toEqual([9]);
  });

  it('keeps a steady rotation over many members without growing', () => {
    const pool = new LruPool<number>();
    const nodes = Array.from({ length: 1000 }, (_, i) => pool.push(i));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1000; i++) {
        const first = pool[Symbol.iterator]().next().value as number;
        expect(first).toBe(i);
        pool.moveToEnd(nodes[first]!);
      }
    }
    expect(pool.size).toBe(1000);
    expect([...pool]).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('stops iterating after the starting size even if members move meanwhile', () => {
    const pool = new LruPool<number>();
    const nodes = [0, 1, 2].map((x) => pool.push(x));
    const seen: number[] = [];
    for (const x of pool) {
      seen.push(x);
      pool.moveToEnd(nodes[x]!);
    }
    expect(seen.length).toBeLessThanOrEqual(3);
    expect(pool.size).toBe(3);
  });
});

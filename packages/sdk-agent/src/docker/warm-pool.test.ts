import type Dockerode from 'dockerode';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/support/wait-for.js';
import { WARM_POOL_MAX_KEYS, WarmPool } from './warm-pool.js';

const noop = () => {};
const logger = { debug: noop, info: noop, warn: noop, error: noop, child: () => logger };

// A fake engine: containers are ids; creations can be held back to observe the bound.
function fakeEngine() {
  let seq = 0;
  const existing = new Map<string, string>(); // id → key
  const held: Array<() => void> = [];
  let hold = false;
  return {
    existing,
    held,
    setHold(v: boolean) {
      hold = v;
    },
    async create(key: string) {
      if (hold) await new Promise<void>((r) => held.push(r));
      const id = `c${++seq}`;
      existing.set(id, key);
      return { id } as Dockerode.Container;
    },
    async remove(c: Dockerode.Container) {
      existing.delete(c.id);
    },
  };
}

describe('warm pool', () => {
  it('fills up to its size per key and hands each container out once', async () => {
    const engine = fakeEngine();
    const pool = new WarmPool(2, { ...engine, logger });
    pool.fill('k');
    await waitFor(() => pool.idleCount('k') === 2, 'two idle containers');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) {
      const c = await waitFor(() => pool.take('k'), 'an idle container');
      expect(seen.has(c.id)).toBe(false);
      seen.add(c.id);
      expect(pool.isIdle(c.id)).toBe(false);
      await pool.retire(c);
    }
    // Used containers are removed; the pool refilled to its size and no further.
    await waitFor(() => pool.idleCount('k') === 2 && engine.existing.size === 2, 'refilled to two');
    await pool.close();
    expect(engine.existing.size).toBe(0);
  });

  it('never has more than size containers idle or being created, however many takes', async () => {
    const engine = fakeEngine();
    engine.setHold(true);
    const pool = new WarmPool(3, { ...engine, logger });
    pool.fill('k');
    for (let i = 0; i < 20; i++) expect(pool.take('k')).toBeUndefined();
    expect(engine.held).toHaveLength(3);
    engine.setHold(false);
    for (const release of engine.held.splice(0)) release();
    await waitFor(() => pool.idleCount('k') === 3, 'three idle');
    expect(engine.existing.size).toBe(3);
    await pool.close();
  });

  it('keeps at most WARM_POOL_MAX_KEYS keys, removing the idle containers of the least recently used one', async () => {
    const engine = fakeEngine();
    const pool = new WarmPool(1, { ...engine, logger });
    for (let k = 0; k <= WARM_POOL_MAX_KEYS; k++) {
      pool.fill(`k${k}`);
      await waitFor(() => pool.idleCount(`k${k}`) === 1, `key ${k} filled`);
    }
    await waitFor(() => engine.existing.size === WARM_POOL_MAX_KEYS, 'the oldest key dropped');
    expect(pool.idleCount('k0')).toBe(0);
    expect([...engine.existing.values()]).not.toContain('k0');
    await pool.close();
    expect(engine.existing.size).toBe(0);
  });

  it('on close removes idle containers and those still being created, and hands out nothing more', async () => {
    const engine = fakeEngine();
    const pool = new WarmPool(2, { ...engine, logger });
    pool.fill('k');
    await waitFor(() => pool.idleCount('k') === 2, 'two idle');
    engine.setHold(true);
    const taken = pool.take('k')!; // triggers a refill that is held back
    await waitFor(() => engine.held.length === 1, 'a refill in flight');
    const closed = pool.close();
    engine.setHold(false);
    for (const release of engine.held.splice(0)) release();
    await closed;
    expect([...engine.existing.keys()]).toEqual([taken.id]); // the one a task still runs in
    expect(pool.take('k')).toBeUndefined();
    await pool.retire(taken);
    await waitFor(() => engine.existing.size === 0, 'the used one removed');
  });

  it('stays usable when the engine refuses a creation', async () => {
    let fail = true;
    const engine = fakeEngine();
    const pool = new WarmPool(1, {
      ...engine,
      logger,
      create: async (key) => {
        if (fail) throw new Error('engine down');
        return engine.create(key);
      },
    });
    pool.fill('k');
    expect(pool.take('k')).toBeUndefined();
    fail = false;
    // No retry loop of its own: the next task's take() (which calls fill) refills.
    await waitFor(() => {
      pool.fill('k');
      return pool.idleCount('k') === 1;
    }, 'refilled after the engine came back');
    await pool.close();
  });
});

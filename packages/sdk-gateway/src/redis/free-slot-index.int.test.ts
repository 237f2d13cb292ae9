import type { Redis } from 'ioredis';
import { afterAll, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { REDIS_BACKENDS, deleteKeys } from '../../test/redis-backends.js';
import type { GatewayCluster, ReserveRequest } from '../cluster/cluster-types.js';
import { SELECTION_NAMES, type SelectionName } from '../selection/strategy.js';
import { RESERVE_SCRIPT } from './cluster-scripts.js';
import { redisCluster } from './index.js';
import { reserveCall, reserveOutcomeOf } from './reserve-call.js';

const ORG = 'org-free';
const KIND = 'agent.execute';
const T0 = 1_900_000_000_000;

// The cost of a cluster reserve is counted, not timed: the script reports how many agent presences it
// read (`examined`). Without the free-slot index it read every agent of the pool, busy or not.
for (const backend of REDIS_BACKENDS)
  await describeWith(backend.services, `free-slot index of the reserve script (real Redis: ${backend.name})`, () => {
    // Typed as the standalone client: the commands used here exist on both with the same signatures.
    const redis = backend.connect() as Redis;
    const root = uniquePrefix('gwfree');
    let n = 0;
    const clusters: GatewayCluster[] = [];

    afterAll(async () => {
      await Promise.all(clusters.map((c) => c.close()));
      await deleteKeys(redis, `${root}*`);
      redis.disconnect();
    });

    function fleet() {
      const prefix = `${root}:${++n}:`;
      // No refresh timer runs (never started): presence lives for the TTL, which outlasts the test.
      const cluster = redisCluster({ redis, replicaId: 'r-free', keyPrefix: prefix, presenceTtlMs: 600_000 });
      clusters.push(cluster);
      const register = (agentId: string, maxInFlight: number) =>
        cluster.register({
          agentId,
          organizationId: ORG,
          sessionId: `s-${agentId}`,
          maxInFlight,
          kinds: [KIND],
          connectors: null,
          tags: [],
        });
      // One run of the reserve script at a chosen clock, so that deadlines pass without waiting.
      const reserve = async (extra: Partial<ReserveRequest> & { now?: number; strategy?: SelectionName } = {}) => {
        const { now = Date.now(), ...rest } = extra;
        const r: ReserveRequest = {
          requestId: `q${++n}`,
          organizationId: ORG,
          kind: KIND,
          strategy: 'least_in_flight_lru',
          deadline: now + 600_000,
          ...rest,
        };
        const { keys, args } = reserveCall(prefix, r, 0, 64, now);
        const out = (await redis.eval(RESERVE_SCRIPT, keys.length, ...keys, ...args)) as Array<string | number>;
        return { ...reserveOutcomeOf(out, 0), requestId: r.requestId };
      };
      const pool = `${prefix}pk:{${ORG}}:${KIND}`;
      const full = `${prefix}full:{${ORG}}`;
      return { prefix, cluster, register, reserve, pool, full };
    }

    /** `count` agents with maxInFlight 1, each holding one request (reserved by name, like a selector). */
    async function busyFleet(count: number) {
      const f = fleet();
      for (let i = 0; i < count; i += 500) {
        const ids = Array.from({ length: Math.min(500, count - i) }, (_, j) => `busy-${i + j}`);
        await Promise.all(ids.map((id) => f.register(id, 1)));
        const held = await Promise.all(
          ids.map((agentId) =>
            f.cluster.reserve({
              requestId: `load-${agentId}`,
              organizationId: ORG,
              kind: KIND,
              agentId,
              strategy: 'round_robin',
              deadline: Date.now() + 600_000,
            }),
          ),
        );
        expect(held.every((h) => h.ok)).toBe(true);
      }
      return f;
    }

    it('reads the same number of agents with 10 or 10,000 agents at capacity, for both strategies', { timeout: 180_000 }, async () => {
      const small = await busyFleet(10);
      const large = await busyFleet(10_000);
      expect(await redis.zcard(large.full)).toBe(10_000);
      expect(await redis.zcard(large.pool)).toBe(0);
      for (const strategy of SELECTION_NAMES) {
        // Nobody free: found out without reading a single busy agent.
        const none = await Promise.all([small, large].map((f) => f.reserve({ strategy })));
        expect(none.map((r) => [r.ok, r.examined])).toEqual([
          [false, 0],
          [false, 0],
        ]);
      }
      await Promise.all([small, large].map((f) => f.register('free', 1000)));
      for (const strategy of SELECTION_NAMES) {
        const picked = await Promise.all([small, large].map((f) => f.reserve({ strategy })));
        expect(picked.map((r) => [r.ok && r.agentId, r.examined])).toEqual([
          ['free', 1],
          ['free', 1],
        ]);
      }
    });

    it('a slot whose release was lost comes back at the reservation deadline, and only then', async () => {
      const f = fleet();
      await f.register('a', 1);
      const first = await f.reserve({ now: T0, deadline: T0 + 1000 });
      expect(first).toMatchObject({ ok: true, agentId: 'a' });
      expect(await f.reserve({ now: T0 + 999 })).toMatchObject({ ok: false, examined: 0 });
      // The lapse is found through the full set's deadline (1 read), then the agent is picked (1 read).
      expect(await f.reserve({ now: T0 + 1001, deadline: T0 + 5000 })).toMatchObject({ ok: true, agentId: 'a', examined: 2 });
      expect(await redis.zscore(f.full, 'a')).toBe(String(T0 + 5000));
    });

    it('a released slot re-enters the index once, however often the release is repeated', async () => {
      const f = fleet();
      await f.register('a', 2);
      const held = [await f.reserve(), await f.reserve()];
      expect(held.map((r) => r.ok && r.agentId)).toEqual(['a', 'a']);
      expect(await redis.zscore(f.pool, 'a')).toBeNull();
      const slot = { requestId: held[0]!.requestId, agentId: 'a', organizationId: ORG };
      // Two replicas release the same request at once, then once more.
      await Promise.all([f.cluster.release(slot), f.cluster.release(slot)]);
      await f.cluster.release(slot);
      expect(await redis.zrange(f.pool, 0, -1)).toEqual(['a']);
      expect(await redis.zscore(f.full, 'a')).toBeNull();
      expect(await f.reserve()).toMatchObject({ ok: true, agentId: 'a' });
      expect(await f.reserve()).toMatchObject({ ok: false });
    });

    it('a release frees the org quota as well as the agent slot', async () => {
      const prefix = `${root}:${++n}:`;
      const cluster = redisCluster({ redis, replicaId: 'r-free', keyPrefix: prefix, presenceTtlMs: 600_000, orgMaxInFlight: 1 });
      clusters.push(cluster);
      await cluster.register({
        agentId: 'a',
        organizationId: ORG,
        sessionId: 's-a',
        maxInFlight: 5,
        kinds: [KIND],
        connectors: null,
        tags: [],
      });
      const req = (requestId: string) =>
        cluster.reserve({ requestId, organizationId: ORG, kind: KIND, strategy: 'least_in_flight_lru', deadline: Date.now() + 600_000 });
      expect(await req('one')).toMatchObject({ ok: true, agentId: 'a' });
      expect(await req('two')).toEqual({ ok: false, reason: 'quota', quota: 1 });
      await cluster.release({ requestId: 'one', agentId: 'a', organizationId: ORG });
      expect(await req('three')).toMatchObject({ ok: true, agentId: 'a' });
    });

    it('an agent whose presence expired leaves the index: a free one when a reserve meets it, a full one at its deadline', async () => {
      const f = fleet();
      await f.register('idle', 1);
      await f.register('held', 1);
      expect(await f.reserve({ agentId: 'held', now: T0, deadline: T0 + 1000 })).toMatchObject({ ok: true });
      for (const id of ['idle', 'held']) await redis.pexpire(`${f.prefix}a:{${ORG}}:${id}`, 1);
      await waitFor(async () => (await redis.exists(`${f.prefix}a:{${ORG}}:idle`, `${f.prefix}a:{${ORG}}:held`)) === 0, 'presence expired');
      expect(await f.reserve({ now: T0 + 500 })).toMatchObject({ ok: false, examined: 1 });
      expect(await f.reserve({ now: T0 + 2000 })).toMatchObject({ ok: false, examined: 1 });
      expect([await redis.zcard(f.pool), await redis.zcard(f.full)]).toEqual([0, 0]);
      // Dropped once: the next reserve reads nobody.
      expect(await f.reserve({ now: T0 + 3000 })).toMatchObject({ ok: false, examined: 0 });
    });

    it('a stale entry never lets an agent exceed maxInFlight: it is read once and filed as full', async () => {
      const f = fleet();
      await f.register('a', 1);
      expect(await f.reserve()).toMatchObject({ ok: true, agentId: 'a' });
      // Corrupt the index: the agent at capacity appears free.
      await redis.zadd(f.pool, 0, 'a');
      expect(await f.reserve()).toMatchObject({ ok: false, examined: 1 });
      expect(await redis.zscore(f.pool, 'a')).toBeNull();
      expect(await redis.zscore(f.full, 'a')).not.toBeNull();
      expect(await f.reserve()).toMatchObject({ ok: false, examined: 0 });
    });

    it('unregistering and re-registering keep the index in step with the presence', async () => {
      const f = fleet();
      await f.register('a', 1);
      expect(await f.reserve()).toMatchObject({ ok: true, agentId: 'a' });
      await f.cluster.unregister('a', 's-a', ORG);
      expect(await redis.zscore(f.full, 'a')).toBeNull();
      // Back with a higher cap and its request still in flight: one slot free, so in the pool again.
      await f.register('a', 2);
      expect(await redis.zrange(f.pool, 0, -1)).toEqual(['a']);
      expect(await f.reserve()).toMatchObject({ ok: true, agentId: 'a' });
      expect(await f.reserve()).toMatchObject({ ok: false, examined: 0 });
    });
  });

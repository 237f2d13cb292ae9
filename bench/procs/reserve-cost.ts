/**
 * Cost of one cluster reserve (the Lua script of `redisCluster`) with N agents at capacity: time per
 * reserve, agent presences the script read and Redis commands it ran (server-side counter, which counts
 * the commands inside a script too). Internal modules on purpose: the number of presences read is a
 * debug answer of the script that the public `reserve()` does not return.
 */
import { redisCluster } from '@vespid/sdk-gateway/redis';
import { RESERVE_SCRIPT } from '../../packages/sdk-gateway/src/redis/cluster-scripts.js';
import { reserveCall, reserveOutcomeOf } from '../../packages/sdk-gateway/src/redis/reserve-call.js';
import { Redis, type RedisT } from '../lib/deps.js';
import { num, nowMs, serve, str } from '../lib/rpc.js';

const ORG = 'bench';
const KIND = 'bench.noop';
const SIZES = [10, 10_000];

interface Cost {
  /** µs per call, best of the rounds. */
  us: number;
  /** Agent presences the script read. */
  examined: number;
  /** Commands Redis ran per call, fewest of the rounds (other clients of the same Redis add to it). */
  commands: number;
}

/** `busy` agents with maxInFlight 1, each holding one request, under their own prefix. */
async function busyFleet(redis: RedisT, prefix: string, busy: number) {
  // Never started: no refresh timer, and the presence TTL outlasts the measurement.
  const cluster = redisCluster({ redis: redis as never, replicaId: 'bench-cap', keyPrefix: prefix, presenceTtlMs: 3_600_000 });
  const deadline = Date.now() + 3_600_000;
  const register = (agentId: string, maxInFlight: number) =>
    cluster.register({ agentId, organizationId: ORG, sessionId: `s-${agentId}`, maxInFlight, kinds: [KIND], connectors: null, tags: [] });
  for (let i = 0; i < busy; i += 500) {
    const ids = Array.from({ length: Math.min(500, busy - i) }, (_, j) => `busy-${i + j}`);
    await Promise.all(ids.map((id) => register(id, 1)));
    await Promise.all(
      ids.map((agentId) =>
        cluster.reserve({
          requestId: `load-${agentId}`,
          organizationId: ORG,
          kind: KIND,
          agentId,
          strategy: 'least_in_flight_lru',
          deadline,
        }),
      ),
    );
  }
  let seq = 0;
  const request = () => ({ requestId: `r${++seq}`, organizationId: ORG, kind: KIND, strategy: 'least_in_flight_lru' as const, deadline });
  return {
    cluster,
    register,
    /** One reserve through the public API; releases what it got. Returns the agent or null. */
    async reserve(): Promise<string | null> {
      const r = request();
      const res = await cluster.reserve(r);
      if (!res.ok) return null;
      await cluster.release({ requestId: r.requestId, agentId: res.agentId, organizationId: ORG });
      return res.agentId;
    },
    /** Presences one run of the script read (the raw answer carries it). */
    async examined(): Promise<number> {
      const r = request();
      const { keys, args } = reserveCall(prefix, r, 0, 64);
      const res = reserveOutcomeOf((await redis.eval(RESERVE_SCRIPT, keys.length, ...keys, ...args)) as Array<string | number>, 0);
      if (res.ok) await cluster.release({ requestId: r.requestId, agentId: res.agentId, organizationId: ORG });
      return res.examined;
    },
  };
}

serve({
  async measure(args) {
    const redis = new Redis(str(args, 'redisUrl'), { maxRetriesPerRequest: 1 });
    const commands = async () => Number(/total_commands_processed:(\d+)/.exec(await redis.info('stats'))?.[1]);
    const calls = num(args, 'calls', 300);
    const out: Record<number, { nobodyFree: Cost; oneFree: Cost }> = {};
    try {
      const fleets = await Promise.all(SIZES.map((n) => busyFleet(redis, `${str(args, 'prefix')}:cap:${n}:`, n)));
      // Rounds alternate between the fleets, so machine load (and JIT warm-up) falls on both alike.
      const measure = async (expected: string | null): Promise<Cost[]> => {
        const costs = fleets.map(() => ({ us: Number.POSITIVE_INFINITY, examined: 0, commands: Number.POSITIVE_INFINITY }));
        for (let round = 0; round < 4; round++) {
          for (const [i, fleet] of fleets.entries()) {
            const before = await commands();
            const start = nowMs();
            for (let k = 0; k < calls; k++) {
              const got = await fleet.reserve();
              if (got !== expected) throw new Error(`reserve got ${got}, expected ${expected}`);
            }
            const us = ((nowMs() - start) * 1000) / calls;
            // minus the INFO call that reads the counter
            const ran = ((await commands()) - before - 1) / calls;
            const c = costs[i]!;
            c.us = Math.min(c.us, us);
            c.commands = Math.min(c.commands, ran);
          }
        }
        for (const [i, fleet] of fleets.entries()) costs[i]!.examined = await fleet.examined();
        return costs;
      };
      const nobodyFree = await measure(null);
      await Promise.all(fleets.map((f) => f.register('free', 1_000_000)));
      const oneFree = await measure('free');
      for (const [i, n] of SIZES.entries()) out[n] = { nobodyFree: nobodyFree[i]!, oneFree: oneFree[i]! };
      await Promise.all(fleets.map((f) => f.cluster.close()));
    } finally {
      redis.disconnect();
    }
    return out;
  },
  stop() {
    setImmediate(() => process.exit(0));
    return true;
  },
});

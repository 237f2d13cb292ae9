import type { Redis } from 'ioredis';
import { afterAll, afterEach, expect, it } from 'vitest';
import { describeWith, uniquePrefix } from '../../../../test/services.js';
import { REDIS_BACKENDS, deleteKeys } from '../../test/redis-backends.js';
import type { GatewayCluster } from '../cluster/cluster-types.js';
import { type TestAgent, type TestGateway, startTestGateway } from '../testing/index.js';
import { waitFor } from '../../../../test/support/wait-for.js';
import { redisCluster, redisResultStore } from './index.js';

const ORG = 'org-lost-forward';

// While the Redis shard of a replica's channel fails over, a forward (or its acknowledgement) can be
// lost: the origin gets no answer. The request must still reach the agent once (redelivered to the
// same replica), not wait for its deadline. The loss is simulated by dropping the first forward.
for (const backend of REDIS_BACKENDS)
  await describeWith(backend.services, `cluster mode: a forward lost in transit is redelivered (real Redis: ${backend.name})`, () => {
    const redis = backend.connect() as Redis;
    const root = uniquePrefix('lostfwd');
    let replicas: TestGateway[] = [];
    let agent: TestAgent | undefined;

    afterEach(async () => {
      await agent?.close();
      await Promise.all(replicas.map((r) => r.close()));
      replicas = [];
    });
    afterAll(async () => {
      await deleteKeys(redis, `${root}:*`);
      redis.disconnect();
    });

    it('an unacknowledged forward to the replica holding the agent is sent again and the task runs once', async () => {
      let dropped = 0;
      const lossy = (c: GatewayCluster): GatewayCluster =>
        Object.assign(Object.create(c) as GatewayCluster, {
          // Delegate everything; the first forward vanishes like a message published to a shard that died.
          forward: (target: string, m: Parameters<GatewayCluster['forward']>[1]) =>
            dropped++ === 0 ? Promise.resolve('unknown' as const) : c.forward(target, m),
        });
      for (let i = 0; i < 2; i++) {
        const cluster = redisCluster({ redis, replicaId: `lf${i}`, keyPrefix: `${root}:cluster:`, ackTimeoutMs: 200 });
        const resultStore = redisResultStore({
          redis,
          keyPrefix: `${root}:results:`,
          dispatchKeyPrefix: `${root}:d:`,
          channel: `${root}:r`,
        });
        replicas.push(await startTestGateway({ resultStore, cluster: i === 0 ? lossy(cluster) : cluster }));
      }
      const runs: string[] = [];
      agent = await replicas[1]!.agent({ agentId: 'a1', organizationId: ORG, tags: [] }, { capabilities: { kinds: ['agent.execute'] } });
      agent.autoRespond((m) => {
        runs.push(m.requestId);
        return { type: 'execute_result', requestId: m.requestId, status: 'succeeded', output: {} };
      });
      await waitFor(async () => (await redis.exists(`${root}:cluster:a:{${ORG}}:a1`)) === 1, 'the agent present in Redis');
      const requestId = `${root}:run:node:0`;
      const res = await replicas[0]!.gateway.dispatch({
        organizationId: ORG,
        requestId,
        kind: 'agent.execute',
        payload: {},
        timeoutMs: 10_000,
      });
      expect(res.status).toBe('succeeded');
      expect(dropped).toBeGreaterThanOrEqual(2);
      expect(runs).toEqual([requestId]);
    });
  });

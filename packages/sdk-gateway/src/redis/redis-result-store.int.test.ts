import { ROUTES, type StoredResult } from '@vespid/protocol';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../../test/services.js';
import { connectTestAgent, resultStoreConformance, startTestGateway, type TestGateway } from '../testing/index.js';
import { redisResultStore } from './index.js';
import { waitFor } from '../../../../test/support/wait-for.js';

await describeWith(['redis'], 'redis result store', () => {
  let redis: Redis;
  let sub: Redis;
  const prefixes: string[] = [];
  beforeAll(() => {
    redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1 });
    sub = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    for (const p of prefixes) {
      const keys = await redis.keys(`${p}*`);
      if (keys.length) await redis.del(...keys);
    }
    redis.disconnect();
    sub.disconnect();
  });
  const fresh = () => {
    const p = uniquePrefix('gw');
    prefixes.push(p);
    return {
      keyPrefix: `${p}:results:`,
      dispatchKeyPrefix: `${p}:dispatches:`,
      channel: `${p}:results`,
    };
  };

  resultStoreConformance('redis', async () => ({ store: redisResultStore({ redis, ...fresh() }) }));
  resultStoreConformance('redis, writes not batched', async () => ({
    store: redisResultStore({ redis, batchWrites: false, ...fresh() }),
  }));

  it('answers every one of many commands issued in one loop turn (batched writes)', async () => {
    const store = redisResultStore({ redis, ...fresh() });
    const ids = Array.from({ length: 200 }, (_, i) => `batch${Date.now().toString(36)}-${i}:n:0`);
    const claims = await Promise.all(
      ids.map((requestId) => store.claimDispatch!({ requestId, organizationId: 'o', agentId: 'a', deadline: Date.now() + 60_000 })),
    );
    expect(claims.every((c) => c.claimed)).toBe(true);
    const stored = await Promise.all(
      ids.map((requestId) => store.put({ requestId, organizationId: 'o', status: 'succeeded', completedAt: 1 })),
    );
    expect(stored.every(Boolean)).toBe(true);
    const looked = await Promise.all(ids.map((id) => store.lookup(id)));
    expect(looked.map((l) => l.result?.requestId)).toEqual(ids);
  });

  it('stores StoredResult JSON at keyPrefix+requestId with the TTL and publishes it once', async () => {
    const names = fresh();
    const store = redisResultStore({ redis, ttlSec: 120, ...names });
    const got: string[] = [];
    await sub.subscribe(names.channel);
    const onMessage = (channel: string, message: string) => {
      if (channel === names.channel) got.push(message);
    };
    sub.on('message', onMessage);
    try {
      const r: StoredResult = {
        requestId: 'r1:n:0',
        organizationId: 'o1',
        status: 'succeeded',
        output: { a: 1 },
        agentId: 'a',
        completedAt: 1,
      };
      expect(await store.put(r)).toBe(true);
      expect(await store.put({ ...r, output: 'dup' })).toBe(false);
      expect(JSON.parse((await redis.get(`${names.keyPrefix}r1:n:0`)) ?? 'null')).toEqual(r);
      const ttl = await redis.ttl(`${names.keyPrefix}r1:n:0`);
      expect(ttl).toBeGreaterThan(100);
      expect(ttl).toBeLessThanOrEqual(120);
      await waitFor(() => got.length > 0, 'the result on the channel');
      expect(got.map((m) => JSON.parse(m))).toEqual([r]);
    } finally {
      sub.off('message', onMessage);
      await sub.unsubscribe(names.channel);
    }
  });

  let t1: TestGateway | undefined;
  let t2: TestGateway | undefined;
  afterEach(async () => {
    await t1?.close();
    await t2?.close();
    t1 = t2 = undefined;
  });

  it('delivers a result produced while the gateway restarts, after the restart', async () => {
    const names = fresh();
    const store = redisResultStore({ redis, ...names });
    t1 = await startTestGateway({ resultStore: store });
    const agent = await t1.agent({ agentId: 'a', organizationId: 'org1', tags: [] });
    const requestId = 'run-restart:node:0';
    const res = await t1.call('POST', ROUTES.dispatchAsync, {
      organizationId: 'org1',
      requestId,
      kind: 'agent.execute',
      payload: {},
      timeoutMs: 30_000,
    });
    expect(res.status).toBe(201);
    await agent.next('execute');
    // The gateway goes away while the agent works.
    await t1.gateway.close();
    expect(await agent.closedWith).toBe(1001);
    await t1.close();
    // A new gateway process over the same Redis; the agent reconnects and resends its unacked result.
    t2 = await startTestGateway({ resultStore: redisResultStore({ redis, ...names }) });
    t2.auth.set({ agentId: 'a', organizationId: 'org1', tags: [], token: agent.token });
    const again = await connectTestAgent({ url: t2.wsUrl, token: agent.token });
    try {
      again.send({ type: 'execute_result', requestId, status: 'succeeded', output: 'done during restart' });
      expect((await again.next('execute_ack')).requestId).toBe(requestId);
      const stored = await t2.call('GET', `${ROUTES.results}/${requestId}`);
      expect(stored.status).toBe(200);
      expect(stored.body).toMatchObject({ requestId, organizationId: 'org1', agentId: 'a', output: 'done during restart' });
      // Re-dispatching the same request after the restart answers from the cache, not a second send.
      const dup = await t2.call('POST', ROUTES.dispatchAsync, { organizationId: 'org1', requestId, kind: 'agent.execute', payload: {} });
      expect(dup.body).toEqual({ requestId, dispatched: false, cached: true });
    } finally {
      await again.close();
    }
  });

  it('after a restart a result from another agent for a recorded request is refused, and in-flight is not re-sent', async () => {
    const names = fresh();
    t1 = await startTestGateway({ resultStore: redisResultStore({ redis, ...names }) });
    const agent = await t1.agent({ agentId: 'a', organizationId: 'org1', tags: [] });
    const requestId = 'run-forge:node:0';
    await t1.gateway.dispatchAsync({ organizationId: 'org1', requestId, kind: 'agent.execute', payload: {}, timeoutMs: 30_000 });
    await agent.next('execute');
    // Confirmed, as a real agent does at once: it keeps the task across the restart and resends.
    agent.send({ type: 'execute_received', requestId });
    // Frames are handled in order: the pong proves the gateway has taken the confirmation.
    agent.send({ type: 'ping', ts: 1 });
    await agent.next('pong');
    await t1.close();
    t2 = await startTestGateway({ resultStore: redisResultStore({ redis, ...names }) });
    const other = await t2.agent({ agentId: 'b', organizationId: 'org1', tags: [] });
    const foreign = await t2.agent({ agentId: 'x', organizationId: 'org2', tags: [] });
    for (const forger of [other, foreign])
      forger.send({ type: 'execute_result', requestId, status: 'failed', error: { code: 'X', message: 'forged' } });
    const dup = await t2.gateway.dispatchAsync({ organizationId: 'org1', requestId, kind: 'agent.execute', payload: {} });
    expect(dup).toEqual({ requestId, dispatched: false, inFlight: true, agentId: 'a' });
    await new Promise((r) => setTimeout(r, 100));
    expect(await t2.gateway.getResult(requestId)).toBeNull();
    expect(other.received.some((m) => m.type === 'execute')).toBe(false);
  });
});

/**
 * The Redis deployments of bench scenarios g and i (bench/lib/redis-backends.ts): the cluster is left
 * out (with a reason) when `REDIS_CLUSTER_NODES` is unset, and a run's cleanup deletes exactly its own
 * prefix on every master of the real Redis Cluster and on the standalone Redis (both are shared).
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ClusterT, RedisT } from '../bench/lib/deps.js';
import { clusterClient, deletePrefix, mastersOf, parseNodes, redisBackends } from '../bench/lib/redis-backends.js';
import { REDIS_CLUSTER_NODES, REDIS_URL, describeWith, uniquePrefix } from './services.js';

describe('redisBackends', () => {
  it('leaves the cluster out with a reason when no seed nodes are given', () => {
    const { backends, skipped } = redisBackends('redis://127.0.0.1:6379', undefined);
    expect(backends.map((b) => b.name)).toEqual(['standalone']);
    expect(skipped).toMatch(/REDIS_CLUSTER_NODES is not set/);
  });

  it('adds the cluster, with its seed nodes for the gateway process, when they are given', () => {
    const { backends, skipped } = redisBackends('redis://127.0.0.1:6379', ' 127.0.0.1:7000,127.0.0.1:7001 ');
    expect(backends.map((b) => [b.name, b.suffix, b.listenArgs])).toEqual([
      ['standalone', '', { redisUrl: 'redis://127.0.0.1:6379' }],
      ['redis-cluster', ', Redis Cluster', { redisClusterNodes: '127.0.0.1:7000,127.0.0.1:7001' }],
    ]);
    expect(skipped).toBeUndefined();
  });

  it('rejects a seed that is not host:port', () => {
    expect(parseNodes('10.0.0.1:7000, h:7001')).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'h', port: 7001 },
    ]);
    expect(() => redisBackends('redis://x', 'redis://127.0.0.1:7000/')).toThrow(/not host:port/);
  });
});

async function checkDeletesOnlyItsPrefix(client: RedisT | ClusterT): Promise<void> {
  const mine = `vespid-bench:${uniquePrefix('mine')}`;
  const other = `vespid-bench:${uniquePrefix('other')}`;
  // Keys of many slots (on a cluster: all three masters), with and without a hash tag.
  const keys = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? `${mine}:cluster:{org${i}}:a` : `${mine}:results:${i}`));
  const kept = [`${other}:results:1`, `${mine}x:results:1`, `${other}:cluster:{org1}:a`];
  for (const k of [...keys, ...kept]) await client.set(k, '1', 'EX', 120);
  try {
    expect(await deletePrefix(client, mine)).toBe(keys.length);
    for (const k of keys) expect(await client.exists(k)).toBe(0);
    for (const k of kept) expect(await client.exists(k)).toBe(1);
  } finally {
    for (const k of kept) await client.del(k);
  }
}

await describeWith(['redis-cluster'], 'deletePrefix on the Redis Cluster', () => {
  const client = clusterClient(REDIS_CLUSTER_NODES);
  afterAll(() => client.disconnect());

  it('finds every master', async () => {
    expect((await mastersOf(client)).length).toBeGreaterThanOrEqual(3);
  });

  it("deletes the run's keys on every master and nothing else", () => checkDeletesOnlyItsPrefix(client));
});

await describeWith(['redis'], 'deletePrefix on standalone Redis', () => {
  const client = redisBackends(REDIS_URL, undefined).backends[0]?.connect() as RedisT;
  afterAll(() => client.disconnect());

  it("deletes the run's keys and nothing else", () => checkDeletesOnlyItsPrefix(client));
});

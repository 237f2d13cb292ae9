/**
 * The two Redis deployments the gateway's Redis tests run against: the standalone server of `REDIS_URL`
 * and the Redis Cluster of `REDIS_CLUSTER_NODES` (3 masters + 3 replicas, `scripts/redis-cluster.sh`).
 * A test file loops over `REDIS_BACKENDS` and wraps each in `describeWith(backend.services, …)`, so a
 * missing cluster skips locally and fails under CI, like every other service.
 */
import { Cluster, Redis } from 'ioredis';
import { REDIS_CLUSTER_NODES, REDIS_URL, type Service } from '../../../test/services.js';

export interface RedisBackend {
  name: 'standalone' | 'redis-cluster';
  services: Service[];
  /** A new client (yours to close). */
  connect(): Redis | Cluster;
}

/** Seed nodes as ioredis wants them. */
export function clusterNodes(list = REDIS_CLUSTER_NODES): Array<{ host: string; port: number }> {
  return list.split(',').map((hp) => {
    const [host, port] = hp.trim().split(':');
    return { host: host || '127.0.0.1', port: Number(port) };
  });
}

export const REDIS_BACKENDS: RedisBackend[] = [
  { name: 'standalone', services: ['redis'], connect: () => new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }) },
  {
    name: 'redis-cluster',
    services: ['redis-cluster'],
    connect: () => new Cluster(clusterNodes(), { redisOptions: { maxRetriesPerRequest: 1 } }),
  },
];

/** Deletes every key matching `pattern` (SCAN on each master of a cluster; never FLUSH: Redis is shared). */
export async function deleteKeys(client: Redis | Cluster, pattern: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      // One DEL per key: on a cluster the keys of one page live in different slots.
      await Promise.all(keys.map((k) => client.del(k)));
    } while (cursor !== '0');
  }
}

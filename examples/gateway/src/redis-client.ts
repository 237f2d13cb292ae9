/**
 * The host's Redis client: one ioredis `Redis` for `REDIS_URL` (standalone or Sentinel), or one ioredis
 * `Cluster` for `REDIS_CLUSTER_NODES`. The library takes either (`redisCluster`, `redisResultStore`).
 */
import type { Logger } from '@vespid/protocol';
import { Cluster, Redis } from 'ioredis';
import type { RedisClusterNode } from './cluster-nodes.js';

/** How long a command waits for a slot whose master is failing over before it fails (then the gateway retries). */
const FAILOVER_RETRY_MS = 100;
const FAILOVER_RETRIES = 50;

/**
 * A new client for the gateway's Redis, `null` when neither is configured. Errors are logged as warnings
 * (the client reconnects by itself); the caller closes it with `quit()`.
 *
 * @example
 * ```ts
 * const redis = connectRedis({ redisUrl: process.env.REDIS_URL, redisClusterNodes: undefined }, logger);
 * ```
 */
export function connectRedis(
  config: { redisUrl: string | undefined; redisClusterNodes: RedisClusterNode[] | undefined },
  logger: Logger,
): Redis | Cluster | null {
  let client: Redis | Cluster;
  if (config.redisClusterNodes) {
    client = new Cluster(config.redisClusterNodes, {
      redisOptions: { connectTimeout: 5000 },
      // While a master fails over (its replica takes over after the cluster's node timeout), commands
      // for its slots get "Connection is closed", CLUSTERDOWN or TRYAGAIN: ioredis retries them after
      // refreshing the slot map, up to maxRedirections times. The defaults (16 × 100 ms) give up before
      // a failover of this project's test cluster (node timeout 1 s) ends; 50 × 100 ms covers it.
      retryDelayOnFailover: FAILOVER_RETRY_MS,
      retryDelayOnClusterDown: FAILOVER_RETRY_MS,
      retryDelayOnTryAgain: FAILOVER_RETRY_MS,
      maxRedirections: FAILOVER_RETRIES,
    });
  } else if (config.redisUrl) {
    client = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, connectTimeout: 5000 });
  } else return null;
  client.on('error', (err: Error) => logger.warn({ err: err.message }, 'redis error'));
  return client;
}

/**
 * `@vespid/sdk-gateway/redis` — Redis-backed pieces, kept on a subpath so that ioredis is only loaded by
 * hosts that use it: the result store (results at `gateway:results:<requestId>` with a TTL, published on
 * `gateway:results`) and cluster mode for several gateway replicas sharing one Redis.
 *
 * @example
 * ```ts
 * import { redisCluster, redisResultStore } from '@vespid/sdk-gateway/redis';
 * const resultStore = redisResultStore({ redis, ttlSec: 900 });
 * const cluster = redisCluster({ redis, replicaId: 'gw-1' });
 * const gateway = createGateway({ authenticator, serviceToken, resultStore, cluster });
 * await gateway.start(); // subscribes; rejects if Redis is unreachable
 * ```
 *
 * @packageDocumentation
 */
export { redisResultStore, type RedisResultStoreOptions } from './redis-result-store.js';
export { redisCluster, type RedisClusterOptions } from './redis-cluster.js';
export type { GatewayCluster } from '../cluster/cluster-types.js';

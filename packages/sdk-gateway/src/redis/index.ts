/**
 * `@vespid/sdk-gateway/redis` — the Redis result store (results at `gateway:results:<requestId>` with a
 * TTL, published on `gateway:results`), kept on a subpath so that ioredis is only loaded by hosts that
 * use it.
 *
 * @example
 * ```ts
 * import { redisResultStore } from '@vespid/sdk-gateway/redis';
 * const resultStore = redisResultStore({ redis, ttlSec: 900 });
 * ```
 *
 * @packageDocumentation
 */
export { redisResultStore, type RedisResultStoreOptions } from './redis-result-store.js';

import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { REDIS_URL, describeWith, uniquePrefix } from '../../../test/services.js';
import { gatewayScenarios } from '../test/gateway.scenarios.js';
import { redisResultStore } from './redis/index.js';

await describeWith(['redis'], 'gateway over real Redis', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  const prefix = uniquePrefix('gwscen');
  let n = 0;
  afterAll(async () => {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  });
  gatewayScenarios('redis', () => {
    const p = `${prefix}:${++n}`;
    return redisResultStore({ redis, keyPrefix: `${p}:results:`, dispatchKeyPrefix: `${p}:dispatches:`, channel: `${p}:results` });
  });
});

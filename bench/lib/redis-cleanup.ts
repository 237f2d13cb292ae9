/** Removes every Redis key of one benchmark run (results, dispatch records, BullMQ queues). */
import { Redis } from './deps.js';

/** Deletes keys matching `${prefix}:*`; returns how many. SCAN is finite, so the loop is bounded. */
export async function deleteRunKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return deleted;
}

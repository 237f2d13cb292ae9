import { createHash } from 'node:crypto';
import { RESULT_CHANNEL, RESULT_KEY_PREFIX, type StoredResult, StoredResultSchema, parseJsonSafe } from '@vespid/protocol';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { DispatchRecord, ResultStore } from '../results/result-store.js';

const OptionsSchema = z.object({
  redis: z.custom<Redis>(
    (v) => !!v && typeof (v as Redis).eval === 'function' && typeof (v as Redis).mget === 'function',
    'redis must be an ioredis client',
  ),
  ttlSec: z.number().int().min(1).default(900),
  keyPrefix: z.string().min(1).default(RESULT_KEY_PREFIX),
  channel: z.string().min(1).default(RESULT_CHANNEL),
  dispatchKeyPrefix: z.string().min(1).default('gateway:dispatches:'),
  dispatchGraceSec: z.number().int().min(0).default(60),
});

/**
 * Options of {@link redisResultStore}.
 *
 * @example
 * ```ts
 * const options: RedisResultStoreOptions = { redis, ttlSec: 900, keyPrefix: 'gateway:results:', channel: 'gateway:results' };
 * ```
 */
export type RedisResultStoreOptions = z.input<typeof OptionsSchema>;

// First write wins, and the publication happens only for the write that won, in one round trip.
const PUT_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[3], ARGV[1])
  return 1
end
return 0`;

const PUT_SHA = createHash('sha1').update(PUT_SCRIPT).digest('hex');

const RecordSchema = z.object({
  requestId: z.string(),
  organizationId: z.string(),
  agentId: z.string(),
  deadline: z.number(),
  replicaId: z.string().optional(),
});

function decode<T>(schema: z.ZodType<T>, text: string | null): T | null {
  if (text === null) return null;
  try {
    const parsed = schema.safeParse(parseJsonSafe(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * A Redis result store: each result lives at `${keyPrefix}${requestId}` (default
 * `gateway:results:<requestId>`) as the JSON of `StoredResult` for `ttlSec` (`GATEWAY_RESULTS_TTL_SEC`),
 * and the same JSON is PUBLISHed on `channel` (default `gateway:results`) when stored, so a waiting
 * worker resumes at once. Results survive gateway restarts. The client is yours: the store never
 * closes it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis';
 * import { redisResultStore } from '@vespid/sdk-gateway/redis';
 * const resultStore = redisResultStore({ redis: new Redis(process.env.REDIS_URL!), ttlSec: 900 });
 * createGateway({ authenticator, serviceToken, resultStore });
 * ```
 */
export function redisResultStore(options: RedisResultStoreOptions): ResultStore {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new TypeError(`invalid redisResultStore options: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  const { redis, ttlSec, keyPrefix, channel, dispatchKeyPrefix, dispatchGraceSec } = parsed.data;
  const resultKey = (id: string) => `${keyPrefix}${id}`;
  const dispatchKey = (id: string) => `${dispatchKeyPrefix}${id}`;
  return {
    async get(requestId) {
      return decode(StoredResultSchema, await redis.get(resultKey(requestId)));
    },
    async lookup(requestId) {
      const [r, d] = await redis.mget(resultKey(requestId), dispatchKey(requestId));
      return { result: decode(StoredResultSchema, r ?? null), dispatch: decode(RecordSchema, d ?? null) as DispatchRecord | null };
    },
    async put(result: StoredResult) {
      const args = [resultKey(result.requestId), dispatchKey(result.requestId), JSON.stringify(result), ttlSec, channel] as const;
      let won: unknown;
      try {
        // EVALSHA sends 40 bytes instead of the script on every result; the script is loaded on first miss.
        won = await redis.evalsha(PUT_SHA, 2, ...args);
      } catch (err) {
        if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
        won = await redis.eval(PUT_SCRIPT, 2, ...args);
      }
      return won === 1;
    },
    async recordDispatch(record) {
      const ms = Math.max(1, record.deadline - Date.now()) + dispatchGraceSec * 1000;
      await redis.set(dispatchKey(record.requestId), JSON.stringify(record), 'PX', ms);
    },
  };
}

import { createHash } from 'node:crypto';
import { RESULT_CHANNEL, RESULT_KEY_PREFIX, type StoredResult, StoredResultSchema, parseJsonSafe, formatZodIssues } from '@vespid/protocol';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';
import type { DispatchRecord, ResultStore, StoreClaim } from '../results/result-store.js';
import { turnHold } from './client-batching.js';

const OptionsSchema = z.object({
  redis: z.custom<Redis | Cluster>(
    (v) => !!v && typeof (v as Redis).eval === 'function' && typeof (v as Redis).mget === 'function',
    'redis must be an ioredis client (Redis or Cluster)',
  ),
  ttlSec: z.number().int().min(1).default(900),
  keyPrefix: z.string().min(1).default(RESULT_KEY_PREFIX),
  channel: z.string().min(1).default(RESULT_CHANNEL),
  dispatchKeyPrefix: z.string().min(1).default('gateway:dispatches:'),
  dispatchGraceSec: z.number().int().min(0).default(60),
  /**
   * Coalesce the commands this store sends on the client's socket per event-loop turn (cork, uncork in
   * `setImmediate`): under load many dispatches share one write syscall. On a `Cluster` every master's
   * socket is held the same way. Only delays writes to the end of the current turn. @default true
   */
  batchWrites: z.boolean().default(true),
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
// No `WAIT 1 <ms>` after it (the agent is acked once this returns): a master killed with -9 (process
// gone, host up) loses only what it had not yet written to its replica's socket, a window the failover
// test (examples/gateway/src/redis-failover.int.test.ts) never hit; WAIT would add ~0.04 ms per result
// when healthy but its full timeout on every result while a shard's replica is down, and would still not
// close the window of a network partition (that is what the Cluster's min-replicas-* settings bound).
const PUT_SCRIPT = `
if redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2], 'NX') then
  redis.call('DEL', KEYS[2])
  redis.call('PUBLISH', ARGV[3], ARGV[1])
  return 1
end
return 0`;

const PUT_SHA = createHash('sha1').update(PUT_SCRIPT).digest('hex');

// lookup + recordDispatch in one round trip and atomically: {1, result} | {2, live record} | {0} = recorded.
// A record is live while its deadline (epoch ms, ARGV[3] = the gateway's now) is in the future.
const CLAIM_SCRIPT = `
local r = redis.call('GET', KEYS[1])
if r then return {1, r} end
local d = redis.call('GET', KEYS[2])
if d then
  local ok, rec = pcall(cjson.decode, d)
  if ok and type(rec) == 'table' and tonumber(rec.deadline) and tonumber(rec.deadline) > tonumber(ARGV[3]) then return {2, d} end
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return {0}`;

const CLAIM_SHA = createHash('sha1').update(CLAIM_SCRIPT).digest('hex');

const RecordSchema = z.object({
  requestId: z.string(),
  organizationId: z.string(),
  agentId: z.string(),
  deadline: z.number(),
  replicaId: z.string().optional(),
});

/** The part of a key Redis Cluster hashes: the first non-empty `{…}`, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) return key.slice(open + 1, close);
  }
  return key;
}

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
 * With an ioredis `Cluster` the result key keeps its name (workers read `gateway:results:<requestId>`) and
 * the request's dispatch record moves into the result key's slot
 * (`gateway:dispatches:{gateway:results:<requestId>}`), so the scripts that touch both stay in one slot;
 * the publication stays a classic PUBLISH, which Redis Cluster delivers to subscribers on every node.
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
  if (!parsed.success) throw new TypeError(`invalid redisResultStore options: ${formatZodIssues(parsed.error)}`);
  const { redis, ttlSec, keyPrefix, channel, dispatchKeyPrefix, dispatchGraceSec, batchWrites } = parsed.data;
  const hold = turnHold(redis, batchWrites);
  const resultKey = (id: string) => `${keyPrefix}${id}`;
  const onCluster = (redis as Cluster).isCluster === true;
  const dispatchKey = onCluster
    ? (id: string) => `${dispatchKeyPrefix}{${hashTagOf(resultKey(id))}}`
    : (id: string) => `${dispatchKeyPrefix}${id}`;
  const recordTtlMs = (record: DispatchRecord) => Math.max(1, record.deadline - Date.now()) + dispatchGraceSec * 1000;
  // EVALSHA sends 40 bytes instead of the script on every call; the script is loaded on first miss.
  const run = async (sha: string, script: string, args: readonly (string | number)[]): Promise<unknown> => {
    try {
      hold();
      return await redis.evalsha(sha, 2, ...args);
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err;
      return redis.eval(script, 2, ...args);
    }
  };
  const recordDispatch = async (record: DispatchRecord): Promise<void> => {
    hold();
    await redis.set(dispatchKey(record.requestId), JSON.stringify(record), 'PX', recordTtlMs(record));
  };
  return {
    async get(requestId) {
      hold();
      return decode(StoredResultSchema, await redis.get(resultKey(requestId)));
    },
    async lookup(requestId) {
      hold();
      const [r, d] = await redis.mget(resultKey(requestId), dispatchKey(requestId));
      return { result: decode(StoredResultSchema, r ?? null), dispatch: decode(RecordSchema, d ?? null) as DispatchRecord | null };
    },
    async put(result: StoredResult) {
      const args = [resultKey(result.requestId), dispatchKey(result.requestId), JSON.stringify(result), ttlSec, channel] as const;
      return (await run(PUT_SHA, PUT_SCRIPT, args)) === 1;
    },
    recordDispatch,
    async claimDispatch(record): Promise<StoreClaim> {
      const args = [resultKey(record.requestId), dispatchKey(record.requestId), JSON.stringify(record), recordTtlMs(record), Date.now()];
      const [status, text] = (await run(CLAIM_SHA, CLAIM_SCRIPT, args)) as [number, string | undefined];
      if (status === 0) return { result: null, dispatch: null, claimed: true };
      const result = status === 1 ? decode(StoredResultSchema, text ?? null) : null;
      const dispatch = status === 2 ? (decode(RecordSchema, text ?? null) as DispatchRecord | null) : null;
      if (result || dispatch) return { result, dispatch, claimed: false };
      // Something unreadable is stored under the key: behave as lookup + recordDispatch would.
      await recordDispatch(record);
      return { result: null, dispatch: null, claimed: true };
    },
  };
}

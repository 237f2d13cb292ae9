/**
 * Lua scripts of the cluster-wide dispatch queue. Every key of one organization carries the org in a
 * hash tag (`P q:{<org>}`, `P qh:{<org>}`) and is passed in KEYS, so each script touches one slot and
 * runs unchanged on Redis Cluster.
 *
 * - `P q:{<org>}` zset: waiting request ids scored by enqueue time (ms): the org's FIFO.
 * - `P qh:{<org>}` hash: request id → `<origin replica>|<queue deadline ms>`. The origin holds the
 *   request body in memory (it may carry a secret, which is never stored).
 *
 * An entry whose deadline passed (its origin died and nobody repeated the request) is trimmed from
 * the head by the next enqueue; both keys expire after the latest deadline.
 */

// KEYS: zset, hash. ARGV: requestId, origin, deadline, now, max.
// Returns {'exists', origin, position} | {'full'} | {'ok', origin, position}.
export const ENQUEUE_SCRIPT = `
local z, h, id = KEYS[1], KEYS[2], ARGV[1]
local now = tonumber(ARGV[4])
local cur = redis.call('HGET', h, id)
if cur then
  local rank = redis.call('ZRANK', z, id)
  return {'exists', string.match(cur, '^(.*)|'), (rank or 0) + 1}
end
-- (a claimed entry is routed right now: only the zset's head is trimmed, never the hash alone)
for _, m in ipairs(redis.call('ZRANGE', z, 0, 15)) do
  local v = redis.call('HGET', h, m)
  local d = v and tonumber(string.match(v, '|(%d+)$'))
  if not d or d < now then
    redis.call('ZREM', z, m)
    redis.call('HDEL', h, m)
  end
end
if redis.call('HLEN', h) >= tonumber(ARGV[5]) then return {'full'} end
redis.call('ZADD', z, now, id)
redis.call('HSET', h, id, ARGV[2] .. '|' .. ARGV[3])
local ttl = tonumber(ARGV[3]) - now + 60000
if redis.call('PTTL', z) < ttl then
  redis.call('PEXPIRE', z, ttl)
  redis.call('PEXPIRE', h, ttl)
end
return {'ok', ARGV[2], redis.call('ZRANK', z, id) + 1}`;

// KEYS: zset, hash. ARGV: requestId. Returns the entry's score (enqueue time) when this call took it, else false.
export const CLAIM_SCRIPT = `
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score then return false end
redis.call('ZREM', KEYS[1], ARGV[1])
return score`;

// KEYS: zset, hash. ARGV: requestId, score, origin, deadline. Puts a claimed entry back at its place.
export const REQUEUE_SCRIPT = `
if not redis.call('HGET', KEYS[2], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3] .. '|' .. ARGV[4])
return 1`;

// KEYS: zset, hash. ARGV: channel, message. Publishes on the capacity channel only if requests of the org wait
// (the hash counts requests being routed too: a claimed request left the zset but may come back).
export const CAPACITY_SCRIPT = `
if redis.call('HLEN', KEYS[2]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`;

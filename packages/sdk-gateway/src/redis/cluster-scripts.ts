/**
 * Lua scripts of the Redis cluster mode. Each runs atomically inside Redis, which is what makes a
 * selection and its in-flight reservation one step for every replica at once (no home-made locking).
 *
 * Layout under the prefix P; every key of one organization carries the hash tag `{<org>}`, so on Redis
 * Cluster one org's presence, pools, reservations, sequence and queue (queue-scripts.ts) live in one slot:
 * - `P a:{<org>}:<agentId>` hash: r replica, s session, o org, m maxInFlight, k `|kinds|`, c `*` or `|connectors|`,
 *   t `|tags|`, p newline-separated pool keys, u rotation position. PEXPIREd; the owning replica refreshes it.
 * - `P pk:{<org>}:<kind>` and `P pt:{<org>}:<tag>`: the free-slot index (free-slot-index.ts): zsets of the
 *   agents with a free slot, least recently used first (round robin and LRU tie-break, cluster-wide);
 *   `P full:{<org>}` holds the others until a slot comes free.
 * - `P i:{<org>}:<agentId>` / `P oi:{<org>}`: zsets of in-flight request ids scored by their deadline, so a
 *   slot whose release was lost (both replicas died) frees itself at the deadline.
 * - `P seq:{<org>}`: the org's dispatch sequence.
 *
 * Each script gets one key of the org in KEYS[1] (which is how a Redis Cluster client routes it to the
 * slot's master) and derives the others from the prefix and the org, all in that same slot.
 */
import { FREE_SLOT_INDEX_LUA } from './free-slot-index.js';

// KEYS: the agent's hash. ARGV: P, agentId, replica, session, org, max, kinds, connectors, tags, ttlMs,
// newline-joined pools, now. When the agent has requests in flight, announces it on P..'moved' (a classic,
// cluster-wide broadcast) so their origins redeliver. A re-registration (new session, tags changed, a
// presence written again after it vanished) keeps the agent's rotation position.
export const REGISTER_SCRIPT = `${FREE_SLOT_INDEX_LUA}
local P = ARGV[1]
local id = ARGV[2]
local O = '{' .. ARGV[5] .. '}:'
local h = KEYS[1]
local newPools = {}
for key in string.gmatch(ARGV[11], '[^\\n]+') do newPools[key] = true end
local old = redis.call('HMGET', h, 'p', 'u')
if old[1] then
  for key in string.gmatch(old[1], '[^\\n]+') do
    if not newPools[key] then redis.call('ZREM', key, id) end
  end
end
local u = tonumber(old[2]) or redis.call('INCR', P .. 'seq:' .. O)
redis.call('HSET', h, 'r', ARGV[3], 's', ARGV[4], 'o', ARGV[5], 'm', ARGV[6], 'k', ARGV[7], 'c', ARGV[8], 't', ARGV[9], 'p', ARGV[11], 'u', u)
redis.call('PEXPIRE', h, ARGV[10])
local n = inFlight(P, O, id, ARGV[12])
reindex(P, O, id, ARGV[11], tonumber(ARGV[6]), u, n)
if n > 0 then redis.call('PUBLISH', P .. 'moved', id .. '\\n' .. ARGV[3]) end
return 1`;

// KEYS: the agent's hash. ARGV: P, agentId, field ('s' or 'r'), expected value. Removes the presence only
// if it is still that one, and the agent from the free-slot index (its reservations stay: they lapse or
// are released, and a new session of the agent starts from them).
export const UNREGISTER_SCRIPT = `
local id = ARGV[2]
local h = KEYS[1]
local f = redis.call('HMGET', h, ARGV[3], 'p', 'o')
if f[1] ~= ARGV[4] then return 0 end
if f[2] then
  for key in string.gmatch(f[2], '[^\\n]+') do redis.call('ZREM', key, id) end
end
if f[3] then redis.call('ZREM', ARGV[1] .. 'full:{' .. f[3] .. '}', id) end
redis.call('DEL', h)
return 1`;

// KEYS: the org's in-flight zset (P oi:{org}). ARGV: P, now, strategy ('lil'|'rr'), pool key ('' when an agent id is given), org, kind, connector or '',
// tag or '', agentId or '', requestId, deadline, quota (0 = none), scanLimit, chunk
// Returns {'ok', agentId, replica, session, examined} | {'none', examined} | {'quota'}, where examined counts
// the presences read (the cost the free-slot index bounds; tests assert on it).
// check() is the eligibility filter of selection/candidates.ts (exclusionOf) over the published presence;
// paused and draining agents are never published (presenceOf). One table of cases, test/eligibility-cases.ts,
// runs against both (selection/eligibility.test.ts, redis/eligibility.int.test.ts). The pool holds only agents
// with a free slot (free-slot-index.ts), so the walk never meets an agent at capacity.
export const RESERVE_SCRIPT = `${FREE_SLOT_INDEX_LUA}
local P = ARGV[1]
local now = tonumber(ARGV[2])
local rr = ARGV[3] == 'rr'
local pool = ARGV[4]
local org, kind, conn, tag, wanted = ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local requestId, deadline, quota = ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12])
local scanLimit, chunk = tonumber(ARGV[13]), tonumber(ARGV[14])
local O = '{' .. org .. '}:'
local orgKey = KEYS[1]
if quota > 0 then
  redis.call('ZREMRANGEBYSCORE', orgKey, '-inf', now)
  if redis.call('ZCARD', orgKey) >= quota then return {'quota'} end
end
local examined = refileLapsed(P, O, now)
-- returns fields and in-flight count of an eligible agent, or nil; second value true when it is gone,
-- third true when it is at capacity
local function check(id)
  examined = examined + 1
  local f = redis.call('HMGET', P .. 'a:' .. O .. id, 'r', 's', 'o', 'm', 'k', 'c', 't', 'p', 'u')
  if not f[1] then return nil, nil, true end
  if f[3] ~= org or not string.find(f[5], '|' .. kind .. '|', 1, true) then return nil end
  if conn ~= '' and f[6] ~= '*' and not string.find(f[6], '|' .. conn .. '|', 1, true) then return nil end
  if tag ~= '' and not string.find(f[7], '|' .. tag .. '|', 1, true) then return nil end
  local n = inFlight(P, O, id, now)
  if n >= tonumber(f[4]) then return nil, n, false, f end
  return f, n
end
local bestId, best, bestN
if wanted ~= '' then
  local f, n = check(wanted)
  if f then bestId, best, bestN = wanted, f, n end
else
  local start, compared, done = 0, 0, false
  while not done do
    local ids = redis.call('ZRANGE', pool, start, start + chunk - 1)
    if #ids == 0 then break end
    local removed = 0
    for _, id in ipairs(ids) do
      local f, n, gone, fullF = check(id)
      if gone then
        redis.call('ZREM', pool, id)
        removed = removed + 1
      elseif fullF then
        -- a stale entry (the index is a hint): filed as full now, so it is read once
        reindex(P, O, id, fullF[8], tonumber(fullF[4]), tonumber(fullF[9]), n)
        redis.call('ZREM', pool, id)
        removed = removed + 1
      elseif f then
        if rr or n == 0 then
          bestId, best, bestN = id, f, n
          done = true
          break
        end
        if not best or n < bestN then bestId, best, bestN = id, f, n end
        compared = compared + 1
        if compared >= scanLimit then
          done = true
          break
        end
      end
    end
    start = start + #ids - removed
  end
end
if not best then return {'none', examined} end
-- the zsets outlive their latest deadline a little, never less (a shorter request must not cut it)
local function hold(key)
  redis.call('ZADD', key, deadline, requestId)
  local ttl = redis.call('PTTL', key)
  if ttl < 0 or now + ttl < deadline + 60000 then redis.call('PEXPIREAT', key, deadline + 60000) end
end
hold(P .. 'i:' .. O .. bestId)
if quota > 0 then hold(orgKey) end
local seq = redis.call('INCR', P .. 'seq:' .. O)
redis.call('HSET', P .. 'a:' .. O .. bestId, 'u', seq)
reindex(P, O, bestId, best[8], tonumber(best[4]), seq, bestN + 1)
return {'ok', bestId, best[1], best[2], examined}`;

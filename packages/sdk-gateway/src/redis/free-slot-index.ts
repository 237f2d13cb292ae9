/**
 * The free-slot index of cluster mode: which agents of an organization can take one more request.
 * Without it the reserve script walked every agent of a pool, busy or not, to find one with a free slot
 * (10,000 agents at capacity: 10,000 presence reads per dispatch that found nobody). With it an agent at
 * capacity costs a reserve nothing.
 *
 * Under the prefix P, in the organization's slot (`{<org>}`):
 * - the pools `P pk:{<org>}:<kind>` and `P pt:{<org>}:<tag>` hold only agents with a free slot, scored by
 *   the agent's rotation position `u` (a field of its presence hash: the org's dispatch sequence at its
 *   latest reservation or first registration). ZRANGE still yields least-recently-used first, so round
 *   robin and least-in-flight keep exactly their rules, over candidates that can take the request.
 * - `P full:{<org>}`: zset of agents with no free slot, scored by their earliest reservation deadline.
 *   A reservation whose release was lost lapses at its deadline; the next reserve takes the agents whose
 *   earliest deadline passed (and only those) and puts each back in its pools when a slot came free.
 *
 * Kind and tag are sub-indexes (the pools), because every request names a kind and a tag selector names
 * one pool; the connector of `connector.action` stays a filter on the way through the kind's free agents:
 * an agent declares any number of connectors or all of them (`*`), and a pool per connector plus a
 * wildcard pool would multiply the index writes of every reservation by the agent's connector count.
 *
 * Every transition runs inside the script that causes it (register, unregister, reserve, release), so
 * the index changes atomically with the reservations it summarises. It is a hint, never the authority:
 * reserve still counts the agent's reservations before it takes a slot, so a stale entry can cost a
 * read but can never push an agent past `maxInFlight`.
 */

/**
 * Lua shared by the scripts that change an agent's load. `inFlight` trims the agent's lapsed reservations
 * and counts the rest; `reindex` files the agent where its count puts it: in its pools (score `u`) while
 * it has a free slot, else in the full set. ZADD/ZREM are idempotent, so filing an agent twice (a release
 * repeated by another replica) leaves it in each pool exactly once.
 */
export const FREE_SLOT_INDEX_LUA = `
-- O is '{<org>}:', the org part of the agent keys; the full set is P..'full:{<org>}'
local function fullKey(P, O) return P .. 'full:' .. string.sub(O, 1, -2) end
local function inFlight(P, O, id, now)
  local ik = P .. 'i:' .. O .. id
  redis.call('ZREMRANGEBYSCORE', ik, '-inf', now)
  return redis.call('ZCARD', ik)
end
local function reindex(P, O, id, pools, max, u, n)
  local full = fullKey(P, O)
  if n < max then
    for key in string.gmatch(pools or '', '[^\\n]+') do
      -- (a presence written by an older script has no u: it keeps its place, or joins at the front)
      if u then redis.call('ZADD', key, u, id) else redis.call('ZADD', key, 'NX', 0, id) end
    end
    redis.call('ZREM', full, id)
    return
  end
  for key in string.gmatch(pools or '', '[^\\n]+') do redis.call('ZREM', key, id) end
  local first = redis.call('ZRANGE', P .. 'i:' .. O .. id, 0, 0, 'WITHSCORES')
  if first[2] then redis.call('ZADD', full, first[2], id) else redis.call('ZREM', full, id) end
end
-- Agents whose earliest reservation lapsed: each is refiled (freed, or rescored to its next deadline) or
-- dropped when its presence expired. Each pass removes at least one lapsed reservation per agent it
-- reads, so the work is that of lost releases, never that of the busy agents. Returns how many it read.
local function refileLapsed(P, O, now)
  local full = fullKey(P, O)
  local read = 0
  while true do
    local ids = redis.call('ZRANGEBYSCORE', full, '-inf', now, 'LIMIT', 0, 64)
    if #ids == 0 then return read end
    for _, id in ipairs(ids) do
      read = read + 1
      local f = redis.call('HMGET', P .. 'a:' .. O .. id, 'm', 'p', 'u')
      if f[1] then
        reindex(P, O, id, f[2], tonumber(f[1]), tonumber(f[3]), inFlight(P, O, id, now))
      else
        redis.call('ZREM', full, id)
      end
    end
  end
end
`;

// KEYS: the agent's in-flight zset (P i:{org}:<agentId>). ARGV: P, org, agentId, requestId, now.
// Frees the request's slot on the agent and on the org quota. Only the call that removes the
// reservation refiles the agent, so a slot re-enters the index once however often it is released.
export const RELEASE_SCRIPT = `${FREE_SLOT_INDEX_LUA}
local P, id, requestId, now = ARGV[1], ARGV[3], ARGV[4], tonumber(ARGV[5])
local O = '{' .. ARGV[2] .. '}:'
redis.call('ZREM', P .. 'oi:{' .. ARGV[2] .. '}', requestId)
if redis.call('ZREM', KEYS[1], requestId) == 0 then return 0 end
local f = redis.call('HMGET', P .. 'a:' .. O .. id, 'm', 'p', 'u')
if not f[1] then
  redis.call('ZREM', fullKey(P, O), id)
  return 1
end
reindex(P, O, id, f[2], tonumber(f[1]), tonumber(f[3]), inFlight(P, O, id, now))
return 1`;

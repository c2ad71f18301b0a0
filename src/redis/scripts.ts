/**
 * The Lua scripts of cluster admission, registered with ioredis `defineCommand` (./store.ts).
 * Each runs atomically in Redis, so a check and what it decides cannot be split by another
 * node's request. Time is Redis's own (`TIME`): since Redis 5 scripts replicate as effects, so
 * every node and every replica share one clock, and no node's clock matters.
 *
 * Every script takes the same six keys (./keys.ts): leases, epochs, open, per-client,
 * per-target, and the grants of the incarnation it works for. All share one hash tag.
 * Work per call is bounded: a grant or release touches one grant; a reap takes one HSCAN batch
 * (about COUNT fields of a large hash; a small, listpack-encoded one, at most
 * hash-max-listpack-entries = 128 by default, comes whole);
 * a sync or an unregister walks only the calling node's own grants.
 */

/** Redis's clock in milliseconds (`TIME`, so every node and replica shares one clock): every script's. */
export const CLOCK = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** Helpers every admission script starts with: the clock, and taking or giving back one grant's slots. */
const PRELUDE = `${CLOCK}local function split(rec)
  return string.match(rec, '^(%S+) (%S+) (%S+)$')
end
local function take(rec)
  local _, ip, target = split(rec)
  redis.call('INCR', KEYS[3])
  redis.call('HINCRBY', KEYS[4], ip, 1)
  redis.call('HINCRBY', KEYS[5], target, 1)
end
local function forget(rec)
  local _, ip, target = split(rec)
  if redis.call('DECR', KEYS[3]) <= 0 then redis.call('DEL', KEYS[3]) end
  if ip and redis.call('HINCRBY', KEYS[4], ip, -1) <= 0 then redis.call('HDEL', KEYS[4], ip) end
  if target and redis.call('HINCRBY', KEYS[5], target, -1) <= 0 then redis.call('HDEL', KEYS[5], target) end
end
`;

/**
 * ARGV: incarnation, epoch, field, holder, client IP, target, max total, max per IP, max per target.
 * Replies one word: ok, a limit's code, or why the incarnation may not take it (unknown: Redis
 * lost it; expired: its lease ran out; stale: an older epoch; duplicate: the field is taken).
 */
const GRANT = `${PRELUDE}
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not lease then return 'unknown' end
if tonumber(lease) <= now_ms() then return 'expired' end
if redis.call('HGET', KEYS[2], ARGV[1]) ~= ARGV[2] then return 'stale' end
if redis.call('HEXISTS', KEYS[6], ARGV[3]) == 1 then return 'duplicate' end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[7]) then return 'LIMIT_TOTAL' end
if tonumber(redis.call('HGET', KEYS[4], ARGV[5]) or '0') >= tonumber(ARGV[8]) then return 'LIMIT_PER_IP' end
if tonumber(redis.call('HGET', KEYS[5], ARGV[6]) or '0') >= tonumber(ARGV[9]) then return 'LIMIT_PER_TARGET' end
local rec = ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6]
redis.call('HSET', KEYS[6], ARGV[3], rec)
take(rec)
return 'ok'
`;

/** ARGV: field. Idempotent: replies 1 when the grant was there, 0 when it was not. */
const RELEASE = `${PRELUDE}
local rec = redis.call('HGET', KEYS[6], ARGV[1])
if not rec then return 0 end
redis.call('HDEL', KEYS[6], ARGV[1])
forget(rec)
return 1
`;

/**
 * ARGV: incarnation, TTL ms, most expired incarnations to name. Renews a live lease; replies
 * {'unknown'} or {'expired'} when there is none to renew (the node then syncs), else
 * {'ok', expiry, grants held, epoch, {expired incarnations}}.
 */
const HEARTBEAT = `${PRELUDE}
local now = now_ms()
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not lease then return {'unknown'} end
if tonumber(lease) <= now then return {'expired'} end
local expiry = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
return {'ok', tostring(expiry), redis.call('HLEN', KEYS[6]), redis.call('HGET', KEYS[2], ARGV[1]) or '', expired}
`;

/**
 * ARGV: incarnation, epoch, TTL ms, N, then N pairs (field, record) the node holds, then the
 * fields of grants still in flight (kept as Redis has them: their scripts ran before this one).
 * Makes the incarnation's grants exactly that, takes the lease and the new epoch. Replies the
 * lease expiry. Used to register at start, to re-register after Redis lost the incarnation, and
 * to resync after a command whose outcome is unknown.
 */
const SYNC = `${PRELUDE}
local n = tonumber(ARGV[4])
local want = {}
for i = 0, n - 1 do want[ARGV[5 + 2 * i]] = ARGV[6 + 2 * i] end
local keep = {}
for i = 5 + 2 * n, #ARGV do keep[ARGV[i]] = true end
local cur = redis.call('HGETALL', KEYS[6])
for i = 1, #cur, 2 do
  local field, rec = cur[i], cur[i + 1]
  if want[field] ~= nil then
    want[field] = false
  elseif not keep[field] then
    redis.call('HDEL', KEYS[6], field)
    forget(rec)
  end
end
for field, rec in pairs(want) do
  if rec then
    redis.call('HSET', KEYS[6], field, rec)
    take(rec)
  end
end
local expiry = now_ms() + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return tostring(expiry)
`;

/**
 * ARGV: the incarnation to reap, batch size. Only when its lease has expired: gives back one
 * batch of its grants, and forgets it once none is left. Replies {grants given back, 1 when done}.
 */
const REAP = `${PRELUDE}
local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not lease or tonumber(lease) > now_ms() then return {0, 1} end
local items = redis.call('HSCAN', KEYS[6], 0, 'COUNT', tonumber(ARGV[2]))[2]
for i = 1, #items, 2 do
  redis.call('HDEL', KEYS[6], items[i])
  forget(items[i + 1])
end
if redis.call('EXISTS', KEYS[6]) == 1 then return {#items / 2, 0} end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return {#items / 2, 1}
`;

/** ARGV: incarnation. A clean stop: every grant given back, the lease and epoch dropped. Replies the grants given back. */
const UNREGISTER = `${PRELUDE}
local cur = redis.call('HGETALL', KEYS[6])
for i = 2, #cur, 2 do forget(cur[i]) end
redis.call('DEL', KEYS[6])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
return #cur / 2
`;

/** No ARGV. The gateway's slots in one snapshot: {open, {ip, n, ...}, {target, n, ...}}. */
const COUNTS = `
return {tonumber(redis.call('GET', KEYS[3]) or '0'), redis.call('HGETALL', KEYS[4]), redis.call('HGETALL', KEYS[5])}
`;

/**
 * ARGV: most incarnations to name. Read-only. The cluster's slots and its leases in one snapshot:
 * {now, open, leases held, {incarnation, expiry, ...}}, the latest expiry first (live nodes before
 * expired ones that wait to be reaped). How many slots each incarnation holds is read after it,
 * with HLEN of its grants: a key a script must be given, never one it makes up.
 */
const LEASES = `${CLOCK}
return {now_ms(), tonumber(redis.call('GET', KEYS[3]) or '0'), redis.call('ZCARD', KEYS[1]), redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1, 'REV', 'WITHSCORES')}
`;

/** A Lua script as ioredis's defineCommand registers it (admission's and the shared ones alike). */
export interface ScriptSpec {
  readonly lua: string;
  readonly numberOfKeys: number;
  readonly readOnly?: true;
}

/** The scripts by the command name each is registered under. */
export const SCRIPTS = {
  uwsbGrant: { lua: GRANT, numberOfKeys: 6 },
  uwsbRelease: { lua: RELEASE, numberOfKeys: 6 },
  uwsbHeartbeat: { lua: HEARTBEAT, numberOfKeys: 6 },
  uwsbSync: { lua: SYNC, numberOfKeys: 6 },
  uwsbReap: { lua: REAP, numberOfKeys: 6 },
  uwsbUnregister: { lua: UNREGISTER, numberOfKeys: 6 },
  uwsbCounts: { lua: COUNTS, numberOfKeys: 6, readOnly: true },
  uwsbLeases: { lua: LEASES, numberOfKeys: 6, readOnly: true },
} as const satisfies Record<string, ScriptSpec>;

export type ScriptName = keyof typeof SCRIPTS;

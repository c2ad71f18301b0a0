/**
 * The Lua scripts of the rate limit, the login ban, the tickets and the host keys shared by every
 * node (`--cluster-redis`), registered with ioredis `defineCommand` (./store.ts) next to
 * admission's (./scripts.ts). Each is atomic in Redis, so a burst spread over nodes spends one
 * bucket, a ban earned on one node holds on all, and of two nodes storing different keys for one
 * server exactly one wins; time is Redis's own (`TIME`). The keys are in ./shared-keys.ts; every
 * script leaves each key it writes with an expiry or a cap on its size (the host keys), and its
 * work is bounded (a failure set holds at most auth-ban-failures entries).
 */
import { CLOCK, type ScriptSpec } from './scripts.js';

const NOW = `${CLOCK}local now = now_ms()
`;

/**
 * KEYS: ban, bucket. ARGV: 1 to take a rate token (0: whitelisted, the ban only), burst,
 * interval ms. The token bucket of ../manager/rate-limiter.ts in token-milliseconds (a token is
 * `interval` units, refilled at `burst` units per ms; capacity burst * interval). Replies
 * {'banned', ms left}, {'limited', ms until a token} or {'ok', 0}.
 */
const ENTER = `${NOW}
local banned = redis.call('PTTL', KEYS[1])
if banned > 0 then return {'banned', banned} end
if ARGV[1] ~= '1' then return {'ok', 0} end
local burst, interval = tonumber(ARGV[2]), tonumber(ARGV[3])
local cap = burst * interval
local b = redis.call('HMGET', KEYS[2], 'units', 'updated')
local units, updated = cap, now
if b[1] and b[2] then
  units, updated = tonumber(b[1]), tonumber(b[2])
  units = math.min(cap, units + math.max(0, now - updated) * burst)
  if now > updated then updated = now end
end
if units < interval then
  return {'limited', math.ceil((interval - units) / burst)}
end
units = units - interval
redis.call('HSET', KEYS[2], 'units', string.format('%.17g', units), 'updated', string.format('%.17g', updated))
redis.call('PEXPIRE', KEYS[2], math.max(1, math.ceil((cap - units) / burst)))
return {'ok', 0}
`;

/**
 * KEYS: ban, failures. ARGV: failures that ban, window ms, ban ms, a unique member for this
 * failure. The ban of ../manager/auth-ban.ts: a failure while banned counts towards the next ban
 * but does not extend this one. Replies {1 when it started the ban, attempts left, ms of ban left}.
 */
const FAILURE = `${NOW}
local limit, window, ban = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - window)
redis.call('ZADD', KEYS[2], now, ARGV[4])
redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -(limit + 1))
redis.call('PEXPIRE', KEYS[2], window)
local left = redis.call('PTTL', KEYS[1])
if left > 0 then return {0, 0, left} end
local n = redis.call('ZCARD', KEYS[2])
if n < limit then return {0, limit - n, 0} end
redis.call('SET', KEYS[1], '1', 'PX', ban)
redis.call('DEL', KEYS[2])
return {1, 0, ban}
`;

/** KEYS: failures. A successful login clears the client's failures (not an active ban). */
const SUCCESS = `
return redis.call('DEL', KEYS[1])
`;

/**
 * KEYS: ticket, index. ARGV: digest, record, TTL ms, most live tickets. Replies 1 when stored,
 * 0 when the cluster already holds the most live tickets.
 */
const MINT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 0 end
local ttl = tonumber(ARGV[3])
redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
return 1
`;

/** KEYS: ticket, index. ARGV: digest. Gone at the first attempt: replies the record, or nil. */
const REDEEM = `
local rec = redis.call('GETDEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return rec
`;

/** KEYS: index. The live tickets. */
const COUNT = `${NOW}
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
`;

/**
 * KEYS: host keys. ARGV: the server's field (`[host]:port`), the record, the most servers kept.
 * Stores the record unless the server already has one: replies {'stored'}, {'present'} (the same
 * record), {'changed', the stored record} or {'full'} (no room for another server).
 */
const HOST_KEY_SHARE = `
local have = redis.call('HGET', KEYS[1], ARGV[1])
if have then
  if have == ARGV[2] then return {'present'} end
  return {'changed', have}
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return {'full'} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return {'stored'}
`;

/** KEYS: host keys. ARGV: servers' fields. Their records, nil where a server has none. */
const HOST_KEY_FIND = `
return redis.call('HMGET', KEYS[1], unpack(ARGV))
`;

/** The scripts by the command name each is registered under. */
export const SHARED_SCRIPTS = {
  uwsbEnter: { lua: ENTER, numberOfKeys: 2 },
  uwsbLoginFailed: { lua: FAILURE, numberOfKeys: 2 },
  uwsbLoginOk: { lua: SUCCESS, numberOfKeys: 1 },
  uwsbTicketMint: { lua: MINT, numberOfKeys: 2 },
  uwsbTicketRedeem: { lua: REDEEM, numberOfKeys: 2 },
  uwsbTicketCount: { lua: COUNT, numberOfKeys: 1, readOnly: true },
  uwsbHostKeyShare: { lua: HOST_KEY_SHARE, numberOfKeys: 1 },
  uwsbHostKeyFind: { lua: HOST_KEY_FIND, numberOfKeys: 1, readOnly: true },
} as const satisfies Record<string, ScriptSpec>;

export type SharedScriptName = keyof typeof SHARED_SCRIPTS;

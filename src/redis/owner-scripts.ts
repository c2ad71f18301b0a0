/**
 * The Lua scripts of the owner registry (./owner-keys.ts): each node's relay entry and its live
 * resume tokens. Registered with ioredis `defineCommand` (./store.ts) next to the others. Every key
 * they write has an expiry of one lease TTL, renewed by the node's heartbeat (`uwsbOwnerBeat`), so
 * nothing outlives a node that died. Work per call is bounded by its arguments.
 */
import type { ScriptSpec } from './scripts.js';

/**
 * KEYS: relay, resumes. ARGV: the relay record, TTL ms. Writes the node's entry and renews its
 * tokens' life. Replies 1 when the tokens are there, 0 when Redis has none (lost, or never sent).
 */
const BEAT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
return redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]))
`;

/** KEYS: resumes. ARGV: TTL ms, then pairs (token hash, owner). Replies the pairs written. */
const PUBLISH = `
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
return (#ARGV - 1) / 2
`;

/** KEYS: resumes. ARGV: token hashes. Replies how many were there. */
const RETIRE = `
return redis.call('HDEL', KEYS[1], unpack(ARGV))
`;

/** KEYS: resumes. ARGV: token hash. Read and deleted in one step: replies the owner, or nil. */
const TAKE = `
local owner = redis.call('HGET', KEYS[1], ARGV[1])
if owner then redis.call('HDEL', KEYS[1], ARGV[1]) end
return owner
`;

/** KEYS: relay. The node's entry, or nil. */
const LOCATE = `
return redis.call('GET', KEYS[1])
`;

/** KEYS: relay, resumes. ARGV: the relay record. A clean stop: the entry (when still this incarnation's) and the tokens go. */
const LEAVE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('DEL', KEYS[2])
`;

export const OWNER_SCRIPTS = {
  uwsbOwnerBeat: { lua: BEAT, numberOfKeys: 2 },
  uwsbOwnerPublish: { lua: PUBLISH, numberOfKeys: 1 },
  uwsbOwnerRetire: { lua: RETIRE, numberOfKeys: 1 },
  uwsbOwnerTake: { lua: TAKE, numberOfKeys: 1 },
  uwsbOwnerLocate: { lua: LOCATE, numberOfKeys: 1, readOnly: true },
  uwsbOwnerLeave: { lua: LEAVE, numberOfKeys: 2 },
} as const satisfies Record<string, ScriptSpec>;

export type OwnerScriptName = keyof typeof OWNER_SCRIPTS;

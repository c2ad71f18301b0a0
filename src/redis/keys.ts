/**
 * The names of the admission state in Redis, and the one record a grant is stored as. Pure.
 *
 * Every key carries the same hash tag, `{uwsb}`, so they all hash to one slot: the Lua scripts
 * (./scripts.ts) touch several keys at once, which Redis Cluster allows only within one slot.
 *
 * - `{uwsb}:leases`       sorted set: incarnation -> lease expiry (ms, Redis `TIME`)
 * - `{uwsb}:epochs`       hash: incarnation -> the epoch of its last sync (a grant of an older
 *                         epoch is refused: it was sent before a resync that did not count it)
 * - `{uwsb}:open`         string: slots in use, gateway-wide
 * - `{uwsb}:per-client`   hash: client IP -> slots
 * - `{uwsb}:per-target`   hash: resolved target ip:port -> slots
 * - `{uwsb}:grants:INC`   hash: grant field (holder.grantId) -> record, the grants of one incarnation
 */

export const HASH_TAG = '{uwsb}';

/** The fixed keys, in the order every script takes them (KEYS[1..5]); KEYS[6] is an incarnation's grants. */
export const FIXED_KEYS = [`${HASH_TAG}:leases`, `${HASH_TAG}:epochs`, `${HASH_TAG}:open`, `${HASH_TAG}:per-client`, `${HASH_TAG}:per-target`] as const;

/** The grants of incarnation `incarnation`. */
export function grantsKey(incarnation: string): string {
  return `${HASH_TAG}:grants:${incarnation}`;
}

/** The six keys of a script run for `incarnation` (its own, or the one it reaps). */
export function scriptKeys(incarnation: string): string[] {
  return [...FIXED_KEYS, grantsKey(incarnation)];
}

/** A grant's field in its incarnation's hash: the holder names its grants, so the pair is unique. */
export function grantField(holder: string, grantId: string): string {
  return `${holder}.${grantId}`;
}

export interface GrantRecord {
  readonly holder: string;
  readonly clientIp: string;
  readonly targetKey: string;
}

/** Neither an IP, an `ip:port` nor an owner id holds a space, so a space separates them (the scripts split on it). */
export function encodeRecord(r: GrantRecord): string {
  return `${r.holder} ${r.clientIp} ${r.targetKey}`;
}

export function decodeRecord(text: string): GrantRecord | null {
  const parts = text.split(' ');
  if (parts.length !== 3 || parts.some((p) => p === '')) return null;
  const [holder = '', clientIp = '', targetKey = ''] = parts;
  return { holder, clientIp, targetKey };
}

/** A field of a record that would break the encoding (a space, or nothing). */
export function recordable(value: string): boolean {
  return value !== '' && !/\s/.test(value);
}

/** `NODE/RANDOM`: the node's name and a random id of this process start. */
export function incarnationId(nodeId: string, random: string): string {
  return `${nodeId}/${random}`;
}

/** The node part of an incarnation id (for logs). */
export function incarnationNode(incarnation: string): string {
  const slash = incarnation.lastIndexOf('/');
  return slash === -1 ? incarnation : incarnation.slice(0, slash);
}

/**
 * Where a session lives, as the other nodes of a cluster find it (`--cluster-redis` with
 * `--node-relay-address`, docs/scaling.md#resume-and-view-through-any-node). Pure.
 *
 * - `{uwsb}:relay:NODE`     string `INCARNATION ADDRESS`: the node's live incarnation and the
 *                           address of its relay listener; PX = the lease TTL, renewed with the
 *                           node's heartbeat, so a node that dies is forgotten within one TTL
 * - `{uwsb}:resumes:INC`    hash: SHA-256 of a live resume token -> its owner id (`NODE~WORKER`),
 *                           the tokens of one incarnation; the whole hash has PX = the lease TTL,
 *                           renewed with the heartbeat, so a dead node's tokens go with it
 *
 * A node never dials an address taken from a request: only one read here. A token is taken out
 * of the hash (read and deleted in one script) before anything is dialed, so a forged or replayed
 * token costs no internal connection.
 */
import { HASH_TAG } from './keys.js';

export function relayKey(node: string): string {
  return `${HASH_TAG}:relay:${node}`;
}

export function resumesKey(incarnation: string): string {
  return `${HASH_TAG}:resumes:${incarnation}`;
}

/** A node's entry: its incarnation and its relay address. */
export interface RelayRecord {
  readonly incarnation: string;
  readonly address: string;
}

/** Neither an incarnation id nor a `host:port` holds a space. */
export function encodeRelay(r: RelayRecord): string {
  return `${r.incarnation} ${r.address}`;
}

export function decodeRelay(text: unknown): RelayRecord | null {
  if (typeof text !== 'string') return null;
  const m = /^(\S+) (\S+)$/.exec(text);
  if (m?.[1] === undefined || m[2] === undefined) return null;
  return { incarnation: m[1], address: m[2] };
}

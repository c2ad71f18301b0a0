/**
 * The names of the rate limit, login ban, ticket and host key state in Redis (`--cluster-redis`).
 * Pure. Every key carries the admission keys' hash tag (./keys.ts), so all of them live in one
 * slot, and every key is bounded: all but the host keys have an expiry (set by the scripts,
 * ./shared-scripts.ts); the host keys are a trust record that must not lapse, so they are bounded
 * by their count instead:
 *
 * - `{uwsb}:rate:IP`       hash {units, updated}: a client's token bucket (`IP` is `*` for the
 *                          one global bucket); expires when it would be full again
 * - `{uwsb}:ban:IP`        string: the client is banned while it exists (PX = the ban's length)
 * - `{uwsb}:fails:IP`      sorted set: failure time (ms) of recent failed logins; expires one
 *                          window after the last one
 * - `{uwsb}:ticket:SHA256` string: a ticket's record (./shared-replies.ts), PX = the ticket TTL;
 *                          the key is the SHA-256 of the ticket, never the ticket
 * - `{uwsb}:tickets`       sorted set: SHA-256 -> expiry (ms), the live tickets (their count and
 *                          the cap); expires with its last ticket
 * - `{uwsb}:hostkeys`      hash: `[host]:port` -> `keytype base64` (./host-key-record.ts), the
 *                          host keys accepted under tofu by any node; no expiry, at most
 *                          MAX_SHARED_HOST_KEYS fields (../manager/redis-host-keys.ts), one per
 *                          server, each record at most MAX_HOST_KEY_RECORD bytes
 */
import { createHash } from 'node:crypto';
import { HASH_TAG } from './keys.js';

/** The key of the bucket `bucket` (a normalized IP, or `*` for the global one). */
export function rateKey(bucket: string): string {
  return `${HASH_TAG}:rate:${bucket}`;
}

export function banKey(ip: string): string {
  return `${HASH_TAG}:ban:${ip}`;
}

export function failuresKey(ip: string): string {
  return `${HASH_TAG}:fails:${ip}`;
}

export const TICKET_INDEX_KEY = `${HASH_TAG}:tickets`;

/** A ticket's digest: what Redis knows of it (a dump of Redis hands out no live ticket). */
export function ticketDigest(ticket: string): string {
  return createHash('sha256').update(ticket, 'utf8').digest('hex');
}

export function ticketKey(digest: string): string {
  return `${HASH_TAG}:ticket:${digest}`;
}

export const HOST_KEYS_KEY = `${HASH_TAG}:hostkeys`;

/**
 * A server's field in the host key hash: `[host]:port`, the host bare (no brackets of its own)
 * and in lower case. Always bracketed, also on port 22, so an IPv6 address reads unambiguously.
 */
export function hostKeyField(host: string, port: number): string {
  return `[${host.replace(/^\[(.*)\]$/, '$1').toLowerCase()}]:${port}`;
}

/**
 * The names of the rate limit, login ban and ticket state in Redis (`--cluster-redis`). Pure.
 * Every key carries the admission keys' hash tag (./keys.ts), so all of them live in one slot,
 * and every key has an expiry (set by the scripts, ./shared-scripts.ts), so nothing grows
 * without bound:
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

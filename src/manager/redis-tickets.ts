/**
 * Tickets in Redis (`--cluster-redis`): the one-time WebSocket tickets of ../auth/tickets.ts with
 * the same answers, stored in Redis so a ticket issued by one node is redeemed on any node,
 * exactly once. Redis keeps only the ticket's SHA-256 as its key (../redis/shared-keys.ts): a dump
 * of Redis hands out no live ticket. The record is a string with the ticket TTL as its expiry,
 * taken with GETDEL (one atomic read-and-delete, in a script that also drops it from the index),
 * then checked against the binding (client IP, target) as on one node: gone at the first attempt,
 * whatever its outcome. A string rather than a hash: the record is written once and always read
 * whole, so a hash's fields would buy nothing and GETDEL has no hash form.
 *
 * Fails closed: with Redis unreachable or slower than `--cluster-redis-timeout`, issuing answers
 * CLUSTER_UNAVAILABLE (503), and so does redeeming (the upgrade is refused, close 1013), within
 * the command timeout. The index caps the live tickets at MAX_TICKETS for the whole cluster.
 */
import { randomBytes } from 'node:crypto';
import { bindingRefusal, MAX_TICKETS, type Redeemed } from '../auth/tickets.js';
import { BridgeError } from '../errors.js';
import { TICKET_INDEX_KEY, ticketDigest, ticketKey } from '../redis/shared-keys.js';
import { parseCount, parseMint } from '../redis/shared-replies.js';
import type { RedisStore } from '../redis/store.js';
import type { Authority } from '../util/requests.js';
import { encodeTicket, parseTicket } from './ticket-record.js';
import type { Issued, TicketRequests } from './tickets.js';

const UNAVAILABLE = Object.freeze({ ok: false, code: 'CLUSTER_UNAVAILABLE' } as const);

export function redisTicketAuthority(store: RedisStore, ttlMs: number, max = MAX_TICKETS): Authority<TicketRequests, unknown> {
  return {
    issueTicket: async (a): Promise<Issued> => {
      const ticket = randomBytes(32).toString('base64url');
      const digest = ticketDigest(ticket);
      try {
        const stored = parseMint(await store.shared('uwsbTicketMint', [ticketKey(digest), TICKET_INDEX_KEY],
          digest, encodeTicket({ ...a.binding, identity: a.identity }), ttlMs, max));
        return stored ? { ok: true, ticket, expiresInMs: ttlMs } : { ok: false, code: 'TICKETS_FULL' };
      } catch {
        return UNAVAILABLE;
      }
    },
    redeemTicket: async (a): Promise<Redeemed> => {
      const digest = ticketDigest(a.ticket);
      let reply: unknown;
      try {
        reply = await store.shared('uwsbTicketRedeem', [ticketKey(digest), TICKET_INDEX_KEY], digest);
      } catch {
        return { ok: false, reason: 'cluster unavailable', code: 'CLUSTER_UNAVAILABLE' };
      }
      let record;
      try {
        record = parseTicket(reply);
      } catch {
        return { ok: false, reason: 'unreadable record' };
      }
      if (record === null) return { ok: false, reason: 'unknown, expired or already used' };
      const refusal = bindingRefusal(record, a.binding);
      return refusal === null ? { ok: true, identity: record.identity } : { ok: false, reason: refusal };
    },
    ticketCount: async () => {
      try {
        return parseCount(await store.shared('uwsbTicketCount', [TICKET_INDEX_KEY]));
      } catch (err) {
        throw new BridgeError('CLUSTER_UNAVAILABLE', undefined, { cause: err });
      }
    },
  };
}

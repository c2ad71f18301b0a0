/**
 * Tickets: the one-time WebSocket tickets (src/auth/tickets.ts) as a concern of the gate. Its
 * requests, the `Tickets` the HTTP routes reach through the ConnectionManager, and the in-process
 * authority: one store for the whole gateway (the cluster primary's under `--workers`), so a ticket
 * issued by one worker is redeemed by another. With `--cluster-redis` the store is Redis
 * (./redis-tickets.ts), so a ticket issued by one node is redeemed by any.
 */
import type { Identity } from '../auth/identity.js';
import type { Redeemed, TicketBinding, TicketStore } from '../auth/tickets.js';
import type { Authority, Client } from '../util/requests.js';

export interface TicketRequests {
  /** A new ticket, or why not: the store is full of live tickets, or (in Redis) unreachable. */
  issueTicket: { args: { identity: Identity; binding: TicketBinding }; result: Issued };
  redeemTicket: { args: { ticket: string; binding: TicketBinding }; result: Redeemed };
  /** Tickets issued and not yet redeemed or swept. */
  ticketCount: { args: Record<string, never>; result: number };
}

/** Plain data, not an exception, so a refusal's code crosses the workers' channel intact. */
export type Issued =
  | { readonly ok: true; readonly ticket: string; readonly expiresInMs: number }
  | { readonly ok: false; readonly code: 'TICKETS_FULL' | 'CLUSTER_UNAVAILABLE' };

export type Tickets = Client<TicketRequests>;

export function ticketAuthority(store: TicketStore): Authority<TicketRequests, unknown> {
  return {
    issueTicket: (a): Issued => {
      const issued = store.issue(a.identity, a.binding);
      return issued === null ? { ok: false, code: 'TICKETS_FULL' } : { ok: true, ...issued };
    },
    redeemTicket: (a) => store.redeem(a.ticket, a.binding),
    ticketCount: () => store.size,
  };
}

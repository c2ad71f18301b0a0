/**
 * Tickets: the one-time WebSocket tickets (src/auth/tickets.ts) as a concern of the gate. Its
 * requests, the `Tickets` the HTTP routes reach through the ConnectionManager, and the in-process
 * authority: one store for the whole gateway (the cluster primary's under `--workers`), so a ticket
 * issued by one worker is redeemed by another.
 */
import type { Identity } from '../auth/identity.js';
import type { Redeemed, TicketBinding, TicketStore } from '../auth/tickets.js';
import type { Authority, Client } from '../util/requests.js';

export interface TicketRequests {
  /** A new ticket, or null when the store is full of live tickets. */
  issueTicket: { args: { identity: Identity; binding: TicketBinding }; result: { ticket: string; expiresInMs: number } | null };
  redeemTicket: { args: { ticket: string; binding: TicketBinding }; result: Redeemed };
  /** Tickets issued and not yet redeemed or swept. */
  ticketCount: { args: Record<string, never>; result: number };
}

export type Tickets = Client<TicketRequests>;

export function ticketAuthority(store: TicketStore): Authority<TicketRequests, unknown> {
  return {
    issueTicket: (a) => store.issue(a.identity, a.binding),
    redeemTicket: (a) => store.redeem(a.ticket, a.binding),
    ticketCount: () => store.size,
  };
}

/**
 * The gate: the concerns of the admission authority as a ConnectionManager holds them -
 * Admission (session slots), Abuse (login ban and rate limit), Tickets, Owners (which node
 * holds a session) and HostKeys (the cluster's host keys) - and the one request map
 * they make together. In one process the Gatekeeper (./gatekeeper.ts) answers them; under
 * `--workers` the primary's Gatekeeper does, asked over IPC (src/cluster/), so every decision is
 * exact for the whole gateway.
 */
import type { AbuseRequests, Abuse, AbuseSnapshot } from './abuse.js';
import type { Admission, AdmissionRequests } from './admission.js';
import type { HostKeyRequests, HostKeys } from './host-keys.js';
import type { SlotCounts } from './ledger.js';
import type { OwnerRequests, Owners } from './owners.js';
import type { TicketRequests, Tickets } from './tickets.js';

/** Every request of the gate: the cluster's messages are derived from this map (src/cluster/messages.ts). */
export interface GateRequests extends AdmissionRequests, AbuseRequests, TicketRequests, OwnerRequests, HostKeyRequests {}

export interface Gate {
  readonly admission: Admission;
  readonly abuse: Abuse;
  readonly tickets: Tickets;
  /** Where other nodes' sessions live; this node's relay and resume tokens (./owners.ts). */
  readonly owners: Owners;
  /** The cluster's host keys (asked only with `--cluster-redis`). */
  readonly hostKeys: HostKeys;
  /**
   * Stop asking (a worker's channel) or stop the authority's timers (in one process; with Redis,
   * the node's lease, whose slots are given back before this resolves). Idempotent.
   */
  dispose(): Promise<void>;
}

/** The authority's state, for /stats: slots from the ledger, the limiter and bans, outstanding tickets. */
export interface GateSnapshot extends SlotCounts, AbuseSnapshot {
  readonly tickets: number;
}

export async function gateSnapshot(gate: Gate): Promise<GateSnapshot> {
  const [slots, abuse, tickets] = await Promise.all([
    gate.admission.ask('slots', { scope: 'gateway' }), gate.abuse.ask('abuseState', {}), gate.tickets.ask('ticketCount', {}),
  ]);
  return { ...slots, ...abuse, tickets };
}

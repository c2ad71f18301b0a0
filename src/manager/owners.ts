/**
 * Owners: where the sessions of the other nodes of a cluster live, as a concern of the gate
 * (docs/scaling.md#resume-and-view-through-any-node). A node publishes the resume tokens it issues
 * (only their SHA-256) and retires them; a node that receives a resume, a viewer or a file request
 * for a session held by another node asks here for that node's relay address, and for a resume
 * takes the token's entry (burnt cluster-wide) before it dials, so a forged or replayed token
 * costs no internal connection.
 *
 * In one node nothing is elsewhere: the in-process authority knows no other node. With
 * `--cluster-redis` and `--node-relay-address` the Gatekeeper answers from Redis
 * (./redis-owners.ts). Under `--workers` the primary answers, and a worker that dies has its
 * tokens retired.
 */
import type { Authority, Client } from '../util/requests.js';

export interface OwnerRequests {
  /** This node's relay listener listens at `address` (host:port): other nodes may now be sent here. */
  announceRelay: { args: { address: string }; result: void };
  /** A resume token was issued for a session held by `owner` (its SHA-256, hex). */
  publishToken: { args: { hash: string; owner: string }; result: void };
  /** That token stopped working (rotated, used, or its session ended). */
  retireToken: { args: { hash: string }; result: void };
  /** A resume token of node `node`: its entry taken (burnt), and where that node's relay listens. */
  takeToken: { args: { node: string; hash: string }; result: Located };
  /** Where node `node`'s relay listens (a viewer, a file request). */
  locateNode: { args: { node: string }; result: Located };
}

/**
 * Plain data, so it crosses the workers' channel. `unknown`: no such node alive with a relay, or
 * no such token (forged, used, or its node died); `unavailable`: Redis did not answer.
 */
export type Located =
  | { readonly ok: true; readonly address: string }
  | { readonly ok: false; readonly why: 'unknown' | 'unavailable' };

export type Owners = Client<OwnerRequests>;

/** One node: no other node to find, nothing to publish. */
export function localOwnerAuthority(): Authority<OwnerRequests, unknown> {
  const nowhere = (): Located => ({ ok: false, why: 'unknown' });
  return {
    announceRelay: () => undefined,
    publishToken: () => undefined,
    retireToken: () => undefined,
    takeToken: nowhere,
    locateNode: nowhere,
  };
}

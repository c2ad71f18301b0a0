/**
 * The IPC protocol between the cluster primary and its workers (node:cluster's channel, JSON),
 * derived from the request maps: the gate's (src/manager/gate.ts) plus what only the cluster asks.
 * Requests carry an id and get exactly one response with the same id; told requests (notices) get
 * none. Every message has `uwsb: 1` so ours are told apart from prom-client's own cluster messages.
 */
import type { GateRequests } from '../manager/gate.js';
import type { ClusterStats, ManagerStats } from '../manager/stats.js';
import type { AskOp, RequestMap, TellOp } from '../util/requests.js';

/** Worker -> primary: the gate's requests, the gateway's figures, and `hello`. */
export interface WorkerRequests extends GateRequests {
  /** The whole gateway's statistics (every worker's, summed by the primary, with its ledger's slots). */
  clusterStats: { args: Record<string, never>; result: ClusterStats };
  /** Prometheus text for the whole gateway (prom-client's AggregatorRegistry in the primary). */
  clusterMetrics: { args: Record<string, never>; result: { contentType: string; text: string } };
  /** The worker's command listener is in place (src/roles/stop-request.ts): a stop under way (unready, drain) is sent again. */
  hello: { args: Record<string, never>; result: void };
  /**
   * The worker's App listens at `address`:`port` (the gateway's port). Its own word, since
   * node:cluster's `listening` event also fires for any other server a worker listens on (the
   * relay between nodes).
   */
  listening: { args: { address: string; port: number }; result: void };
}

/** Primary -> worker. */
export interface PrimaryRequests {
  localStats: { args: Record<string, never>; result: ManagerStats };
}

/**
 * Primary -> worker commands. `unready`: the primary's stop began with a ready delay; /readyz
 * answers 503 while the worker still serves, until `drain`.
 */
export type PrimaryCommand = 'unready' | 'drain' | 'reload';

/** An asked request of map `M` (`K`: one name, or any). */
export type AskMessage<M extends RequestMap<M>, K extends AskOp<M> = AskOp<M>> = {
  [P in K]: { uwsb: 1; kind: 'req'; id: number; op: P; args: M[P]['args'] };
}[K];

/** A told request of map `M`. */
export type TellMessage<M extends RequestMap<M>, K extends TellOp<M> = TellOp<M>> = {
  [P in K]: { uwsb: 1; kind: 'notice'; op: P; args: M[P]['args'] };
}[K];

export type Reply =
  | { uwsb: 1; kind: 'res'; id: number; ok: true; result: unknown }
  | { uwsb: 1; kind: 'res'; id: number; ok: false; error: string };

export type Command = { uwsb: 1; kind: 'cmd'; op: PrimaryCommand };

/** What a worker sends its primary. */
export type ToPrimary = AskMessage<WorkerRequests> | TellMessage<WorkerRequests> | Reply;

/** What the primary sends a worker. */
export type ToWorker = AskMessage<PrimaryRequests> | Reply | Command;

export type Message = ToPrimary | ToWorker;

/**
 * Ours, not prom-client's. Both ends run this same code, so a message that is ours has the shape
 * its direction's type says: the channel is trusted, the check only sorts.
 */
function ours(m: unknown): boolean {
  return typeof m === 'object' && m !== null && 'uwsb' in m && m.uwsb === 1 && 'kind' in m && typeof m.kind === 'string';
}

/** A message the primary hears from a worker. */
export function isToPrimary(m: unknown): m is ToPrimary {
  return ours(m);
}

/** A message a worker hears from the primary. */
export function isToWorker(m: unknown): m is ToWorker {
  return ours(m);
}

/**
 * The IPC protocol between the cluster primary and its workers (node:cluster's channel, JSON).
 * Requests carry an id and get exactly one response with the same id; notices get none. Every
 * message has `uwsb: 1` so ours are told apart from prom-client's own cluster messages.
 */
import type { Identity } from '../auth/identity.js';
import type { Redeemed, TicketBinding } from '../auth/tickets.js';
import type { EnterResult, GateSnapshot, GrantResult } from '../manager/gatekeeper.js';
import type { ClusterStats, ManagerStats } from '../manager/stats.js';

/** Worker -> primary requests and what each answers. */
export interface WorkerRequests {
  enter: { args: { clientIp: string }; result: EnterResult };
  grant: { args: { clientIp: string; targetKey: string; grantId: string }; result: GrantResult };
  issueTicket: { args: { identity: Identity; binding: TicketBinding }; result: { ticket: string; expiresInMs: number } | null };
  redeemTicket: { args: { ticket: string; binding: TicketBinding }; result: Redeemed };
  snapshot: { args: Record<string, never>; result: GateSnapshot };
  clusterStats: { args: Record<string, never>; result: ClusterStats };
  clusterMetrics: { args: Record<string, never>; result: { contentType: string; text: string } };
}

/** Worker -> primary notices. */
export interface WorkerNotices {
  release: { grantId: string };
  authFailure: { clientIp: string; kind: 'ssh' | 'gateway' };
  authSuccess: { clientIp: string };
  /** The worker's command listener is in place (src/roles/stop-request.ts): a drain under way is sent again. */
  hello: Record<string, never>;
}

/** Primary -> worker requests. */
export interface PrimaryRequests {
  localStats: { args: Record<string, never>; result: ManagerStats };
}

/** Primary -> worker commands. */
export type PrimaryCommand = 'drain' | 'reload';


export type { ClusterStats };

export type Op<T> = keyof T & string;

export type Message =
  | { uwsb: 1; kind: 'req'; id: number; op: string; args: unknown }
  | { uwsb: 1; kind: 'res'; id: number; ok: true; result: unknown }
  | { uwsb: 1; kind: 'res'; id: number; ok: false; error: string }
  | { uwsb: 1; kind: 'notice'; op: string; args: unknown }
  | { uwsb: 1; kind: 'cmd'; op: PrimaryCommand };

export function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && (m as { uwsb?: unknown }).uwsb === 1 && typeof (m as { kind?: unknown }).kind === 'string';
}

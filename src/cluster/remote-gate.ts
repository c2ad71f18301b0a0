/**
 * A worker's Gate: every decision is asked of the primary's Gatekeeper over IPC, so limits, the
 * rate limiter, bans and tickets are exact for the whole gateway. When the primary cannot answer
 * (gone, or no answer in time) requests fail and the upgrade is refused with INTERNAL.
 */
import { randomBytes } from 'node:crypto';
import type { Identity } from '../auth/identity.js';
import type { Redeemed, TicketBinding } from '../auth/tickets.js';
import type { Gate } from '../manager/gate.js';
import type { EnterResult, GateSnapshot, GrantResult } from '../manager/gatekeeper.js';
import type { ClusterStats, WorkerNotices, WorkerRequests } from './messages.js';
import type { Rpc } from './rpc.js';

export class RemoteGate implements Gate {
  readonly #rpc: Rpc;

  constructor(rpc: Rpc) {
    this.#rpc = rpc;
  }

  #ask<K extends keyof WorkerRequests>(op: K, args: WorkerRequests[K]['args']): Promise<WorkerRequests[K]['result']> {
    return this.#rpc.request<WorkerRequests[K]['result']>(op, args);
  }

  #tell<K extends keyof WorkerNotices>(op: K, args: WorkerNotices[K]): void {
    this.#rpc.notice(op, args);
  }

  enter(clientIp: string): Promise<EnterResult> {
    return this.#ask('enter', { clientIp });
  }

  /**
   * The worker picks the grant id. If the answer is lost (the request timed out, the primary was
   * slow), the slot may still have been taken: releasing that id frees it (release is idempotent
   * and IPC is ordered, so the release always comes after the grant).
   */
  async grant(clientIp: string, targetKey: string): Promise<GrantResult> {
    const grantId = randomBytes(12).toString('hex');
    try {
      return await this.#ask('grant', { clientIp, targetKey, grantId });
    } catch (err) {
      this.release(grantId);
      throw err;
    }
  }

  release(grantId: string): void {
    this.#tell('release', { grantId });
  }

  authFailure(clientIp: string, kind: 'ssh' | 'gateway'): void {
    this.#tell('authFailure', { clientIp, kind });
  }

  authSuccess(clientIp: string): void {
    this.#tell('authSuccess', { clientIp });
  }

  issueTicket(identity: Identity, binding: TicketBinding): Promise<{ ticket: string; expiresInMs: number } | null> {
    return this.#ask('issueTicket', { identity, binding });
  }

  redeemTicket(ticket: string, binding: TicketBinding): Promise<Redeemed> {
    return this.#ask('redeemTicket', { ticket, binding });
  }

  snapshot(): Promise<GateSnapshot> {
    return this.#ask('snapshot', {});
  }

  /** The whole gateway's statistics (every worker's, summed by the primary). */
  clusterStats(): Promise<ClusterStats> {
    return this.#ask('clusterStats', {});
  }

  /** Prometheus text for the whole gateway (prom-client's AggregatorRegistry in the primary). */
  clusterMetrics(): Promise<{ contentType: string; text: string }> {
    return this.#ask('clusterMetrics', {});
  }

  dispose(): void {
    this.#rpc.close('gate disposed');
  }
}

/**
 * How a ConnectionManager reaches the admission authority (./gatekeeper.ts). Asynchronous so
 * the same code runs whether the authority is in this process (LocalGate: a single-process
 * gateway, or the tests) or in the cluster primary (RemoteGate over IPC, src/cluster/).
 */
import type { Identity } from '../auth/identity.js';
import type { Redeemed, TicketBinding } from '../auth/tickets.js';
import type { EnterResult, GateSnapshot, Gatekeeper, GrantResult } from './gatekeeper.js';

export interface Gate {
  enter(clientIp: string): Promise<EnterResult>;
  grant(clientIp: string, targetKey: string): Promise<GrantResult>;
  /** Fire and forget; idempotent. */
  release(id: string): void;
  authFailure(clientIp: string, kind: 'ssh' | 'gateway'): void;
  authSuccess(clientIp: string): void;
  issueTicket(identity: Identity, binding: TicketBinding): Promise<{ ticket: string; expiresInMs: number } | null>;
  redeemTicket(ticket: string, binding: TicketBinding): Promise<Redeemed>;
  snapshot(): Promise<GateSnapshot>;
  dispose(): void;
}

export class LocalGate implements Gate {
  readonly #keeper: Gatekeeper;

  constructor(keeper: Gatekeeper) {
    this.#keeper = keeper;
  }

  enter(clientIp: string): Promise<EnterResult> {
    return Promise.resolve(this.#keeper.enter(clientIp));
  }

  grant(clientIp: string, targetKey: string): Promise<GrantResult> {
    return Promise.resolve(this.#keeper.grant(clientIp, targetKey));
  }

  release(id: string): void {
    this.#keeper.release(id);
  }

  authFailure(clientIp: string, kind: 'ssh' | 'gateway'): void {
    this.#keeper.authFailure(clientIp, kind);
  }

  authSuccess(clientIp: string): void {
    this.#keeper.authSuccess(clientIp);
  }

  issueTicket(identity: Identity, binding: TicketBinding): Promise<{ ticket: string; expiresInMs: number } | null> {
    return Promise.resolve(this.#keeper.issueTicket(identity, binding));
  }

  redeemTicket(ticket: string, binding: TicketBinding): Promise<Redeemed> {
    return Promise.resolve(this.#keeper.redeemTicket(ticket, binding));
  }

  snapshot(): Promise<GateSnapshot> {
    return Promise.resolve(this.#keeper.snapshot());
  }

  dispose(): void {
    this.#keeper.dispose();
  }
}

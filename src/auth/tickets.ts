/**
 * One-time WebSocket tickets. A browser cannot set headers on a WebSocket, and a long-lived
 * credential in a URL ends up in proxy logs and history; so the page trades its credential for a
 * ticket (POST, same-origin) and opens the socket with `?ticket=`. A ticket is random (256 bits),
 * single use (gone at the first redemption attempt, whatever its outcome), expires after `ttlMs`,
 * and is bound to the client IP and the target it was issued for. The store is bounded; expired
 * tickets are swept by one timer the store owns.
 */
import { randomBytes } from 'node:crypto';
import type { Identity } from './identity.js';

export interface TicketBinding {
  readonly clientIp: string;
  /** `host:port` as the client asked for it (the WS path); null in fixed-target mode. */
  readonly target: string | null;
}

interface Entry extends TicketBinding {
  readonly identity: Identity;
  readonly expiresAt: number;
}

/** A refusal says why (for the log); `code` CLUSTER_UNAVAILABLE when the cluster's store could not be asked (else TICKET_INVALID). */
export type Redeemed =
  | { readonly ok: true; readonly identity: Identity }
  | { readonly ok: false; readonly reason: string; readonly code?: 'CLUSTER_UNAVAILABLE' };

/** Why a ticket issued with `issued` may not be used by `binding`; null when it may. Pure. */
export function bindingRefusal(issued: TicketBinding, binding: TicketBinding): string | null {
  if (issued.clientIp !== binding.clientIp) return 'issued to another address';
  if (issued.target !== null && issued.target !== binding.target) return 'issued for another target';
  return null;
}

export const MAX_TICKETS = 10_000;

export class TicketStore {
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;
  readonly #tickets = new Map<string, Entry>();
  #sweeper: NodeJS.Timeout | undefined;

  constructor(ttlMs: number, opts: { max?: number; now?: () => number } = {}) {
    this.#ttlMs = ttlMs;
    this.#max = opts.max ?? MAX_TICKETS;
    this.#now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.#tickets.size;
  }

  /** A new ticket, or null when the store is full of live tickets. */
  issue(identity: Identity, binding: TicketBinding): { ticket: string; expiresInMs: number } | null {
    if (this.#tickets.size >= this.#max) {
      this.sweep();
      if (this.#tickets.size >= this.#max) return null;
    }
    const ticket = randomBytes(32).toString('base64url');
    this.#tickets.set(ticket, { ...binding, identity, expiresAt: this.#now() + this.#ttlMs });
    this.#sweeper ??= setInterval(() => this.sweep(), Math.max(1000, this.#ttlMs)).unref();
    return { ticket, expiresInMs: this.#ttlMs };
  }

  /** Redeem once: the ticket is deleted before any check, so a second attempt always fails. */
  redeem(ticket: string, binding: TicketBinding): Redeemed {
    const entry = this.#tickets.get(ticket);
    if (entry === undefined) return { ok: false, reason: 'unknown or already used' };
    this.#tickets.delete(ticket);
    if (this.#tickets.size === 0) this.#stopSweeper();
    if (this.#now() >= entry.expiresAt) return { ok: false, reason: 'expired' };
    const refusal = bindingRefusal(entry, binding);
    return refusal === null ? { ok: true, identity: entry.identity } : { ok: false, reason: refusal };
  }

  sweep(): void {
    const now = this.#now();
    for (const [ticket, entry] of this.#tickets) if (now >= entry.expiresAt) this.#tickets.delete(ticket);
    if (this.#tickets.size === 0) this.#stopSweeper();
  }

  dispose(): void {
    this.#tickets.clear();
    this.#stopSweeper();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

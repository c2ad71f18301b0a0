/**
 * The admission authority: every decision that must be exact across the whole gateway - the
 * rate limiter, the login ban, the global / per-IP / per-target session limits and the one-time
 * tickets. Synchronous and in one place, so concurrent upgrades cannot overshoot. In a single
 * process the ConnectionManager calls it directly (LocalGate); under `--workers` it lives in the
 * cluster primary and the workers reach it over IPC (src/cluster/remote-gate.ts), so the limits
 * hold for the gateway as a whole, not per worker.
 */
import { randomBytes } from 'node:crypto';
import type { Identity } from '../auth/identity.js';
import { TicketStore, type Redeemed, type TicketBinding } from '../auth/tickets.js';
import type { Config } from '../config/types.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { CidrSet } from '../grammar/cidr.js';
import { AuthBan } from './auth-ban.js';
import { RateLimiter, type RateLimiterSnapshot } from './rate-limiter.js';
import { Tally } from './tally.js';

/** The first checks of any request: banned, or out of rate tokens. */
export type EnterResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'AUTH_BANNED' | 'RATE_LIMITED'; readonly retryAfterS: number };

export type GrantResult = { readonly ok: true; readonly id: string } | { readonly ok: false; readonly code: ErrorCode };

export interface GateSnapshot {
  readonly open: number;
  readonly limiter: RateLimiterSnapshot;
  readonly authBan: ReturnType<AuthBan['snapshot']> | null;
  readonly tickets: number;
}

interface Grant {
  readonly clientIp: string;
  readonly targetKey: string;
}

export type GatekeeperConfig = Pick<Config, 'rateBurst' | 'rateIntervalMs' | 'ratePerIp' | 'rateWhitelist' | 'authBanFailures' | 'authBanWindowMs' | 'authBanDurationMs' | 'connMaxTotal' | 'connMaxPerHost' | 'connMaxPerTarget' | 'authTicketTtlMs'>;

export class Gatekeeper {
  readonly #config: GatekeeperConfig;
  readonly #log: Logger;
  readonly #limiter: RateLimiter;
  /** Absent when auth-ban-failures is 0. */
  readonly #ban: AuthBan | undefined;
  readonly #tickets: TicketStore;
  readonly #grants = new Map<string, Grant>();
  readonly #perClient = new Tally();
  readonly #perTarget = new Tally();
  readonly #newId: () => string;

  /**
   * `newId` mints grant ids (random by default; tests count its calls): only an admitted grant
   * needs one, so a refusal costs no entropy.
   */
  constructor(config: GatekeeperConfig, logger: Logger, newId: () => string = () => randomBytes(8).toString('hex')) {
    this.#config = config;
    this.#log = logger;
    this.#newId = newId;
    this.#limiter = new RateLimiter({
      burst: config.rateBurst, intervalMs: config.rateIntervalMs, perIp: config.ratePerIp,
      whitelist: CidrSet.parse(config.rateWhitelist),
    });
    if (config.authBanFailures > 0) {
      this.#ban = new AuthBan({ failures: config.authBanFailures, windowMs: config.authBanWindowMs, banMs: config.authBanDurationMs });
    }
    this.#tickets = new TicketStore(config.authTicketTtlMs);
  }

  /** Ban first (a banned address does not even spend rate tokens), then one rate token. */
  enter(clientIp: string): EnterResult {
    const bannedMs = this.#ban?.bannedForMs(clientIp) ?? 0;
    if (bannedMs > 0) return { ok: false, code: 'AUTH_BANNED', retryAfterS: Math.ceil(bannedMs / 1000) };
    if (!this.#limiter.take(clientIp)) {
      return { ok: false, code: 'RATE_LIMITED', retryAfterS: Math.max(1, Math.ceil(this.#limiter.retryAfterMs(clientIp) / 1000)) };
    }
    return { ok: true };
  }

  /**
   * Check every session limit and take the slot in the same step. `id` may be chosen by the
   * caller (a worker picks it, so it can release a slot whose answer it never got); an id already
   * in use is refused as INTERNAL. Without one, an id is minted only once every limit has passed.
   */
  grant(clientIp: string, targetKey: string, id?: string): GrantResult {
    const c = this.#config;
    if (this.#grants.size >= c.connMaxTotal) return { ok: false, code: 'LIMIT_TOTAL' };
    if (this.#perClient.get(clientIp) >= c.connMaxPerHost) return { ok: false, code: 'LIMIT_PER_IP' };
    if (this.#perTarget.get(targetKey) >= c.connMaxPerTarget) return { ok: false, code: 'LIMIT_PER_TARGET' };
    const grantId = id ?? this.#newId();
    if (this.#grants.has(grantId)) return { ok: false, code: 'INTERNAL' };
    this.#grants.set(grantId, { clientIp, targetKey });
    this.#perClient.add(clientIp);
    this.#perTarget.add(targetKey);
    return { ok: true, id: grantId };
  }

  /** Give a slot back; unknown or already released ids are ignored (idempotent). */
  release(id: string): Grant | undefined {
    const grant = this.#grants.get(id);
    if (grant === undefined) return undefined;
    this.#grants.delete(id);
    this.#perClient.remove(grant.clientIp);
    this.#perTarget.remove(grant.targetKey);
    return grant;
  }

  /** A failed login (SSH, or a rejected gateway credential) towards the address's ban. */
  authFailure(clientIp: string, kind: 'ssh' | 'gateway'): void {
    if (this.#ban?.recordFailure(clientIp) === true) {
      this.#log.warn({ event: 'client_banned', client_ip: clientIp, seconds: Math.ceil(this.#config.authBanDurationMs / 1000), last_failure: kind }, 'client banned after repeated authentication failures');
    }
  }

  authSuccess(clientIp: string): void {
    this.#ban?.recordSuccess(clientIp);
  }

  issueTicket(identity: Identity, binding: TicketBinding): { ticket: string; expiresInMs: number } | null {
    return this.#tickets.issue(identity, binding);
  }

  redeemTicket(ticket: string, binding: TicketBinding): Redeemed {
    return this.#tickets.redeem(ticket, binding);
  }

  snapshot(): GateSnapshot {
    return { open: this.#grants.size, limiter: this.#limiter.snapshot(), authBan: this.#ban?.snapshot() ?? null, tickets: this.#tickets.size };
  }

  dispose(): void {
    this.#tickets.dispose();
  }
}

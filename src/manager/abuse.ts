/**
 * Abuse: the first checks of every upgrade and ticket request (the login ban, then the rate
 * limiter) and the login outcomes that feed the ban. Its requests, the `Abuse` a ConnectionManager
 * holds, and the in-process guard. One guard serves the whole gateway (in the cluster primary under
 * `--workers`), so a client has one bucket and one failure count whichever worker it reaches.
 */
import type { Config } from '../config/types.js';
import { CidrSet } from '../grammar/cidr.js';
import type { Logger } from '../log.js';
import type { LoginTally } from '../policy/login-attempts.js';
import type { Authority, Client } from '../util/requests.js';
import { AuthBan, type FailureTally } from './auth-ban.js';
import { RateLimiter, type RateLimiterSnapshot } from './rate-limiter.js';

/** The first checks of any request: banned, or out of rate tokens. */
export type EnterResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'AUTH_BANNED' | 'RATE_LIMITED'; readonly retryAfterS: number };

export type LoginKind = 'ssh' | 'gateway';

export interface AbuseSnapshot {
  readonly limiter: RateLimiterSnapshot;
  readonly authBan: ReturnType<AuthBan['snapshot']> | null;
}

export interface AbuseRequests {
  /**
   * The ban, then (unless `rate` is false) one rate token. `rate: false` is for requests that
   * carry a credential an admitted session handed out (a file token): banned addresses stay out,
   * but a page's file listing and uploads do not spend the budget of new connections.
   */
  enter: { args: { clientIp: string; rate?: boolean }; result: EnterResult };
  /**
   * A failed login (SSH, or a rejected gateway credential) towards the address's ban, counted when
   * asked: the answer is what it leaves (attempts before the ban), null when the ban is off.
   */
  authFailure: { args: { clientIp: string; kind: LoginKind }; result: LoginTally | null };
  authSuccess: { args: { clientIp: string }; result: void };
  abuseState: { args: Record<string, never>; result: AbuseSnapshot };
}

export type Abuse = Client<AbuseRequests>;

export type AbuseConfig = Pick<Config, 'rateBurst' | 'rateIntervalMs' | 'ratePerIp' | 'rateWhitelist' | 'authBanFailures' | 'authBanWindowMs' | 'authBanDurationMs'>;

/** What a failure leaves, as a failed login is told it; a ban it started is logged (once, where it was counted). */
export function loginTally(tally: FailureTally, config: Pick<AbuseConfig, 'authBanDurationMs'>, log: Logger, clientIp: string, kind: LoginKind): LoginTally {
  const banSeconds = Math.ceil(config.authBanDurationMs / 1000);
  if (tally.banStarted) {
    log.warn({ event: 'client_banned', client_ip: clientIp, seconds: banSeconds, last_failure: kind }, 'client banned after repeated authentication failures');
  }
  return { attemptsLeft: tally.attemptsLeft, banSeconds: tally.attemptsLeft === 0 ? Math.ceil(tally.bannedForMs / 1000) : banSeconds };
}

export class AbuseGuard {
  readonly #config: AbuseConfig;
  readonly #log: Logger;
  readonly #whitelist: CidrSet;
  readonly #limiter: RateLimiter;
  /** Absent when auth-ban-failures is 0. */
  readonly #ban: AuthBan | undefined;

  constructor(config: AbuseConfig, logger: Logger) {
    this.#config = config;
    this.#log = logger;
    this.#whitelist = CidrSet.parse(config.rateWhitelist);
    this.#limiter = new RateLimiter({
      burst: config.rateBurst, intervalMs: config.rateIntervalMs, perIp: config.ratePerIp, whitelist: this.#whitelist,
    });
    if (config.authBanFailures > 0) {
      this.#ban = new AuthBan({ failures: config.authBanFailures, windowMs: config.authBanWindowMs, banMs: config.authBanDurationMs });
    }
  }

  /** Ban first (a banned address does not even spend rate tokens), then one rate token unless `rate` is false. */
  enter(clientIp: string, rate = true): EnterResult {
    const bannedMs = this.#ban?.bannedForMs(clientIp) ?? 0;
    if (bannedMs > 0) return { ok: false, code: 'AUTH_BANNED', retryAfterS: Math.ceil(bannedMs / 1000) };
    if (rate && !this.#limiter.take(clientIp)) {
      return { ok: false, code: 'RATE_LIMITED', retryAfterS: Math.max(1, Math.ceil(this.#limiter.retryAfterMs(clientIp) / 1000)) };
    }
    return { ok: true };
  }

  failure(clientIp: string, kind: LoginKind): LoginTally | null {
    if (this.#ban === undefined) return null;
    return loginTally(this.#ban.recordFailure(clientIp), this.#config, this.#log, clientIp, kind);
  }

  success(clientIp: string): void {
    this.#ban?.recordSuccess(clientIp);
  }

  /** Whether `ip` is exempt from rate limiting (rate-whitelist). */
  whitelisted(ip: string): boolean {
    return this.#whitelist.has(ip);
  }

  snapshot(): AbuseSnapshot {
    return { limiter: this.#limiter.snapshot(), authBan: this.#ban?.snapshot() ?? null };
  }
}

export function abuseAuthority(guard: AbuseGuard): Authority<AbuseRequests, unknown> {
  return {
    enter: (a) => guard.enter(a.clientIp, a.rate ?? true),
    authFailure: (a) => guard.failure(a.clientIp, a.kind),
    authSuccess: (a) => guard.success(a.clientIp),
    abuseState: () => guard.snapshot(),
  };
}

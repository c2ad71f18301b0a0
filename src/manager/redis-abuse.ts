/**
 * The rate limit and the login ban of a gateway whose nodes share one Redis (`--cluster-redis`):
 * the same requests, options and answers as the in-process guard (./abuse.ts), decided by one
 * atomic Lua script per request (../redis/shared-scripts.ts) with Redis's clock, so a client has
 * one bucket and one failure count whichever node it reaches: a burst spread over nodes is
 * limited once, a ban earned on one node refuses on every node.
 *
 * Fails open to the node: when a command fails (Redis down, or slower than
 * `--cluster-redis-timeout`), that request is answered by the node's own AbuseGuard instead, as
 * on one node; and while the connection knows Redis is down (its last command failed), requests
 * are answered locally at once, without a wait, until a command answers again (the lease's
 * heartbeat, every third of `--cluster-lease`, and every reconnect try one). Each such answer is counted (`webssh_bridge_cluster_fallbacks_total{what="abuse"}`);
 * the switch to local answers and the switch back are logged once each, never per request. The
 * local guard holds only what the node saw while falling back.
 */
import { randomBytes } from 'node:crypto';
import { bucketKey } from './rate-limiter.js';
import type { Logger } from '../log.js';
import type { LoginTally } from '../policy/login-attempts.js';
import { banKey, failuresKey, rateKey } from '../redis/shared-keys.js';
import { parseEnter, parseFailure } from '../redis/shared-replies.js';
import type { RedisStore } from '../redis/store.js';
import type { Authority } from '../util/requests.js';
import { loginTally, type AbuseConfig, type AbuseGuard, type AbuseRequests, type AbuseSnapshot, type EnterResult, type LoginKind } from './abuse.js';

export class RedisAbuse {
  readonly authority: Authority<AbuseRequests, unknown>;
  readonly #store: RedisStore;
  readonly #local: AbuseGuard;
  readonly #config: AbuseConfig;
  readonly #log: Logger;
  /** Requests answered by the local guard because Redis did not answer. */
  #fallbacks = 0;
  #fallingBack = false;
  /** Refusals and bans decided in Redis by this node (the local guard counts its own). */
  #limited = 0;
  #bans = 0;

  constructor(store: RedisStore, local: AbuseGuard, config: AbuseConfig, logger: Logger) {
    this.#store = store;
    this.#local = local;
    this.#config = config;
    this.#log = logger;
    this.authority = {
      enter: (a) => this.#enter(a.clientIp, a.rate ?? true),
      authFailure: (a) => this.#failure(a.clientIp, a.kind),
      authSuccess: (a) => this.#success(a.clientIp),
      abuseState: () => this.#snapshot(),
    };
  }

  /** Requests answered locally so far (the metric). */
  get fallbacks(): number {
    return this.#fallbacks;
  }

  async #enter(ip: string, spend: boolean): Promise<EnterResult> {
    if (!this.#store.up) return this.#fallBack(() => this.#local.enter(ip, spend));
    const c = this.#config;
    const rate = spend && !this.#local.whitelisted(ip);
    const bucket = rateKey(bucketKey(ip, c.ratePerIp));
    let result: EnterResult;
    try {
      result = parseEnter(await this.#store.shared('uwsbEnter', [banKey(ip), bucket], rate ? 1 : 0, c.rateBurst, c.rateIntervalMs));
    } catch (err) {
      this.#fellBack(err);
      return this.#local.enter(ip, spend);
    }
    this.#answered();
    if (!result.ok && result.code === 'RATE_LIMITED') this.#limited++;
    return result;
  }

  async #failure(ip: string, kind: LoginKind): Promise<LoginTally | null> {
    const c = this.#config;
    if (c.authBanFailures <= 0) return null;
    if (!this.#store.up) return this.#fallBack(() => this.#local.failure(ip, kind));
    let tally;
    try {
      tally = parseFailure(await this.#store.shared('uwsbLoginFailed', [banKey(ip), failuresKey(ip)],
        c.authBanFailures, c.authBanWindowMs, c.authBanDurationMs, randomBytes(8).toString('hex')));
    } catch (err) {
      this.#fellBack(err);
      return this.#local.failure(ip, kind);
    }
    this.#answered();
    if (tally.banStarted) this.#bans++;
    return loginTally(tally, c, this.#log, ip, kind);
  }

  /** Told, never asked: it never rejects. */
  async #success(ip: string): Promise<void> {
    if (this.#config.authBanFailures <= 0) return;
    if (!this.#store.up) {
      this.#fallBack(() => this.#local.success(ip));
      return;
    }
    try {
      await this.#store.shared('uwsbLoginOk', [failuresKey(ip)]);
    } catch (err) {
      this.#fellBack(err);
      this.#local.success(ip);
      return;
    }
    this.#answered();
  }

  /** The local guard's state, with the refusals and bans this node had Redis decide added to its totals. */
  #snapshot(): AbuseSnapshot {
    const s = this.#local.snapshot();
    return {
      limiter: { ...s.limiter, limited_total: s.limiter.limited_total + this.#limited },
      authBan: s.authBan === null ? null : { ...s.authBan, bans_total: s.authBan.bans_total + this.#bans },
    };
  }

  /** Redis is known to be down (the last command failed): answer locally at once, without waiting for a timeout. */
  #fallBack<T>(answer: () => T): T {
    this.#fellBack(new Error('Redis is unavailable'));
    return answer();
  }

  #fellBack(err: unknown): void {
    this.#fallbacks++;
    if (this.#fallingBack) return;
    this.#fallingBack = true;
    this.#log.warn({ event: 'cluster_fallback', what: 'abuse', reason: err instanceof Error ? err.message : String(err) },
      'Redis did not answer: the rate limit and login ban fall back to this node\'s own state');
  }

  #answered(): void {
    if (!this.#fallingBack) return;
    this.#fallingBack = false;
    this.#log.info({ event: 'cluster_fallback_end', what: 'abuse' }, 'the rate limit and login ban are the cluster\'s again (Redis)');
  }
}

/**
 * Brute-force protection: a client IP that fails to log in (SSH, or a gateway credential)
 * `failures` times within `windowMs` is banned for `banMs` (Guacamole's defaults: 5 failures in 5
 * minutes, banned for 5 minutes); each failure says how many attempts are left before the ban.
 * No timers: state is pruned lazily, and the map is capped so a flood of addresses cannot grow it
 * without bound (past the cap the oldest entries are dropped first).
 */

export interface AuthBanOptions {
  readonly failures: number;
  readonly windowMs: number;
  readonly banMs: number;
  readonly now?: () => number;
  readonly maxTracked?: number;
}

/** What one failure leaves: whether it started the ban, and the attempts left before one. */
export interface FailureTally {
  readonly banStarted: boolean;
  /** Failures the IP may still make before it is banned; 0 when it is banned now. */
  readonly attemptsLeft: number;
  /** Milliseconds left on its ban (0 when attemptsLeft is not 0). */
  readonly bannedForMs: number;
}

interface Record {
  /** Failure times inside the window, oldest first. */
  failures: number[];
  bannedUntil: number;
}

export class AuthBan {
  readonly #opts: Required<Omit<AuthBanOptions, 'now'>>;
  readonly #now: () => number;
  readonly #byIp = new Map<string, Record>();
  #bans = 0;

  constructor(opts: AuthBanOptions) {
    if (opts.failures < 1 || opts.windowMs <= 0 || opts.banMs <= 0) throw new RangeError('auth ban options must be positive');
    this.#opts = { failures: opts.failures, windowMs: opts.windowMs, banMs: opts.banMs, maxTracked: opts.maxTracked ?? 100_000 };
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Milliseconds left on this IP's ban; 0 when it may try. */
  bannedForMs(ip: string): number {
    const rec = this.#byIp.get(ip);
    if (rec === undefined) return 0;
    const left = rec.bannedUntil - this.#now();
    return left > 0 ? left : 0;
  }

  /**
   * Count one failed login. A failure while the IP is banned does not extend the ban (it counts
   * towards the next one); the tally says 0 attempts left then.
   */
  recordFailure(ip: string): FailureTally {
    const now = this.#now();
    let rec = this.#byIp.get(ip);
    if (rec === undefined) {
      this.#makeRoom();
      rec = { failures: [], bannedUntil: 0 };
    } else {
      this.#byIp.delete(ip); // re-insert: the map's order is least recently failed first
    }
    this.#byIp.set(ip, rec);
    rec.failures = rec.failures.filter((t) => now - t < this.#opts.windowMs);
    rec.failures.push(now);
    if (rec.bannedUntil > now) return { banStarted: false, attemptsLeft: 0, bannedForMs: rec.bannedUntil - now };
    if (rec.failures.length < this.#opts.failures) {
      return { banStarted: false, attemptsLeft: this.#opts.failures - rec.failures.length, bannedForMs: 0 };
    }
    rec.bannedUntil = now + this.#opts.banMs;
    rec.failures = [];
    this.#bans++;
    return { banStarted: true, attemptsLeft: 0, bannedForMs: this.#opts.banMs };
  }

  /** A successful login clears the IP's failures (not an active ban). */
  recordSuccess(ip: string): void {
    const rec = this.#byIp.get(ip);
    if (rec === undefined) return;
    if (rec.bannedUntil > this.#now()) rec.failures = [];
    else this.#byIp.delete(ip);
  }

  snapshot(): { banned: number; tracked: number; bans_total: number } {
    const now = this.#now();
    let banned = 0;
    for (const rec of this.#byIp.values()) if (rec.bannedUntil > now) banned++;
    return { banned, tracked: this.#byIp.size, bans_total: this.#bans };
  }

  #makeRoom(): void {
    if (this.#byIp.size < this.#opts.maxTracked) return;
    const now = this.#now();
    for (const [ip, rec] of this.#byIp) {
      const stale = rec.bannedUntil <= now && rec.failures.every((t) => now - t >= this.#opts.windowMs);
      if (stale) this.#byIp.delete(ip);
    }
    while (this.#byIp.size >= this.#opts.maxTracked) {
      const oldest = this.#byIp.keys().next();
      if (oldest.done === true) break;
      this.#byIp.delete(oldest.value);
    }
  }
}

/**
 * Connection-attempt rate limiting: a token bucket per client IP (or one for everybody).
 * No timers: buckets refill by arithmetic on each call and are forgotten once full, because a
 * full bucket behaves exactly like one that was never created.
 */
import { normalizeIp } from '../grammar/cidr.js';
import type { CidrSet } from '../grammar/cidr.js';

export interface RateLimiterOptions {
  /** Bucket capacity: attempts allowed back to back. */
  burst: number;
  /** Time in which an empty bucket refills completely (burst tokens per interval). */
  intervalMs: number;
  /** One bucket per client IP when true, one shared bucket when false. */
  perIp: boolean;
  /** Addresses never limited nor tracked. */
  whitelist: CidrSet;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
  /** Most buckets kept in memory (default 100 000). */
  maxTracked?: number;
}

export interface RateLimiterSnapshot {
  rate_interval_ms: number;
  rate_burst: number;
  per_ip: boolean;
  whitelist: number;
  tracked: number;
  limited_total: number;
}

/**
 * Token levels are kept in "token-milliseconds" (1 token = intervalMs units, refill = burst
 * units per ms) so integer clocks give exact arithmetic: after exactly intervalMs/burst ms a
 * token is there, not 0.9999.
 */
interface Bucket {
  units: number;
  updated: number;
}

const GLOBAL_KEY = '*';

/** Whose bucket `ip` spends from: its own (normalized) address per IP, else the one global bucket. */
export function bucketKey(ip: string, perIp: boolean): string {
  return perIp ? normalizeIp(ip) : GLOBAL_KEY;
}

export class RateLimiter {
  readonly #burst: number;
  readonly #intervalMs: number;
  readonly #perIp: boolean;
  readonly #whitelist: CidrSet;
  readonly #now: () => number;
  readonly #maxTracked: number;
  readonly #capacity: number;
  /** Insertion order is last-use order (touching re-inserts), so the head is the stalest. */
  readonly #buckets = new Map<string, Bucket>();
  /**
   * Shared by new addresses while the map is full of buckets that are still refilling. Under a
   * flood of distinct addresses newcomers are limited together with the flood; addresses
   * already tracked keep their own buckets. That is the price of bounded memory.
   */
  readonly #overflow: Bucket;
  #lastSweep: number;
  #limitedTotal = 0;

  constructor(opts: RateLimiterOptions) {
    if (!Number.isFinite(opts.burst) || opts.burst < 1) throw new RangeError('burst must be >= 1');
    if (!Number.isFinite(opts.intervalMs) || opts.intervalMs <= 0) throw new RangeError('intervalMs must be > 0');
    const maxTracked = opts.maxTracked ?? 100_000;
    if (!Number.isInteger(maxTracked) || maxTracked < 1) throw new RangeError('maxTracked must be an integer >= 1');
    this.#burst = opts.burst;
    this.#intervalMs = opts.intervalMs;
    this.#perIp = opts.perIp;
    this.#whitelist = opts.whitelist;
    this.#now = opts.now ?? (() => performance.now());
    this.#maxTracked = maxTracked;
    this.#capacity = opts.burst * opts.intervalMs;
    const now = this.#now();
    this.#lastSweep = now;
    this.#overflow = { units: this.#capacity, updated: now };
  }

  /** Spend one attempt for `ip`; false means refuse (RATE_LIMITED) and is counted. */
  take(ip: string): boolean {
    if (this.#whitelist.has(ip)) return true;
    const now = this.#now();
    if (now - this.#lastSweep >= this.#intervalMs) this.#sweep(now);

    const key = bucketKey(ip, this.#perIp);
    let bucket = this.#buckets.get(key);
    if (bucket !== undefined) {
      this.#buckets.delete(key); // re-inserted below: keeps the map in last-use order
    } else {
      if (this.#buckets.size >= this.#maxTracked) this.#evictStale(now);
      if (this.#buckets.size < this.#maxTracked) bucket = { units: this.#capacity, updated: now };
    }

    const target = bucket ?? this.#overflow;
    this.#refill(target, now);
    const allowed = target.units >= this.#intervalMs;
    if (allowed) target.units -= this.#intervalMs;
    else this.#limitedTotal++;
    if (bucket !== undefined) this.#buckets.set(key, bucket);
    return allowed;
  }

  /** Milliseconds until `ip` may try again (0 when it may now): the Retry-After for a refusal. */
  retryAfterMs(ip: string): number {
    if (this.#whitelist.has(ip)) return 0;
    const key = bucketKey(ip, this.#perIp);
    const bucket = this.#buckets.get(key) ?? (this.#buckets.size >= this.#maxTracked ? this.#overflow : undefined);
    if (bucket === undefined) return 0;
    const units = this.#level(bucket, this.#now());
    if (units >= this.#intervalMs) return 0;
    return Math.ceil((this.#intervalMs - units) / this.#burst);
  }

  snapshot(): RateLimiterSnapshot {
    return {
      rate_interval_ms: this.#intervalMs,
      rate_burst: this.#burst,
      per_ip: this.#perIp,
      whitelist: this.#whitelist.size,
      tracked: this.#buckets.size,
      limited_total: this.#limitedTotal,
    };
  }

  #level(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.updated);
    return Math.min(this.#capacity, bucket.units + elapsed * this.#burst);
  }

  #refill(bucket: Bucket, now: number): void {
    bucket.units = this.#level(bucket, now);
    bucket.updated = Math.max(bucket.updated, now);
  }

  /**
   * Drop every full bucket. Run at most once per interval; any bucket untouched for a whole
   * interval is full, so the map holds only addresses seen in about the last two intervals and
   * the walk costs O(1) amortized per take.
   */
  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [key, bucket] of this.#buckets) {
      if (this.#level(bucket, now) >= this.#capacity) this.#buckets.delete(key);
    }
  }

  /**
   * Map full: drop full buckets from the stale end only, stopping at the first one still
   * refilling. Each step deletes or stops, so a flood of new addresses cannot make every call
   * walk the whole map.
   */
  #evictStale(now: number): void {
    for (const [key, bucket] of this.#buckets) {
      if (this.#level(bucket, now) < this.#capacity) return;
      this.#buckets.delete(key);
    }
  }
}

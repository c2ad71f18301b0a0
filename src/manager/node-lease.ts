/**
 * The lease of this node's incarnation in Redis, and what keeps its grants there true.
 *
 * Every third of the TTL the heartbeat renews the lease (Redis time: expiry = now + TTL) and
 * reaps the grants of incarnations whose lease has expired (a node killed with -9 gives its slots
 * back within TTL plus one heartbeat), one bounded batch per call and a bounded number of calls
 * per heartbeat.
 *
 * Fencing: the node believes its lease for 5/6 of the TTL from the moment the last successful
 * renewal was *sent* (this process's monotonic clock). Redis counts the TTL from when it ran the
 * renewal, later than that, so the node stops admitting before Redis would expire it and another
 * node reap it; two heartbeats may fail before it does. A renewal that finds no lease to renew
 * (Redis restarted empty or failed over, or it expired) re-registers at once.
 *
 * Sync: register, re-register, and resync after any command whose outcome is unknown (a grant or
 * release that failed) are one script: the incarnation's grants become exactly the book's, under
 * a new epoch, so a grant sent before it and run after it (a frozen Redis that wakes up) is refused
 * as stale instead of counted.
 */
import type { Logger } from '../log.js';
import { incarnationNode } from '../redis/keys.js';
import { parseHeartbeat, parseReap, parseSync } from '../redis/replies.js';
import type { RedisStore } from '../redis/store.js';

/** Most expired incarnations a heartbeat names, batch size and calls of one heartbeat's reaping. */
const REAP_NAMES = 8;
const REAP_BATCH = 128;
const REAP_CALLS = 16;

/** What the lease asks of the admission that owns the book. */
export interface LeaseHolder {
  /** The sync script's arguments after incarnation, epoch and TTL (../redis/scripts.ts). */
  syncArgs(): string[];
  /** Grants held (answered ok). */
  held(): number;
  /** No grant or release in flight: Redis's count of the incarnation's grants must be `held()`. */
  quiet(): boolean;
}

export interface LeaseStats {
  /** The lease is believed valid: new sessions may be admitted. */
  readonly valid: boolean;
  readonly renewals: { readonly ok: number; readonly failed: number };
  readonly reaped: number;
}

export class NodeLease {
  readonly incarnation: string;
  readonly #store: RedisStore;
  readonly #holder: LeaseHolder;
  readonly #ttlMs: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  /** performance.now() until which the lease is believed; 0: never registered. */
  #validUntil = 0;
  #epoch = 0;
  /** The next heartbeat resyncs (a command's outcome is unknown, or Redis lost the incarnation). */
  #dirty = true;
  #running: Promise<void> | undefined;
  #again = false;
  #disposed = false;
  #ok = 0;
  #failed = 0;
  #reaped = 0;

  constructor(store: RedisStore, holder: LeaseHolder, opts: { incarnation: string; ttlMs: number; logger: Logger }) {
    this.#store = store;
    this.#holder = holder;
    this.incarnation = opts.incarnation;
    this.#ttlMs = opts.ttlMs;
    this.#log = opts.logger;
  }

  /**
   * Register as soon as the connection is ready, then renew every third of the TTL; beat at once
   * on every reconnect too, so a Redis that restarted empty learns this node's grants without
   * waiting for the next tick.
   */
  start(): void {
    if (this.#timer !== undefined || this.#disposed) return;
    this.#timer = setInterval(() => this.kick(), Math.max(1, Math.floor(this.#ttlMs / 3)));
    this.#timer.unref();
    this.#store.onReady(() => this.kick());
  }

  /** Whether this node may admit: its lease is believed valid. */
  valid(): boolean {
    return performance.now() < this.#validUntil;
  }

  /** The epoch grants are sent under. */
  get epoch(): string {
    return String(this.#epoch);
  }

  /** The incarnation's grants in Redis may differ from the book: resync now. */
  resync(): void {
    this.#dirty = true;
    this.kick();
  }

  /** Run a heartbeat now (or right after the one under way). */
  kick(): void {
    if (this.#disposed) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#beat().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.kick();
      }
    });
  }

  stats(): LeaseStats {
    return { valid: this.valid(), renewals: { ok: this.#ok, failed: this.#failed }, reaped: this.#reaped };
  }

  async #beat(): Promise<void> {
    const sent = performance.now();
    try {
      if (this.#dirty) {
        await this.#sync();
      } else {
        const quiet = this.#holder.quiet();
        const held = this.#holder.held();
        const epoch = this.epoch;
        const reply = parseHeartbeat(await this.#store.script('uwsbHeartbeat', this.incarnation, this.incarnation, this.#ttlMs, REAP_NAMES));
        if (reply.kind !== 'renewed') {
          this.#log.warn({ event: 'cluster_reregister', incarnation: this.incarnation, reason: reply.kind }, 'lease not found in Redis: registering this node\'s grants again');
          await this.#sync();
        } else {
          this.#renewed(sent);
          // Nothing in flight before or after: Redis must hold exactly the book (a failover may have lost some).
          if (quiet && this.#holder.quiet() && (reply.grants !== held || reply.epoch !== epoch) && epoch === this.epoch) {
            this.#log.warn({ event: 'cluster_resync', incarnation: this.incarnation, redis_grants: reply.grants, held }, 'grants in Redis differ from the node\'s: resyncing');
            await this.#sync();
          }
          await this.#reap(reply.expired.filter((i) => i !== this.incarnation));
        }
      }
      this.#ok++;
    } catch (err) {
      this.#failed++;
      this.#log.debug({ event: 'cluster_heartbeat_failed', err: err instanceof Error ? err.message : String(err) }, 'lease renewal failed');
    }
  }

  async #sync(): Promise<void> {
    const sent = performance.now();
    this.#dirty = false;
    // Grants sent from now on run after this sync in Redis (one connection, in order): they carry its epoch.
    this.#epoch++;
    try {
      parseSync(await this.#store.script('uwsbSync', this.incarnation, this.incarnation, this.epoch, this.#ttlMs, ...this.#holder.syncArgs()));
    } catch (err) {
      this.#dirty = true;
      throw err;
    }
    this.#renewed(sent);
  }

  #renewed(sentAt: number): void {
    this.#validUntil = Math.max(this.#validUntil, sentAt + (this.#ttlMs * 5) / 6);
  }

  async #reap(expired: readonly string[]): Promise<void> {
    let calls = 0;
    for (const dead of expired) {
      let released = 0;
      let done = false;
      while (!done && calls < REAP_CALLS) {
        calls++;
        const r = parseReap(await this.#store.script('uwsbReap', dead, dead, REAP_BATCH));
        released += r.released;
        done = r.done;
      }
      this.#reaped += released;
      if (released > 0) this.#log.warn({ event: 'cluster_reaped', incarnation: dead, node: incarnationNode(dead), slots: released, done }, 'gave back the slots of a node whose lease expired');
    }
  }

  /** Stop renewing; wait for a heartbeat under way. Idempotent. The admission unregisters afterwards. */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#validUntil = 0;
    clearInterval(this.#timer);
    await this.#running;
  }
}

/**
 * The owner registry in Redis (./owners.ts, keys and scripts in ../redis/owner-keys.ts and
 * owner-scripts.ts): this node's relay entry and its live resume tokens, and the lookups of
 * other nodes' sessions.
 *
 * The node keeps every token it published in memory (a SHA-256 and the owner: about 100 bytes a
 * session), so Redis can always be made true again: the heartbeat (every third of the lease TTL,
 * and at once on every reconnect) renews the entry and the tokens' expiry, and when Redis has lost
 * the tokens (restarted empty, failed over) or a publish failed, sends them all again in bounded
 * batches. Nothing is published before the relay listener has announced its address: with no
 * relay, no other node could reach this one anyway. A lookup that fails answers `unavailable`
 * (the caller refuses with CLUSTER_UNAVAILABLE); it never waits past the command timeout.
 */
import type { Logger } from '../log.js';
import { decodeRelay, encodeRelay, relayKey, resumesKey } from '../redis/owner-keys.js';
import type { RedisStore } from '../redis/store.js';
import type { Authority } from '../util/requests.js';
import type { Caller } from './admission.js';
import type { Holder } from './ledger.js';
import type { Located, OwnerRequests } from './owners.js';

/** Tokens per publish when Redis must be told them all again. */
const BATCH = 256;

export interface RedisOwnersOptions {
  readonly node: string;
  readonly incarnation: string;
  readonly ttlMs: number;
  readonly logger: Logger;
}

export class RedisOwners {
  readonly authority: Authority<OwnerRequests, Caller>;
  readonly #store: RedisStore;
  readonly #opts: RedisOwnersOptions;
  /** Token hash -> its owner and the holder (worker) that published it. */
  readonly #tokens = new Map<string, { readonly owner: string; readonly holder: Holder }>();
  #address: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  /** Redis may miss some tokens: the next heartbeat sends them all. */
  #lost = false;
  #beating: Promise<void> | undefined;
  #closed = false;

  constructor(store: RedisStore, opts: RedisOwnersOptions) {
    this.#store = store;
    this.#opts = opts;
    this.authority = {
      announceRelay: (a) => this.#announce(a.address),
      publishToken: (a, caller) => this.#publish(a.hash, a.owner, caller.holder),
      retireToken: (a) => this.#retire([a.hash]),
      takeToken: (a) => this.#take(a.node, a.hash),
      locateNode: async (a) => {
        try {
          const rec = await this.#locate(a.node);
          return rec === null ? { ok: false, why: 'unknown' } : { ok: true, address: rec.address };
        } catch {
          return { ok: false, why: 'unavailable' };
        }
      },
    };
  }

  get #record(): string {
    return encodeRelay({ incarnation: this.#opts.incarnation, address: this.#address ?? '' });
  }

  get #key(): string {
    return resumesKey(this.#opts.incarnation);
  }

  #announce(address: string): void {
    if (this.#closed || this.#address !== null) return; // every worker of a node announces the same shared listener
    this.#address = address;
    this.#lost = true;
    this.#timer = setInterval(() => this.#kick(), Math.max(1, Math.floor(this.#opts.ttlMs / 3)));
    this.#timer.unref();
    this.#store.onReady(() => this.#kick());
    this.#opts.logger.info({ event: 'relay_announced', node: this.#opts.node, address }, 'relay listener registered: other nodes can reach this node\'s sessions');
    this.#kick();
  }

  #publish(hash: string, owner: string, holder: Holder): void {
    this.#tokens.set(hash, { owner, holder });
    if (this.#address === null || this.#closed) return;
    this.#store.shared('uwsbOwnerPublish', [this.#key], this.#opts.ttlMs, hash, owner).catch(() => {
      this.#lost = true;
    });
  }

  /** Retire tokens; a retire that fails leaves an entry that costs one relayed attempt, refused by the owner. */
  #retire(hashes: readonly string[]): void {
    for (const h of hashes) this.#tokens.delete(h);
    if (this.#address === null || this.#closed || hashes.length === 0) return;
    this.#store.shared('uwsbOwnerRetire', [this.#key], ...hashes).catch(() => undefined);
  }

  async #locate(node: string): Promise<ReturnType<typeof decodeRelay>> {
    return decodeRelay(await this.#store.shared('uwsbOwnerLocate', [relayKey(node)]));
  }

  async #take(node: string, hash: string): Promise<Located> {
    try {
      const rec = await this.#locate(node);
      if (rec === null) return { ok: false, why: 'unknown' };
      const owner = await this.#store.shared('uwsbOwnerTake', [resumesKey(rec.incarnation)], hash);
      return typeof owner === 'string' ? { ok: true, address: rec.address } : { ok: false, why: 'unknown' };
    } catch {
      return { ok: false, why: 'unavailable' };
    }
  }

  /** A worker died: its sessions (and tokens) died with it. */
  releaseHolder(holder: Holder): void {
    this.#retire([...this.#tokens].filter(([, t]) => t.holder === holder).map(([h]) => h));
  }

  #kick(): void {
    if (this.#closed || this.#beating !== undefined) return;
    this.#beating = this.#beat().catch(() => {
      this.#lost = true;
    }).finally(() => {
      this.#beating = undefined;
    });
  }

  async #beat(): Promise<void> {
    const there = await this.#store.shared('uwsbOwnerBeat', [relayKey(this.#opts.node), this.#key], this.#record, this.#opts.ttlMs);
    if (there === 1 && !this.#lost) return;
    if (there !== 1 && this.#tokens.size === 0) return;
    this.#lost = false;
    const all = [...this.#tokens].flatMap(([h, t]) => [h, t.owner]);
    for (let i = 0; i < all.length; i += 2 * BATCH) {
      await this.#store.shared('uwsbOwnerPublish', [this.#key], this.#opts.ttlMs, ...all.slice(i, i + 2 * BATCH));
    }
    if (all.length > 0) this.#opts.logger.info({ event: 'relay_tokens_republished', tokens: all.length / 2 }, 'resume tokens sent to Redis again');
  }

  /** Stop the heartbeat; drop the entry and the tokens (a clean stop). Before the store closes. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#beating;
    if (this.#address === null) return;
    await this.#store.shared('uwsbOwnerLeave', [relayKey(this.#opts.node), this.#key], this.#record).catch(() => undefined);
  }
}

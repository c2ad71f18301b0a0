/**
 * Cluster admission (`--cluster-redis`): the Admission authority of a gateway whose nodes share
 * one Redis. The same requests as the in-process ledger (./admission.ts), answered by one atomic
 * Lua script per grant (every limit checked and the slot taken together, for every node at once),
 * so the limits are exact across nodes as they are across workers.
 *
 * Each grant belongs to this process's incarnation (`NODE/RANDOM`, new at every start) and is
 * recorded with its holder (the worker that asked, as in the ledger), client IP and target. The
 * incarnation's lease (./node-lease.ts) keeps the grants alive; the book (./grant-book.ts) is
 * what the node knows it holds, to rebuild them in Redis when needed.
 *
 * Fails closed: with Redis unreachable, slow past the command timeout, or the lease not believed
 * valid, a grant is refused with CLUSTER_UNAVAILABLE (at once when the lease is not valid, else
 * within the command timeout); sessions already open are not touched. Releases never fail to
 * the caller: one that Redis did not confirm makes the next heartbeat resync.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { defaultNodeId } from '../config/cluster-kinds.js';
import type { Config } from '../config/types.js';
import { BridgeError } from '../errors.js';
import type { Logger } from '../log.js';
import { grantField, incarnationId, incarnationNode, recordable } from '../redis/keys.js';
import { countRecords, parseCounts, parseGrant, parseLeases } from '../redis/replies.js';
import { RedisStore, redisAddress, type CommandObserver } from '../redis/store.js';
import type { Authority } from '../util/requests.js';
import type { AdmissionRequests, Caller, ClusterSlots, NodeSlots } from './admission.js';
import { GrantBook } from './grant-book.js';
import type { Grant, GrantResult, Holder, SlotCounts } from './ledger.js';
import { NodeLease, type LeaseStats } from './node-lease.js';

export type ClusterAdmissionConfig = Pick<Config, 'clusterRedis' | 'nodeId' | 'clusterLeaseMs' | 'clusterRedisTimeoutMs' | 'connMaxTotal' | 'connMaxPerHost' | 'connMaxPerTarget'>;

/** What /stats and the metrics show of cluster admission. */
export interface ClusterAdmissionStats extends LeaseStats {
  readonly node: string;
  readonly incarnation: string;
  /** The last Redis command answered. */
  readonly redisUp: boolean;
  /** Requests answered from the node's own state because Redis did not answer, by what (the rate limit and ban: abuse). */
  readonly fallbacks: { readonly abuse: number };
}

const UNAVAILABLE: GrantResult = Object.freeze({ ok: false, code: 'CLUSTER_UNAVAILABLE' });

/** Most incarnations the per-node figures name (/stats, the per-node gauge): one HLEN each per read. */
export const MAX_LISTED_NODES = 64;

export class RedisAdmission {
  readonly authority: Authority<AdmissionRequests, Caller>;
  readonly node: string;
  readonly #config: ClusterAdmissionConfig;
  readonly #store: RedisStore;
  readonly #book = new GrantBook();
  readonly #lease: NodeLease;
  readonly #log: Logger;
  /** Releases sent and not yet answered: while any is, Redis's count may differ from the book. */
  #releasing = 0;
  #closing: Promise<void> | undefined;

  constructor(config: ClusterAdmissionConfig & { readonly clusterRedis: string }, logger: Logger, observe?: CommandObserver) {
    this.#config = config;
    this.#log = logger;
    this.node = config.nodeId ?? defaultNodeId(hostname());
    const incarnation = incarnationId(this.node, randomBytes(8).toString('hex'));
    this.#store = new RedisStore({ url: config.clusterRedis, timeoutMs: config.clusterRedisTimeoutMs, logger, observe });
    this.#lease = new NodeLease(this.#store, {
      syncArgs: () => this.#book.syncArgs(),
      held: () => this.#book.held,
      quiet: () => this.#book.pending === 0 && this.#releasing === 0,
    }, { incarnation, ttlMs: config.clusterLeaseMs, logger });
    this.authority = {
      grant: (a, caller) => this.#grant(caller.holder, a.grantId, a.clientIp, a.targetKey),
      release: (a, caller) => {
        const field = grantField(caller.holder, a.grantId);
        if (this.#book.drop(field) !== undefined) this.#release(field);
      },
      slots: (a, caller) => (a.scope === 'caller' ? this.#callerSlots(caller.holder) : this.#gatewaySlots()),
      nodes: () => this.#nodes(),
    };
    logger.info({ event: 'cluster_start', node: this.node, incarnation, redis: redisAddress(config.clusterRedis), lease_ms: config.clusterLeaseMs }, 'cluster admission in Redis');
    this.#lease.start();
  }

  async #grant(holder: Holder, grantId: string, clientIp: string, targetKey: string): Promise<GrantResult> {
    if (this.#closing !== undefined || !this.#lease.valid()) return UNAVAILABLE;
    if (!recordable(clientIp) || !recordable(targetKey)) return { ok: false, code: 'INTERNAL' };
    const field = this.#book.ask(holder, grantId, clientIp, targetKey);
    if (field === null) return { ok: false, code: 'INTERNAL' };
    const c = this.#config;
    let reply;
    try {
      reply = parseGrant(await this.#store.script('uwsbGrant', this.#lease.incarnation,
        this.#lease.incarnation, this.#lease.epoch, field, holder, clientIp, targetKey, c.connMaxTotal, c.connMaxPerHost, c.connMaxPerTarget));
    } catch {
      // Taken or not, nobody knows: forget it here, and let the resync make Redis agree.
      this.#book.drop(field);
      this.#lease.resync();
      return UNAVAILABLE;
    }
    if (reply === 'ok') {
      if (this.#book.granted(field)) return { ok: true };
      this.#release(field); // its holder was lost while Redis answered
      return UNAVAILABLE;
    }
    this.#book.drop(field);
    if (reply === 'unknown' || reply === 'expired' || reply === 'stale') {
      this.#lease.resync();
      return UNAVAILABLE;
    }
    if (reply === 'duplicate') {
      this.#lease.resync();
      return { ok: false, code: 'INTERNAL' };
    }
    return { ok: false, code: reply };
  }

  /** Give a grant back in Redis; when that fails the next heartbeat resyncs (the book no longer has it). */
  #release(field: string): void {
    this.#releasing++;
    this.#store.script('uwsbRelease', this.#lease.incarnation, field).then(
      () => { this.#releasing--; },
      () => {
        this.#releasing--;
        this.#lease.resync();
      },
    );
  }

  /** A holder (a worker) is gone: its grants are given back; returns them for the record. */
  releaseHolder(holder: Holder): Grant[] {
    return this.#book.dropHolder(holder).map(([field, grant]) => {
      this.#release(field);
      return grant;
    });
  }

  async #gatewaySlots(): Promise<SlotCounts> {
    try {
      return parseCounts(await this.#store.script('uwsbCounts', this.#lease.incarnation));
    } catch (err) {
      throw new BridgeError('CLUSTER_UNAVAILABLE', undefined, { cause: err });
    }
  }

  /**
   * The cluster's slots per incarnation: the leases (and the total) in one read-only script, then
   * HLEN of each named incarnation's grants, this node's own always among them. Two steps, so a
   * grant between them can make the sum differ from the total by what changed meanwhile.
   */
  async #nodes(): Promise<ClusterSlots> {
    const own = this.#lease.incarnation;
    try {
      const leases = parseLeases(await this.#store.script('uwsbLeases', own, MAX_LISTED_NODES));
      const named = leases.leases.map(([incarnation]) => incarnation);
      const counts = await this.#store.grantCounts(named.includes(own) ? named : [...named, own]);
      const nodes: NodeSlots[] = leases.leases.map(([incarnation, expiresAt], i) => ({
        node: incarnationNode(incarnation), incarnation, slots: counts[i] ?? 0, leaseExpiresInMs: expiresAt - leases.now,
      }));
      const key = (n: NodeSlots): string => `${n.node}\n${n.incarnation}`;
      nodes.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      const mine = named.indexOf(own);
      return {
        node: this.node, incarnation: own, own: counts[mine === -1 ? named.length : mine] ?? 0, total: leases.open,
        nodes, unlisted: Math.max(0, leases.held - named.length),
      };
    } catch (err) {
      throw new BridgeError('CLUSTER_UNAVAILABLE', undefined, { cause: err });
    }
  }

  /** The caller's own slots, from Redis; from the book while Redis does not answer. */
  async #callerSlots(holder: Holder): Promise<SlotCounts> {
    try {
      return countRecords(await this.#store.records(this.#lease.incarnation), holder);
    } catch {
      return this.#book.counts(holder);
    }
  }

  /** The node's Redis connection, shared by the rate limit, bans and tickets (./gatekeeper.ts); closed by close(). */
  get store(): RedisStore {
    return this.#store;
  }

  stats(): Omit<ClusterAdmissionStats, 'fallbacks'> {
    return { ...this.#lease.stats(), node: this.node, incarnation: this.#lease.incarnation, redisUp: this.#store.up };
  }

  /** Stop admitting and renewing, give back what is left in Redis (bounded by the command timeout), close. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.#lease.dispose();
      try {
        await this.#store.script('uwsbUnregister', this.#lease.incarnation, this.#lease.incarnation);
      } catch (err) {
        this.#log.warn({ event: 'cluster_unregister_failed', reason: err instanceof Error ? err.message : String(err) }, 'could not give this node\'s slots back in Redis; its lease will expire');
      }
      await this.#store.close(this.#config.clusterRedisTimeoutMs);
    })();
    return this.#closing;
  }
}

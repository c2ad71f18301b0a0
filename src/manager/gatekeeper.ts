/**
 * The admission authority in one process: the slot ledger, the abuse guard and the ticket store,
 * and the one Authority that answers every request of the gate from them. A single-process
 * gateway's ConnectionManager builds one and asks it directly; under `--workers` the cluster
 * primary owns the only one and answers the workers with the same Authority, naming each worker as
 * the holder of the slots it takes.
 *
 * With `--cluster-redis` the session slots are the cluster's (./redis-admission.ts: one Redis for
 * every node) instead of the ledger's, and so are the rate limit and bans (./redis-abuse.ts, which
 * falls back to this process's guard when Redis does not answer), the tickets
 * (./redis-tickets.ts, which fail closed) and the host keys accepted under tofu
 * (./redis-host-keys.ts, which fail closed too); all share the admission's Redis connection.
 */
import { TicketStore } from '../auth/tickets.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../log.js';
import type { CommandObserver } from '../redis/store.js';
import { local, type Authority } from '../util/requests.js';
import { AbuseGuard, abuseAuthority, type AbuseConfig } from './abuse.js';
import { admissionAuthority, type Caller } from './admission.js';
import type { Gate, GateRequests } from './gate.js';
import { localHostKeyAuthority } from './host-keys.js';
import { SlotLedger, type Grant, type Holder, type SlotCounts, type SlotLimits } from './ledger.js';
import { RedisAbuse } from './redis-abuse.js';
import { RedisAdmission, type ClusterAdmissionConfig, type ClusterAdmissionStats } from './redis-admission.js';
import { redisHostKeyAuthority } from './redis-host-keys.js';
import { redisTicketAuthority } from './redis-tickets.js';
import { localOwnerAuthority } from './owners.js';
import { RedisOwners } from './redis-owners.js';
import { ticketAuthority } from './tickets.js';

export type GatekeeperConfig = SlotLimits & AbuseConfig & Pick<Config, 'authTicketTtlMs'> & ClusterAdmissionConfig;

export class Gatekeeper {
  /** The slots when they are this process's (no `--cluster-redis`). */
  readonly ledger: SlotLedger;
  readonly abuse: AbuseGuard;
  readonly authority: Authority<GateRequests, Caller>;
  readonly #tickets: TicketStore;
  /** The slots when they are the cluster's, in Redis. */
  readonly #cluster: RedisAdmission | undefined;
  /** The rate limit and bans when they are the cluster's (falling back to `abuse`). */
  readonly #sharedAbuse: RedisAbuse | undefined;
  /** Where the other nodes' sessions live, when there are other nodes. */
  readonly #owners: RedisOwners | undefined;
  #disposed: Promise<void> | undefined;

  /** `observe` sees every Redis command's latency (with `--cluster-redis` only). */
  constructor(config: GatekeeperConfig, logger: Logger, observe?: CommandObserver) {
    this.ledger = new SlotLedger(config);
    this.abuse = new AbuseGuard(config, logger);
    this.#tickets = new TicketStore(config.authTicketTtlMs);
    const redis = config.clusterRedis;
    this.#cluster = redis === null ? undefined : new RedisAdmission({ ...config, clusterRedis: redis }, logger, observe);
    if (this.#cluster === undefined) {
      this.authority = { ...admissionAuthority(this.ledger), ...abuseAuthority(this.abuse), ...ticketAuthority(this.#tickets), ...localOwnerAuthority(), ...localHostKeyAuthority() };
      return;
    }
    const store = this.#cluster.store;
    this.#sharedAbuse = new RedisAbuse(store, this.abuse, config, logger);
    const { node, incarnation } = this.#cluster.stats();
    this.#owners = new RedisOwners(store, { node, incarnation, ttlMs: config.clusterLeaseMs, logger });
    this.authority = {
      ...this.#cluster.authority, ...this.#sharedAbuse.authority, ...redisTicketAuthority(store, config.authTicketTtlMs), ...redisHostKeyAuthority(store), ...this.#owners.authority,
    };
  }

  /** The gate of `holder` in this process: its requests are answered here at once. */
  gate(holder: Holder): Gate {
    const client = local(this.authority, { holder });
    return { admission: client, abuse: client, tickets: client, owners: client, hostKeys: client, dispose: () => this.dispose() };
  }

  /** The gateway's slots when this process counts them all (no Redis), read without waiting. */
  localSlots(): SlotCounts | undefined {
    return this.#cluster === undefined ? this.ledger.counts() : undefined;
  }

  /** A holder (a worker) died: give back every slot it held; returns them, for the record. */
  releaseHolder(holder: Holder): Grant[] {
    this.#owners?.releaseHolder(holder);
    return this.#cluster?.releaseHolder(holder) ?? this.ledger.releaseHolder(holder);
  }

  /** Cluster admission's state, when it is on. */
  clusterStats(): ClusterAdmissionStats | undefined {
    const stats = this.#cluster?.stats();
    return stats === undefined ? undefined : { ...stats, fallbacks: { abuse: this.#sharedAbuse?.fallbacks ?? 0 } };
  }

  /** Stops the ticket sweeper; with Redis, stops the lease and gives this node's slots back. Idempotent. */
  dispose(): Promise<void> {
    this.#disposed ??= (async () => {
      this.#tickets.dispose();
      await this.#owners?.close();
      await this.#cluster?.close();
    })();
    return this.#disposed;
  }
}

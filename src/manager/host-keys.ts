/**
 * Host keys as a concern of the gate: the cluster's keys (src/ssh/shared-host-keys.ts) asked of
 * the one process that holds the Redis connection, so the host key store of every process reaches
 * them the same way: in one process the Gatekeeper answers at once, under `--workers` the
 * primary's Gatekeeper answers over IPC. With `--cluster-redis` the answers come from Redis
 * (./redis-host-keys.ts); without it the ConnectionManager hands its store no cluster at all, and
 * the local authority below only completes the gate (it knows nothing and shares nothing).
 */
import type { SharedFound, SharedHostKey, SharedHostKeys, SharedOutcome, SharedServer } from '../ssh/shared-host-keys.js';
import type { Authority, Client } from '../util/requests.js';

export interface HostKeyRequests {
  /** The cluster's keys for a server's name and the address it is dialed at. */
  findHostKeys: { args: SharedServer; result: SharedFound };
  /** Store an accepted key unless the server has one already. */
  shareHostKey: { args: SharedHostKey; result: SharedOutcome };
}

export type HostKeys = Client<HostKeyRequests>;

/** One node without a cluster: nothing is known beyond its files, and there is no one to tell. */
export function localHostKeyAuthority(): Authority<HostKeyRequests, unknown> {
  return {
    findHostKeys: () => ({ ok: true, keys: [] }),
    shareHostKey: () => ({ ok: true, outcome: 'present' }),
  };
}

/** The gate's HostKeys as the host key store's SharedHostKeys. */
export function sharedHostKeys(client: HostKeys): SharedHostKeys {
  return {
    find: (server) => client.ask('findHostKeys', server),
    share: (key) => client.ask('shareHostKey', key),
  };
}

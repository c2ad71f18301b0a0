/**
 * The cluster's host keys as the host key store (./host-keys.ts) sees them: an injected,
 * asynchronous source of keys beside the known_hosts files, and the place an accepted key is told
 * to before it is trusted. With `--cluster-redis` the ConnectionManager hands the store one that
 * asks its gate (in this process, or the cluster primary under `--workers`), answered from Redis
 * (src/manager/redis-host-keys.ts); on one node there is none.
 *
 * Plain data both ways, never exceptions: the answers cross the workers' channel, and a refusal's
 * code must arrive intact. Public keys only, as base64 of the key blob.
 */
import { BridgeError } from '../errors.js';
import { sha256Fingerprint, type StoredKey } from './known-hosts.js';

/** A public host key of a server: `host` bare and in lower case. */
export interface SharedHostKey {
  readonly host: string;
  readonly port: number;
  readonly keyType: string;
  /** The key blob in base64. */
  readonly key: string;
}

/** A server to look up: its name, and the address it is dialed at (null: none, or the same). */
export interface SharedServer {
  readonly host: string;
  readonly port: number;
  readonly address: string | null;
}

/** The cluster's keys for a server's name and address (at most one each), or why there is no answer. */
export type SharedFound =
  | { readonly ok: true; readonly keys: readonly SharedHostKey[] }
  | { readonly ok: false; readonly code: 'CLUSTER_UNAVAILABLE' };

/** What telling the cluster about an accepted key came to. */
export type SharedOutcome =
  /** Stored now, or already there (another node stored the same key). */
  | { readonly ok: true; readonly outcome: 'stored' | 'present' }
  /** The cluster holds another key for this server (null: a record it cannot read). */
  | { readonly ok: false; readonly code: 'HOST_KEY_CHANGED'; readonly stored: SharedHostKey | null }
  /** Not kept: the cluster keeps keys for as many servers as it may, or this key is too large to keep. */
  | { readonly ok: false; readonly code: 'NOT_KEPT'; readonly why: 'full' | 'too large' }
  | { readonly ok: false; readonly code: 'CLUSTER_UNAVAILABLE' };

export interface SharedHostKeys {
  /** Resolves with the answer; rejects only when the answer cannot be had at all (a worker's channel gone). */
  find(server: SharedServer): Promise<SharedFound>;
  share(key: SharedHostKey): Promise<SharedOutcome>;
}

/** The cluster could not be asked: refuse rather than decide without it. */
export function clusterUnavailable(what: string, cause?: unknown): BridgeError {
  return new BridgeError('CLUSTER_UNAVAILABLE', `host keys: ${what}`, cause === undefined ? undefined : { cause });
}

/** A stored key as HOST_KEY_CHANGED reports it (`source` "redis"); an unreadable record says so. */
export function storedInCluster(key: SharedHostKey | null): StoredKey {
  if (key === null) return { keyType: 'unknown', fingerprint: 'an unreadable record', source: 'redis', line: 0 };
  return { keyType: key.keyType, fingerprint: sha256Fingerprint(Buffer.from(key.key, 'base64')), source: 'redis', line: 0 };
}

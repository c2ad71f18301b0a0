/**
 * Host keys in Redis (`--cluster-redis`): the keys users accepted under tofu (and those
 * `compat-accept-new-host-keys` accepted) on any node, so every node knows them and refuses a
 * changed key. One hash, `{uwsb}:hostkeys` (../redis/shared-keys.ts): the field names the server
 * (`[host]:port`), the value is the key as `keytype base64` (../redis/host-key-record.ts), public
 * keys only. At most one key per server: a node stores a key only when nothing at all is known of
 * the server (a key of another type would make the presented one HOST_KEY_CHANGED, as in a file),
 * and the store is one atomic script (store unless present), so of two nodes storing different
 * keys for one server exactly one wins and the other is told which key won.
 *
 * Bounded by its count, not by time: a trust record must not expire (a key forgotten would be
 * asked about again, and a changed key accepted). Every field is a server a user reached through
 * the target policy, completed a key exchange with and accepted, so a gateway's fleet bounds it;
 * MAX_SHARED_HOST_KEYS caps what a user who may reach arbitrarily many names (a wildcard DNS
 * record, an open target policy) could make it hold: past it a new key is refused (the session
 * HOST_KEY_REJECTED), never evicted.
 *
 * Fails closed: a lookup or a store that Redis does not answer (down, or slower than
 * `--cluster-redis-timeout`) answers CLUSTER_UNAVAILABLE, and the host key store refuses the
 * session rather than decide on the node's word (src/ssh/host-keys.ts).
 */
import { decodeHostKey, encodeHostKey } from '../redis/host-key-record.js';
import { HOST_KEYS_KEY, hostKeyField } from '../redis/shared-keys.js';
import { parseFound, parseShare } from '../redis/shared-replies.js';
import type { RedisStore } from '../redis/store.js';
import type { SharedHostKey } from '../ssh/shared-host-keys.js';
import type { Authority } from '../util/requests.js';
import type { HostKeyRequests } from './host-keys.js';

/** The most servers the cluster keeps a host key for (about 15 MB of ed25519 keys in Redis). */
export const MAX_SHARED_HOST_KEYS = 100_000;

const UNAVAILABLE = Object.freeze({ ok: false, code: 'CLUSTER_UNAVAILABLE' } as const);

/** The key a record holds for `host:port`, or null when the record cannot be read. */
function keyOf(host: string, port: number, record: string): SharedHostKey | null {
  const r = decodeHostKey(record);
  return r === null ? null : { host, port, keyType: r.keyType, key: r.key };
}

export function redisHostKeyAuthority(store: RedisStore, max = MAX_SHARED_HOST_KEYS): Authority<HostKeyRequests, unknown> {
  return {
    findHostKeys: async (a) => {
      const servers = a.address === null || a.address === a.host ? [a.host] : [a.host, a.address];
      let records: (string | null)[];
      try {
        records = parseFound(await store.shared('uwsbHostKeyFind', [HOST_KEYS_KEY], ...servers.map((h) => hostKeyField(h, a.port))), servers.length);
      } catch {
        return UNAVAILABLE;
      }
      const keys: SharedHostKey[] = [];
      records.forEach((record, i) => {
        const host = servers[i];
        const key = record === null || host === undefined ? null : keyOf(host, a.port, record);
        if (key !== null) keys.push(key);
      });
      return { ok: true, keys };
    },
    shareHostKey: async (k) => {
      let record: string;
      try {
        record = encodeHostKey(k);
      } catch {
        return { ok: false, code: 'NOT_KEPT', why: 'too large' };
      }
      let reply;
      try {
        reply = parseShare(await store.shared('uwsbHostKeyShare', [HOST_KEYS_KEY], hostKeyField(k.host, k.port), record, max));
      } catch {
        return UNAVAILABLE;
      }
      switch (reply.kind) {
        case 'stored':
        case 'present':
          return { ok: true, outcome: reply.kind };
        case 'full':
          return { ok: false, code: 'NOT_KEPT', why: 'full' };
        case 'changed':
          return { ok: false, code: 'HOST_KEY_CHANGED', stored: keyOf(k.host, k.port, reply.record) };
      }
    },
  };
}

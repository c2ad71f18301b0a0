/**
 * The keyring: the secrets that sign what one process issues and another checks. Each purpose has
 * its own key, so a signature made for one never verifies for another:
 * - `share`: share links (src/share/share-token.ts) and, derived from it, file tokens;
 * - `relay`: the facts (client IP, identity) a node signs when it relays a request to the node
 *   that holds the session (docs/scaling.md).
 *
 * Every key has an id. New signatures use the purpose's current key; a check finds the key by the
 * id the signed text names, so keys can be rotated: add the new one, let what the old one signed
 * expire, remove it.
 *
 * A gateway of one node needs no shared secret: `randomKeyring` makes fresh keys per process
 * start (a restart ends every session, and with them every link). The nodes of a cluster load one
 * keyring file (`--cluster-secret-file`).
 */
import { randomBytes } from 'node:crypto';

export type KeyPurpose = 'share' | 'relay';

export interface KeyringKey {
  /** Names the key in what it signs: 1-32 characters of A-Z a-z 0-9 _ -. */
  readonly id: string;
  readonly key: Buffer;
}

export interface Keyring {
  /** The key new signatures of `purpose` use. */
  current(purpose: KeyPurpose): KeyringKey;
  /** The key of `purpose` with id `id`, to check a signature; undefined when there is none (removed, or never known). */
  byId(purpose: KeyPurpose, id: string): Buffer | undefined;
}

/** A keyring of random keys, one per purpose, made now and never written anywhere. */
export function randomKeyring(): Keyring {
  const keys: Record<KeyPurpose, KeyringKey> = {
    share: { id: 'p', key: randomBytes(32) },
    relay: { id: 'p', key: randomBytes(32) },
  };
  return {
    current: (purpose) => keys[purpose],
    byId: (purpose, id) => (keys[purpose].id === id ? keys[purpose].key : undefined),
  };
}

/**
 * A shared host key's record in Redis (`{uwsb}:hostkeys`, ./shared-keys.ts): `keytype base64`,
 * a known_hosts line without its host field (the hash field names the server), so an operator
 * reads it as one. Pure. A public key only: nothing in it is a secret. Whether the blob really is
 * a key of that type is checked where it is used (../ssh/known-hosts.ts reads it as a line).
 */

/** The longest record kept: an RSA key of 16384 bits is about 2.8 KB in base64. */
export const MAX_HOST_KEY_RECORD = 8192;

export interface HostKeyRecord {
  /** `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`, ... */
  readonly keyType: string;
  /** The key blob in base64, as known_hosts writes it. */
  readonly key: string;
}

const KEY_TYPE = /^[\x21-\x7e]{1,64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The record's text. @throws {Error} for a type or key that would change the record's meaning, or a record too long to keep. */
export function encodeHostKey(r: HostKeyRecord): string {
  if (!KEY_TYPE.test(r.keyType)) throw new Error('invalid key type');
  if (!BASE64.test(r.key) || r.key.length % 4 !== 0) throw new Error('key is not base64');
  const text = `${r.keyType} ${r.key}`;
  if (text.length > MAX_HOST_KEY_RECORD) throw new Error(`host key record longer than ${MAX_HOST_KEY_RECORD} bytes`);
  return text;
}

/** The record in `text`, or null when it is not one (a wrong shape, or too long). */
export function decodeHostKey(text: string): HostKeyRecord | null {
  if (text.length > MAX_HOST_KEY_RECORD) return null;
  const parts = text.split(' ');
  if (parts.length !== 2) return null;
  const [keyType = '', key = ''] = parts;
  if (!KEY_TYPE.test(keyType) || !BASE64.test(key) || key.length % 4 !== 0) return null;
  return { keyType, key };
}

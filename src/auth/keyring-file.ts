/**
 * The keyring file (`--cluster-secret-file`, docs/scaling.md#keyring): the text format, the keys
 * each secret gives, and the permission rule. Pure: no file is read here (./cluster-secret.ts
 * reads it, at start and on SIGHUP).
 *
 * Format: one key per line, `ID SECRET`, separated by spaces or tabs; blank lines and lines
 * starting with `#` are skipped, whitespace around a line is ignored.
 * - ID: 1-32 characters of A-Z a-z 0-9 _ -, unique in the file; it is written into what the key
 *   signs, so a verifier can pick the key.
 * - SECRET: at least 32 random bytes (at most 1024) in base64 (`openssl rand -base64 32`) or
 *   base64url (`webssh-bridge new-secret`), padding optional; each secret at most once.
 * - The first key line is the current key: new signatures use it. Every listed key verifies.
 *
 * Each purpose of the keyring (./keyring.ts) gets its own key from each secret, by HKDF-SHA256
 * (salt `webssh-bridge keyring v1`, info the purpose's name), so one secret serves every purpose
 * and a signature made for one purpose never verifies for another.
 *
 * A bad line is named by its number, never shown (it may hold a secret); an error never holds a
 * secret or a rejected id.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import type { KeyPurpose, Keyring, KeyringKey } from './keyring.js';

/** A keyring file the bridge cannot use: a configuration error (exit 2 at start; on reload the keyring in force stays). */
export class KeyringFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringFileError';
  }
}

/** What a key id may hold (it is written into tokens). */
export const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
/** The shortest secret, in bytes: 256 bits. */
export const MIN_SECRET_BYTES = 32;
/** The longest secret, in bytes (longer adds nothing to HKDF's strength). */
export const MAX_SECRET_BYTES = 1024;

const PURPOSES: readonly KeyPurpose[] = ['share', 'relay'];
const SALT = 'webssh-bridge keyring v1';
/** base64 or base64url, padding optional (checked for one alphabet below). */
const SECRET = /^[A-Za-z0-9+/_-]+={0,2}$/;
const FORMAT = '"ID SECRET" (ID: 1-32 characters of A-Z a-z 0-9 _ -; SECRET: base64 or base64url of at least 32 random bytes)';

/** One line of the file: its id and its secret. */
export interface KeyringSecret {
  readonly id: string;
  readonly secret: Buffer;
}

/** The key a secret gives for one purpose: HKDF-SHA256(secret, salt, info = purpose), 32 bytes. */
export function deriveKey(secret: Buffer, purpose: KeyPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, SALT, purpose, 32));
}

/** The bytes of a SECRET field, or why it is refused (never the field itself). */
function decodeSecret(text: string): Buffer | string {
  if (!SECRET.test(text)) return 'the secret is not base64 or base64url';
  if (/[+/]/.test(text) && /[-_]/.test(text)) return 'the secret mixes the base64 and base64url alphabets';
  const body = text.replace(/=+$/, '');
  if (body.length % 4 === 1 || (text.length > body.length && text.length % 4 !== 0)) return 'the secret is not base64 or base64url (bad length or padding)';
  const bytes = Buffer.from(body.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length < MIN_SECRET_BYTES) return `the secret is ${bytes.length} bytes; at least ${MIN_SECRET_BYTES} random bytes are needed`;
  if (bytes.length > MAX_SECRET_BYTES) return `the secret is longer than ${MAX_SECRET_BYTES} bytes`;
  return bytes;
}

/**
 * The keys of a keyring file, the current one first. Throws KeyringFileError naming `source` and
 * the first bad line: a line not of the form, a bad id or secret, an id or a secret listed twice,
 * or no key at all.
 */
export function parseKeyringFile(text: string, source = 'cluster-secret-file'): KeyringSecret[] {
  const out: KeyringSecret[] = [];
  const lineOfId = new Map<string, number>();
  const lineOfSecret = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const at = `${source} line ${i + 1}`;
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/[ \t]+/);
    const [id, secretText] = fields;
    if (fields.length !== 2 || id === undefined || secretText === undefined) throw new KeyringFileError(`${at}: expected ${FORMAT}`);
    if (!KEY_ID.test(id)) throw new KeyringFileError(`${at}: the key id is not 1-32 characters of A-Z a-z 0-9 _ - (is the line "ID SECRET"?)`);
    const secret = decodeSecret(secretText);
    if (typeof secret === 'string') throw new KeyringFileError(`${at}: ${secret}`);
    const sameId = lineOfId.get(id);
    if (sameId !== undefined) throw new KeyringFileError(`${at}: key id "${id}" is already on line ${sameId}`);
    const hex = secret.toString('hex');
    const sameSecret = lineOfSecret.get(hex);
    if (sameSecret !== undefined) throw new KeyringFileError(`${at}: the same secret as line ${sameSecret} (each key needs its own)`);
    lineOfId.set(id, i + 1);
    lineOfSecret.set(hex, i + 1);
    out.push({ id, secret });
  });
  if (out.length === 0) throw new KeyringFileError(`${source}: no key; expected at least one line ${FORMAT}`);
  return out;
}

/** The keyring of a file's keys: the first is current for every purpose, each verifies. */
export function keyringOf(secrets: readonly KeyringSecret[]): Keyring {
  const first = secrets[0];
  if (first === undefined) throw new KeyringFileError('a keyring needs at least one key');
  const byPurpose = new Map<KeyPurpose, Map<string, Buffer>>(
    PURPOSES.map((p) => [p, new Map(secrets.map((s) => [s.id, deriveKey(s.secret, p)]))]),
  );
  const current = new Map<KeyPurpose, KeyringKey>(
    PURPOSES.map((p) => [p, Object.freeze({ id: first.id, key: byPurpose.get(p)?.get(first.id) ?? deriveKey(first.secret, p) })]),
  );
  return {
    current: (purpose) => {
      const key = current.get(purpose);
      if (key === undefined) throw new Error(`no key for purpose ${String(purpose)}`);
      return key;
    },
    byId: (purpose, id) => byPurpose.get(purpose)?.get(id),
  };
}

/**
 * Why the file's permissions are refused, or null. The rule is OpenSSH's for private keys: a
 * file owned by the user the bridge runs as must not be readable or writable by its group or
 * others (mode & 077); a file owned by another user (root, with a group the bridge is in) is
 * the operator's choice. `uid` undefined: a platform without uids (Windows), no rule.
 */
export function permissionProblem(stat: { readonly mode: number; readonly uid: number }, uid: number | undefined): string | null {
  if (uid === undefined || stat.uid !== uid || (stat.mode & 0o077) === 0) return null;
  const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
  return `permissions ${mode} are too open: the file holds secrets and is owned by this user, so it must not be accessible by its group or others (chmod 600)`;
}

/** A new key line, `ID SECRET`: 32 random bytes in base64url. */
export function newSecretLine(id: string): string {
  if (!KEY_ID.test(id)) throw new KeyringFileError('a key id is 1-32 characters of A-Z a-z 0-9 _ -');
  return `${id} ${randomBytes(MIN_SECRET_BYTES).toString('base64url')}`;
}

/** A key id for a key made now, when the operator names none: the UTC date and 4 random hex digits (`20260614-9f3a`). */
export function defaultKeyId(now: Date = new Date()): string {
  return `${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(2).toString('hex')}`;
}

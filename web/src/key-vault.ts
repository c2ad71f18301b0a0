/**
 * A private key kept in this browser only when its user asks, sealed under a passphrase of its
 * own (the storage passphrase): PBKDF2-SHA256 (600,000 iterations, a random 16-byte salt) derives
 * an AES-256-GCM key, which encrypts the key text with a random 12-byte IV. Only the sealed form
 * is ever stored (saved-logins.ts); the passphrase and the derived key are never kept.
 *
 * WebCrypto (`crypto.subtle`) exists only in secure contexts (https, localhost, 127.0.0.1): where
 * it is missing `vaultAvailable()` is false and the page stores no key at all. Node 20 has the same
 * API, so this module is unit-tested there.
 */

export const KDF_ITERATIONS = 600_000;
/** A stored record asking for more is refused: opening it must not hang the page. */
export const MAX_ITERATIONS = 5_000_000;
export const MIN_STORAGE_PASSPHRASE = 8;
/** The form's own key limit is 16 KiB; its sealed, base64 form with the GCM tag stays under this. */
const MAX_SEALED_CHARS = 24 * 1024;
const SALT_BYTES = 16;
const IV_BYTES = 12;
/** Bound into the ciphertext: a record made for something else does not open as a key. */
const CONTEXT = new TextEncoder().encode('webssh-bridge private key v1');

/** The stored form of a sealed key (base64 fields). */
export interface SealedKey {
  readonly v: 1;
  readonly iterations: number;
  readonly salt: string;
  readonly iv: string;
  readonly data: string;
}

/** WebCrypto is there (a secure context): keys can be sealed and opened. */
export function vaultAvailable(): boolean {
  const g = globalThis as { isSecureContext?: boolean; crypto?: Crypto };
  return g.isSecureContext !== false && typeof g.crypto?.subtle?.deriveKey === 'function';
}

function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Bytes of a base64 text, or null when it is not base64. */
function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  try {
    const s = atob(text);
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

/** A stored value as a SealedKey, or null when it is not one (wrong shape, sizes or iteration count). */
export function parseSealedKey(value: unknown): SealedKey | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const { v, iterations, salt, iv, data } = r;
  if (v !== 1 || typeof iterations !== 'number' || !Number.isInteger(iterations)) return null;
  if (iterations < KDF_ITERATIONS || iterations > MAX_ITERATIONS) return null;
  if (typeof salt !== 'string' || typeof iv !== 'string' || typeof data !== 'string') return null;
  if (data.length > MAX_SEALED_CHARS) return null;
  if (fromBase64(salt)?.length !== SALT_BYTES || fromBase64(iv)?.length !== IV_BYTES) return null;
  const body = fromBase64(data);
  if (body === null || body.length <= 16) return null; // at least the 16-byte GCM tag and one byte
  return { v: 1, iterations, salt, iv, data };
}

async function deriveKey(passphrase: string, salt: Uint8Array<ArrayBuffer>, iterations: number, usage: KeyUsage): Promise<CryptoKey> {
  const subtle = globalThis.crypto.subtle;
  const base = await subtle.importKey('raw', new TextEncoder().encode(passphrase.normalize('NFC')), 'PBKDF2', false, ['deriveKey']);
  return subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base, { name: 'AES-GCM', length: 256 }, false, [usage]);
}

/** Seal `keyText` under `passphrase` (fresh salt and IV each time). Needs vaultAvailable(). */
export async function sealKey(keyText: string, passphrase: string): Promise<SealedKey> {
  const salt = globalThis.crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const iv = globalThis.crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const key = await deriveKey(passphrase, salt, KDF_ITERATIONS, 'encrypt');
  const data = await globalThis.crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: CONTEXT }, key, new TextEncoder().encode(keyText));
  return { v: 1, iterations: KDF_ITERATIONS, salt: toBase64(salt), iv: toBase64(iv), data: toBase64(new Uint8Array(data)) };
}

/**
 * The key text, or null when `passphrase` does not open `sealed` (a wrong passphrase, or a record
 * that was changed: GCM tells the two apart from nothing). Never throws for either.
 */
export async function openKey(sealed: SealedKey, passphrase: string): Promise<string | null> {
  const checked = parseSealedKey(sealed);
  const salt = fromBase64(sealed.salt);
  const iv = fromBase64(sealed.iv);
  const data = fromBase64(sealed.data);
  if (checked === null || salt === null || iv === null || data === null) return null;
  try {
    const key = await deriveKey(passphrase, salt, checked.iterations, 'decrypt');
    const plain = await globalThis.crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: CONTEXT }, key, data);
    return new TextDecoder('utf-8', { fatal: true }).decode(plain);
  } catch {
    return null;
  }
}

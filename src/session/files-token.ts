/**
 * File tokens (docs/protocol.md#files): `OWNER.PAYLOAD.SIG`, like a share link. OWNER is the
 * process that holds the session (src/grammar/owner-id.ts), so a request can be routed before
 * anything else is judged; PAYLOAD is base64url JSON `{v:1, kid, k, s, e, n?, p?}`; SIG is an
 * HMAC-SHA256 of `OWNER.PAYLOAD` with a key derived, for this use only, from the keyring's `share`
 * key named by `kid` (src/auth/keyring.ts; a share link never verifies as a file token, nor the
 * reverse). Made with the current key; checked with the key the payload names, so a token
 * verifies as long as its key is in the keyring, and a removed or unknown key is refused.
 *
 * Two kinds (`k`):
 * - `files`: the session's file token, asked for over its own v1 socket; every api/files request
 *   carries it. Lives `files-token-ttl` (5 min by default).
 * - `download`: a download URL, minted by an authenticated api/files/download-link call for one
 *   path (`p`), with a nonce (`n`) the session burns on first use; lives at most 60 s.
 *
 * Pure functions of (keyring, clock): no lookup, no state.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../auth/keyring.js';
import { KEY_ID } from '../auth/keyring-file.js';
import { ownerPrefixed, splitOwner, type OwnerId } from '../grammar/owner-id.js';

export type FilesTokenKind = 'files' | 'download';

export interface FilesClaims {
  readonly owner: OwnerId;
  readonly kind: FilesTokenKind;
  readonly sessionId: string;
  readonly expiresAt: number;
  /** download only: the single-use nonce and the path it fetches. */
  readonly nonce?: string | undefined;
  readonly path?: string | undefined;
}

/** What follows the owner prefix: `PAYLOAD.SIG` (a payload holds at most a 4096-byte path). */
const SIGNED = /^([A-Za-z0-9_-]{1,8192})\.([A-Za-z0-9_-]{43})$/;

/** The file-token key of a `share` key of the keyring (never stored). */
export function filesKey(shareKey: Buffer): Buffer {
  return createHmac('sha256', shareKey).update('webssh-bridge files token v1').digest();
}

function sign(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** A token signed with the file-token key of the keyring's current `share` key, naming it. */
export function makeFilesToken(keyring: Pick<Keyring, 'current'>, c: FilesClaims): string {
  const { id, key } = keyring.current('share');
  const body = c.kind === 'files' ? { v: 1, kid: id, k: c.kind, s: c.sessionId, e: c.expiresAt } : { v: 1, kid: id, k: c.kind, s: c.sessionId, e: c.expiresAt, n: c.nonce, p: c.path };
  const head = ownerPrefixed(c.owner, Buffer.from(JSON.stringify(body)).toString('base64url'));
  return `${head}.${sign(filesKey(key), head)}`;
}

/** The owner of a well-formed token (before any signature check, for routing), or null. */
export function filesTokenOwner(token: string): OwnerId | null {
  const parts = splitOwner(token);
  return parts !== null && SIGNED.test(parts.rest) ? parts.owner : null;
}

/**
 * The claims of a token of `kind` a key of the keyring signed and that has not expired, or why it
 * is refused (`unknown key`: its key was removed from the keyring, or never in it).
 */
export function verifyFilesToken(keyring: Pick<Keyring, 'byId'>, token: string, kind: FilesTokenKind, now: number): FilesClaims | { error: string } {
  const parts = splitOwner(token);
  const m = parts === null ? null : SIGNED.exec(parts.rest);
  if (parts === null || m?.[1] === undefined || m[2] === undefined) return { error: 'malformed token' };
  const head = token.slice(0, token.length - m[2].length - 1);
  let p: unknown;
  try {
    p = JSON.parse(Buffer.from(m[1], 'base64url').toString('utf8'));
  } catch {
    return { error: 'malformed payload' };
  }
  const o = (typeof p === 'object' && p !== null ? p : {}) as { v?: unknown; kid?: unknown; k?: unknown; s?: unknown; e?: unknown; n?: unknown; p?: unknown };
  // The payload names the key (read before the signature is known to be good: it only picks the key).
  const shareKey = typeof o.kid === 'string' && KEY_ID.test(o.kid) ? keyring.byId('share', o.kid) : undefined;
  if (shareKey === undefined) return { error: typeof o.kid === 'string' ? 'unknown key' : 'malformed payload' };
  const expected = Buffer.from(sign(filesKey(shareKey), head));
  const given = Buffer.from(m[2]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { error: 'bad signature' };
  if (o.v !== 1 || typeof o.s !== 'string' || typeof o.e !== 'number') return { error: 'malformed payload' };
  if (o.k !== kind) return { error: `not a ${kind} token` };
  if (kind === 'download' && (typeof o.n !== 'string' || typeof o.p !== 'string')) return { error: 'malformed payload' };
  if (o.e <= now) return { error: 'expired' };
  return { owner: parts.owner, kind, sessionId: o.s, expiresAt: o.e, nonce: typeof o.n === 'string' ? o.n : undefined, path: typeof o.p === 'string' ? o.p : undefined };
}

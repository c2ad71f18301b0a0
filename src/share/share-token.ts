/**
 * Share links (docs/protocol.md#sharing): a view-only link to a live session is a signed token
 * `OWNER.PAYLOAD.SIG`. OWNER is the worker holding the session (an OwnerId, src/grammar/
 * owner-id.ts; 0 in a single process), so a viewer that reaches another worker is passed on
 * like a resume; PAYLOAD is base64url JSON
 * `{v:1, kid: key id, s: session id, l: link id, e: expiry (ms since the epoch), m: "view"}`;
 * SIG is an HMAC-SHA256 of `OWNER.PAYLOAD` with the keyring's `share` key named by `kid`
 * (src/auth/keyring.ts): the current key when the link is made. A check takes the key the
 * payload names (reading the payload, at most 512 characters, before the signature is known to
 * be good: it only names the key), so a link verifies as long as its key is in the keyring;
 * removed keys (and unknown ids) are refused. A gateway of one node has random keys per process
 * start; a cluster's nodes share one keyring file, so any node can check any node's links.
 *
 * The signature and expiry are checked before any lookup; the session then checks that the link
 * id is still live (revocation). Pure functions of (keyring, clock).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../auth/keyring.js';
import { KEY_ID } from '../auth/keyring-file.js';
import { ownerPrefixed, splitOwner, type OwnerId } from '../grammar/owner-id.js';

export interface ShareClaims {
  readonly owner: OwnerId;
  readonly sessionId: string;
  readonly linkId: string;
  readonly expiresAt: number;
  readonly mode: 'view';
}

/** What follows the owner prefix: `PAYLOAD.SIG`. */
const SIGNED = /^([A-Za-z0-9_-]{1,512})\.([A-Za-z0-9_-]{43})$/;

function sign(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** A link signed with the keyring's current `share` key, naming it. */
export function makeShareToken(keyring: Pick<Keyring, 'current'>, claims: ShareClaims): string {
  const { id, key } = keyring.current('share');
  const payload = Buffer.from(JSON.stringify({ v: 1, kid: id, s: claims.sessionId, l: claims.linkId, e: claims.expiresAt, m: claims.mode })).toString('base64url');
  const head = ownerPrefixed(claims.owner, payload);
  return `${head}.${sign(key, head)}`;
}

/** A well-formed token's owner, payload, signature and the text signed (as written), or null. */
function parse(token: string): { owner: OwnerId; payload: string; sig: string; head: string } | null {
  const parts = splitOwner(token);
  const m = parts === null ? null : SIGNED.exec(parts.rest);
  if (parts === null || m?.[1] === undefined || m[2] === undefined) return null;
  return { owner: parts.owner, payload: m[1], sig: m[2], head: token.slice(0, token.length - m[2].length - 1) };
}

/** A payload's JSON object, or null when it is not one. */
function readPayload(payload: string): { readonly [k: string]: unknown } | null {
  try {
    const p: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as { readonly [k: string]: unknown }) : null;
  } catch {
    return null;
  }
}

/** The owner of a well-formed token (before any signature check, for routing), or null. */
export function shareTokenOwner(token: string): OwnerId | null {
  return parse(token)?.owner ?? null;
}

/**
 * The claims of a token a key of the keyring signed and that has not expired, or why it is
 * refused: `malformed token`, `malformed payload`, `unknown key` (its key was removed, or never
 * known), `bad signature`, `expired`.
 */
export function verifyShareToken(keyring: Pick<Keyring, 'byId'>, token: string, now: number): ShareClaims | { error: string } {
  const t = parse(token);
  if (t === null) return { error: 'malformed token' };
  const p = readPayload(t.payload);
  if (p === null) return { error: 'malformed payload' };
  const key = typeof p.kid === 'string' && KEY_ID.test(p.kid) ? keyring.byId('share', p.kid) : undefined;
  if (key === undefined) return { error: typeof p.kid === 'string' ? 'unknown key' : 'malformed payload' };
  const expected = Buffer.from(sign(key, t.head));
  const given = Buffer.from(t.sig);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { error: 'bad signature' };
  const o = p as { v?: unknown; s?: unknown; l?: unknown; e?: unknown; m?: unknown };
  if (o.v !== 1 || typeof o.s !== 'string' || typeof o.l !== 'string' || typeof o.e !== 'number' || o.m !== 'view') return { error: 'malformed payload' };
  if (o.e <= now) return { error: 'expired' };
  return { owner: t.owner, sessionId: o.s, linkId: o.l, expiresAt: o.e, mode: 'view' };
}

/**
 * A browser cannot set headers on a WebSocket, but it can offer subprotocols: the page offers
 * `webssh-bridge.share.TOKEN` next to `webssh-bridge.v1`, so the token stays out of the URL (and
 * out of a reverse proxy's access log). The bridge never selects it.
 */
export const SHARE_SUBPROTOCOL_PREFIX = 'webssh-bridge.share.';

/** The share token offered as a subprotocol entry, or null. */
export function shareTokenFromProtocols(header: string | undefined): string | null {
  if (header === undefined) return null;
  for (const entry of header.split(',')) {
    const p = entry.trim();
    if (p.startsWith(SHARE_SUBPROTOCOL_PREFIX)) return p.slice(SHARE_SUBPROTOCOL_PREFIX.length);
  }
  return null;
}

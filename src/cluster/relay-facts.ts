/**
 * The facts a node vouches for when it relays a request to the node that holds its session
 * (./node-relay.ts): the client IP and the identity it established, signed with the keyring's
 * relay key (src/auth/keyring.ts) and bound to the request line and a time, in one header:
 *
 *   x-webssh-node-facts: KID.PAYLOAD.SIG
 *
 * PAYLOAD is base64url JSON `{v:1, ip, id: identity, at: ms since the epoch, m: method, u: url}`;
 * SIG an HMAC-SHA256 of `KID.PAYLOAD` with the relay key named KID. The receiving node takes the
 * facts only when the key is one it holds, the signature matches, the method and URL are the
 * request's own, and `at` is within `MAX_SKEW_MS` of its clock: a header lifted from one request
 * is worth nothing on another, nor minutes later. The link itself is mutual TLS; the signature
 * is the second lock, and what says which gateway's keyring the node belongs to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Identity } from '../auth/identity.js';
import type { Keyring } from '../auth/keyring.js';
import type { RelayedFacts } from '../http/relay.js';

export const FACTS_HEADER = 'x-webssh-node-facts';

/** How far the sender's clock and ours may differ, and how old a relayed request may be. */
export const MAX_SKEW_MS = 30_000;

function sign(key: Buffer, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

/** The header value vouching for `facts` on the request `method url`, signed now with the current relay key. */
export function signFacts(keyring: Keyring, facts: RelayedFacts, method: string, url: string, now: number): string {
  const { id, key } = keyring.current('relay');
  const payload = Buffer.from(JSON.stringify({ v: 1, ip: facts.clientIp, id: facts.identity, at: now, m: method, u: url })).toString('base64url');
  const head = `${id}.${payload}`;
  return `${head}.${sign(key, head)}`;
}

const SHAPE = /^([A-Za-z0-9_-]{1,32})\.([A-Za-z0-9_-]{1,16384})\.([A-Za-z0-9_-]{43})$/;

/** The facts of a header this gateway's keyring signed for this request, or why not. */
export function verifyFacts(keyring: Keyring, header: string | undefined, method: string, url: string, now: number): RelayedFacts | { readonly error: string } {
  const m = header === undefined ? null : SHAPE.exec(header);
  if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) return { error: 'no or malformed facts' };
  const key = keyring.byId('relay', m[1]);
  if (key === undefined) return { error: `unknown relay key ${m[1]}` };
  const expected = Buffer.from(sign(key, `${m[1]}.${m[2]}`));
  const given = Buffer.from(m[3]);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { error: 'bad signature' };
  let p: { v?: unknown; ip?: unknown; id?: unknown; at?: unknown; m?: unknown; u?: unknown };
  try {
    p = JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8')) as typeof p;
  } catch {
    return { error: 'malformed payload' };
  }
  const identity = p.id as Identity | undefined;
  if (p.v !== 1 || typeof p.ip !== 'string' || typeof p.at !== 'number' || typeof identity?.subject !== 'string' || typeof identity.method !== 'string') return { error: 'malformed payload' };
  if (p.m !== method || p.u !== url) return { error: 'facts of another request' };
  if (Math.abs(now - p.at) > MAX_SKEW_MS) return { error: 'facts too old (or the clocks differ)' };
  return { clientIp: p.ip, identity, via: 'node' };
}

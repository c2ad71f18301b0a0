/**
 * Which address a request really comes from. Per-IP limits and logs key on it, so a client must
 * not be able to choose it: `X-Forwarded-For` is believed only from configured proxies, and only
 * as far back as the chain of trusted hops reaches.
 */
import { isIP } from 'node:net';
import { normalizeIp } from '../grammar/cidr.js';
import type { CidrSet } from '../grammar/cidr.js';

/** Returned when the socket has no peer address (it was already destroyed). */
export const UNKNOWN_CLIENT = 'unknown';

/**
 * The client address for a request. A peer outside `trusted` is the answer and its headers are
 * ignored. From a trusted peer, `X-Forwarded-For` is read right to left (each proxy appends the
 * address it saw), skipping trusted hops; the first untrusted entry is the client. An entry that
 * is not an IP stops the walk at the last trusted hop, since anything left of it may be forged;
 * empty entries (stray commas) are skipped. When every hop is trusted the left-most wins.
 * An undefined peer yields the string "unknown" (`UNKNOWN_CLIENT`), never a fake address.
 */
export function clientIp(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: CidrSet): string {
  if (peer === undefined || peer.trim() === '') return UNKNOWN_CLIENT;
  let lastTrusted = normalizeIp(peer);
  if (forwardedFor === undefined || !trusted.has(lastTrusted)) return lastTrusted;

  const joined = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const entries = joined
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (let i = entries.length - 1; i >= 0; i--) {
    const ip = normalizeIp(entries[i] ?? '');
    if (isIP(ip) === 0) return lastTrusted;
    if (!trusted.has(ip)) return ip;
    lastTrusted = ip;
  }
  return lastTrusted;
}

/**
 * Whether the browser reached this site over TLS. Behind a proxy that ends TLS (nginx, HAProxy:
 * docs/deployment.md), the bridge itself speaks plain HTTP, yet the page's Origin is `https://`;
 * the same-origin check (./origin.ts) must compare against the scheme the browser used. So
 * `X-Forwarded-Proto` is believed exactly as `X-Forwarded-For` is (./client-ip.ts): only when the
 * socket's peer is a trusted proxy, and only its right-most entry (the one the nearest proxy set).
 * Anything but `https` or `http` there leaves the socket's own answer. Pure.
 */
import { normalizeIp, type CidrSet } from '../grammar/cidr.js';

export function requestSecure(peer: string | undefined, forwardedProto: string | string[] | undefined, trusted: CidrSet, socketSecure: boolean): boolean {
  if (peer === undefined || forwardedProto === undefined || !trusted.has(normalizeIp(peer))) return socketSecure;
  const joined = Array.isArray(forwardedProto) ? forwardedProto.join(',') : forwardedProto;
  const last = joined.split(',').map((e) => e.trim().toLowerCase()).filter((e) => e !== '').at(-1);
  return last === 'https' ? true : last === 'http' ? false : socketSecure;
}

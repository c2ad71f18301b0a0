/**
 * The guard's step 3 (./guard.ts): each route's rule against requests made for another site.
 * Pure functions of the request's headers.
 *
 * - The upgrade: a browser always sends Origin on a WebSocket handshake, so a page of another
 *   site is refused by it (a client without Origin is not a browser, and is not refused here).
 * - POST api/ticket: a cookie-less bearer header cannot be forged cross-site, but the proxy-header
 *   and mTLS modes authenticate whatever the browser sends. So the request must carry an Origin
 *   that is this site (or an allowed origin), must not be marked cross-site by Sec-Fetch-Site, and
 *   must be `Content-Type: application/json`: a non-simple request, which a cross-site page can
 *   only make after a CORS preflight this server never approves.
 * - api/recordings: reads without side effects whose answers carry no CORS headers; still, a
 *   request the browser marks as cross-site or same-site is refused, so a proxy-header or
 *   client-certificate identity is never exercised from another page at all.
 */
import type { IncomingMessage } from 'node:http';
import { originAllowed } from '../policy/origin.js';
import type { Refusal, Site } from './guard.js';

/** The upgrade's rule: an Origin, when sent, is this site or an allowed origin. */
export function upgradeOrigin(req: IncomingMessage, site: Site): Refusal | null {
  return originAllowed(req.headers.origin, req.headers.host, site.secure, site.allowedOrigins) ? null : { code: 'ORIGIN_FORBIDDEN' };
}

/** The ticket route's rule: this site's Origin, not cross-site, and a JSON body. */
export function jsonFromThisSite(req: IncomingMessage, site: Site): Refusal | null {
  const origin = req.headers.origin;
  const fetchSite = req.headers['sec-fetch-site'];
  if (origin === undefined || !originAllowed(origin, req.headers.host, site.secure, site.allowedOrigins) || (fetchSite !== undefined && fetchSite !== 'same-origin')) {
    return { code: 'CSRF_REJECTED', detail: origin === undefined ? 'Origin header required' : undefined };
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  return type === 'application/json' ? null : { code: 'UNSUPPORTED_MEDIA_TYPE' };
}

/** The recordings route's rule: no request the browser marks as made by another site. */
export function notCrossSite(req: IncomingMessage): Refusal | null {
  const fetchSite = req.headers['sec-fetch-site'];
  return fetchSite === 'cross-site' || fetchSite === 'same-site' ? { code: 'CSRF_REJECTED', detail: `Sec-Fetch-Site: ${fetchSite}` } : null;
}

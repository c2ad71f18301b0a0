/**
 * View links, pure (docs/protocol.md#sharing): the link the owner copies, what a viewer's page
 * reads from it, and the gateway's own page the viewer is sent to when watching is over.
 *
 * The link is `<the owner page's origin and path>#share=<token>&target=<host>:<port>`: the token
 * stays in the fragment, which browsers never send to a server, and the owner page's query
 * (`?host=…&port=…&user=…`, `?renderer=…`) is left out, since it tells the viewer who the owner
 * logs in as and where, which the link does not need. The token's payload (`OWNER.PAYLOAD.SIG`,
 * PAYLOAD base64url JSON with `e`, the expiry in ms since the epoch) is read only to say that a
 * dead link expired; the gateway alone judges a token.
 */
import { parseHostInput, stripBrackets, targetLabel, validPort, type Target } from './target.js';

/** What a view link carries in its fragment. */
export interface ShareLink {
  readonly token: string;
  /** The session's route; null when the link names none (fixed-target gateways do not need it). */
  readonly target: Target | null;
}

/** Share tokens are `OWNER.PAYLOAD.SIG` in base64url; anything else is not a link of ours. */
function validShareToken(token: string): boolean {
  return /^[A-Za-z0-9._~-]{1,4096}$/.test(token);
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** The gateway's page of `page` (a URL): its origin and path, without query or fragment. */
export function gatewayHome(page: string): string {
  const url = new URL(page);
  url.search = '';
  url.hash = '';
  return url.href;
}

/** `<gatewayHome(page)>#share=<token>&target=<host:port>` (IPv6 in brackets). */
export function viewLink(token: string, target: Target, page: string): string {
  return `${gatewayHome(page)}#share=${encodeURIComponent(token)}&target=${encodeURIComponent(targetLabel(target))}`;
}

/**
 * `#share=<token>&target=<host>:<port>` (a location's hash) -> the link; null when the fragment
 * has no `share=`. A `share=` that is not a token gives `{ token: '' }` (the page says the link is
 * broken).
 */
export function readShareLink(hash: string): ShareLink | null {
  if (hash.length < 2) return null;
  let token: string | null = null;
  let target: Target | null = null;
  for (const part of hash.slice(1).split('&')) {
    if (part.startsWith('share=')) token = decode(part.slice('share='.length)).trim();
    else if (part.startsWith('target=')) {
      const parsed = parseHostInput(decode(part.slice('target='.length)));
      const host = stripBrackets(parsed.host);
      if (host !== '' && parsed.port !== undefined && validPort(parsed.port)) target = { host, port: parsed.port };
    }
  }
  if (token === null) return null;
  return { token: validShareToken(token) ? token : '', target };
}

/** The expiry (ms since the epoch) the token's payload states, or null when it states none readably. */
export function linkExpiry(token: string): number | null {
  const payload = token.split('.')[1];
  if (payload === undefined || payload === '') return null;
  try {
    const json = atob(payload.replace(/-/g, '+').replace(/_/g, '/'));
    const claims: unknown = JSON.parse(json);
    const e = typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>)['e'] : undefined;
    return typeof e === 'number' && Number.isFinite(e) ? e : null;
  } catch {
    return null;
  }
}

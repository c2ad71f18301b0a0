/**
 * Cross-site WebSocket hijacking defence. Browsers attach cookies and client certificates to
 * cross-origin WebSocket upgrades and the WebSocket API has no CORS, so the server must check
 * `Origin` itself. Non-browser clients send no Origin and cannot be ridden by another site.
 */

/**
 * Canonical `scheme://host[:port]` (lowercase, default port dropped, IDN in punycode), or null
 * when `s` is not a bare http(s) origin: userinfo, a path (a lone trailing "/" is tolerated,
 * people paste it), a query or a fragment make it invalid. The config loader normalizes
 * `allowedOrigins` with this so a lookup here is an exact string match.
 */
export function normalizeOrigin(s: string): string | null {
  const text = s.trim();
  if (text.includes('?') || text.includes('#') || text.includes('\\')) return null;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username !== '' || url.password !== '' || url.host === '') return null;
  if (url.pathname !== '/') return null;
  // URL turns "http://h" into "http://h/"; anything after the authority other than "/" is a path.
  const afterAuthority = text.slice(text.indexOf('//') + 2);
  const slash = afterAuthority.indexOf('/');
  if (slash !== -1 && slash !== afterAuthority.length - 1) return null;
  return `${url.protocol}//${url.host}`;
}

/** Host header → canonical `host[:port]` for `scheme`, or null when it is not a bare authority. */
function normalizeHostHeader(host: string, scheme: 'http:' | 'https:'): string | null {
  const text = host.trim();
  if (text === '' || /[\s/\\@?#]/.test(text)) return null;
  try {
    const url = new URL(`${scheme}//${text}/`);
    return url.username === '' && url.password === '' ? url.host : null;
  } catch {
    return null;
  }
}

/**
 * Whether an upgrade with this Origin may proceed. Same-origin (Origin's authority equals the
 * Host header, scheme matching how this server is reached) is always allowed so the bundled
 * page works behind any host name; other origins must be listed in `allowed` (normalized).
 * "null" (sandboxed frames, file: pages) and unparsable origins are refused.
 */
export function originAllowed(
  origin: string | undefined,
  hostHeader: string | undefined,
  secure: boolean,
  allowed: readonly string[],
): boolean {
  if (origin === undefined) return true;
  if (origin.trim().toLowerCase() === 'null') return false;
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;

  const scheme = secure ? 'https:' : 'http:';
  if (hostHeader !== undefined && normalized.startsWith(`${scheme}//`)) {
    const host = normalizeHostHeader(hostHeader, scheme);
    if (host !== null && normalized === `${scheme}//${host}`) return true;
  }
  return allowed.includes(normalized);
}

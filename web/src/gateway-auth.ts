/**
 * Gateway ("bridge") authentication, page side. When `config.json` says `auth.required`, every
 * WebSocket (first connect and every reconnect) is preceded by `POST ticketPath` with the
 * credential as `Authorization: Bearer …` (token / JWT modes; none in proxy and mTLS modes, where
 * the proxy or the TLS layer vouches for the request). The answer is a short-lived, single-use
 * ticket that goes into the WebSocket URL (`?ticket=`); the credential itself never does.
 *
 * The credential comes from a `#token=` fragment at page load (removed from the address bar at
 * once) or from the Access token field, and is kept in sessionStorage only: this tab, surviving
 * reloads, never localStorage or cookies.
 */
import type { GatewayAuthConfig } from './config.js';
import type { Target } from './target.js';

const STORAGE_KEY = 'webssh-bridge.gatewayToken';
const TICKET_TIMEOUT_MS = 15_000;
const MAX_TOKEN_CHARS = 16 * 1024;

/** A token can go into an `Authorization` header: printable ASCII without spaces, at most 16 KiB. */
export function validToken(token: string): boolean {
  return token.length > 0 && token.length <= MAX_TOKEN_CHARS && /^[\x21-\x7e]+$/.test(token);
}

/** The gateway credential of this tab: sessionStorage (when usable) mirrored in memory. */
export class TokenStore {
  #token: string | null;
  readonly #listeners: Array<(has: boolean) => void> = [];

  constructor() {
    let stored: string | null = null;
    try {
      stored = window.sessionStorage.getItem(STORAGE_KEY);
    } catch { /* storage disabled: memory only */ }
    this.#token = stored !== null && validToken(stored) ? stored : null;
  }

  get(): string | null {
    return this.#token;
  }

  get has(): boolean {
    return this.#token !== null;
  }

  set(token: string): void {
    const t = token.trim();
    if (!validToken(t)) return;
    this.#token = t;
    try {
      window.sessionStorage.setItem(STORAGE_KEY, t);
    } catch { /* storage full or disabled: memory only (lost on reload) */ }
    this.#changed();
  }

  forget(): void {
    this.#token = null;
    try {
      window.sessionStorage.removeItem(STORAGE_KEY);
    } catch { /* nothing stored */ }
    this.#changed();
  }

  /** Called with whether a token is held, whenever that may have changed. */
  onChange(listener: (has: boolean) => void): void {
    this.#listeners.push(listener);
  }

  #changed(): void {
    for (const l of this.#listeners) l(this.has);
  }
}

/**
 * `#token=<value>` (a portal opening `https://gateway/#token=JWT`): returns the token and removes
 * it from the address bar at once (path, query and any other fragment parts stay).
 */
export function takeFragmentToken(): string | null {
  const hash = window.location.hash;
  if (hash.length < 2) return null;
  let token: string | null = null;
  const rest: string[] = [];
  for (const part of hash.slice(1).split('&')) {
    if (part.startsWith('token=')) {
      const raw = part.slice('token='.length);
      try {
        token = decodeURIComponent(raw);
      } catch {
        token = raw;
      }
    } else if (part !== '') {
      rest.push(part);
    }
  }
  if (token === null) return null;
  const { pathname, search } = window.location;
  window.history.replaceState(window.history.state, '', `${pathname}${search}${rest.length > 0 ? `#${rest.join('&')}` : ''}`);
  token = token.trim();
  return validToken(token) ? token : null;
}

export type TicketResult =
  | { readonly ok: true; readonly ticket: string }
  | {
    readonly ok: false;
    /** HTTP status; 0 when the request did not complete (network, timeout). */
    readonly status: number;
    /** The catalogue code from the JSON error body (inferred for a bare 401). */
    readonly code: string | null;
    readonly message: string;
    /** Seconds from `Retry-After`, if sent. */
    readonly retryAfter: number | null;
  };

/** What a refused ticket request looks like to the close logic (as if the socket had closed). */
export interface Refusal {
  readonly code: number;
  readonly reason: string;
  readonly error: { readonly code: string; readonly message: string } | null;
}

/** Catalogue codes that mean "the gateway wants (another) credential from you". */
export function isCredentialProblem(code: string | null): boolean {
  return code === 'BRIDGE_AUTH_REQUIRED' || code === 'BRIDGE_AUTH_INVALID';
}

function retryAfterSeconds(header: string | null): number | null {
  if (header === null) return null;
  const h = header.trim();
  if (/^\d{1,7}$/.test(h)) return Number(h);
  const at = Date.parse(h);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** The close code the same refusal would have had on the WebSocket (src/errors.ts). */
function closeCodeFor(status: number): number {
  if (status === 0) return 1006;
  if (status === 401) return 4006;
  if (status === 429 || status === 503) return 1013;
  if (status >= 500) return 1011;
  return 1008;
}

export function refusalOf(result: Extract<TicketResult, { ok: false }>): Refusal {
  const code = closeCodeFor(result.status);
  if (result.code === null) return { code, reason: result.status === 0 ? '' : `HTTP ${result.status}`, error: null };
  return { code, reason: `${result.code}: ${result.message}`, error: { code: result.code, message: result.message } };
}

export class GatewayAuth {
  readonly #config: GatewayAuthConfig;
  readonly tokens: TokenStore;

  constructor(config: GatewayAuthConfig, tokens: TokenStore) {
    this.#config = config;
    this.tokens = tokens;
  }

  /** A ticket is needed before every WebSocket. */
  get required(): boolean {
    return this.#config.required;
  }

  /** The page asks for a token (token or JWT modes); proxy and mTLS need nothing from the page. */
  get usesToken(): boolean {
    return this.#config.required && this.#config.methods.some((m) => m === 'token' || m === 'jwt');
  }

  /** The ticket endpoint, relative to the page; null when it would leave this origin. */
  ticketUrl(base: string = document.baseURI): string | null {
    try {
      const url = new URL(this.#config.ticketPath, base);
      return url.origin === window.location.origin ? url.href : null;
    } catch {
      return null;
    }
  }

  /** A fresh single-use ticket for `target`. Never rejects: failures are results. */
  async ticket(target: Target, signal: AbortSignal): Promise<TicketResult> {
    const url = this.ticketUrl();
    if (url === null) return { ok: false, status: 400, code: null, message: '', retryAfter: null };
    const credential = this.usesToken ? this.tokens.get() : null;
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    signal.addEventListener('abort', stop);
    const timer = setTimeout(stop, TICKET_TIMEOUT_MS);
    try {
      const res = await fetch(url, {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { 'Content-Type': 'application/json', ...(credential !== null ? { Authorization: `Bearer ${credential}` } : {}) },
        body: JSON.stringify({ host: target.host, port: target.port }),
        signal: abort.signal,
      });
      const body = await res.json().catch(() => null) as unknown;
      const b = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {};
      if (res.ok) {
        const ticket = b['ticket'];
        if (typeof ticket === 'string' && ticket !== '') return { ok: true, ticket };
        return { ok: false, status: res.status, code: 'INTERNAL', message: 'no ticket in the answer', retryAfter: null };
      }
      let code = typeof b['code'] === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(b['code']) ? b['code'] : null;
      if (code === null && res.status === 401) code = credential === null ? 'BRIDGE_AUTH_REQUIRED' : 'BRIDGE_AUTH_INVALID';
      const message = typeof b['message'] === 'string' ? b['message'].slice(0, 300) : '';
      return { ok: false, status: res.status, code, message, retryAfter: retryAfterSeconds(res.headers.get('Retry-After')) };
    } catch {
      return { ok: false, status: 0, code: null, message: '', retryAfter: null };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }
}

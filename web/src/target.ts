/** Targets and credentials: parsing what people type, the WebSocket URL, display strings. */

export interface Target {
  readonly host: string;
  readonly port: number;
}

/** The login to one SSH server: the target's own, or a jump host's. */
export type Login =
  | { readonly username: string; readonly method: 'password'; readonly password: string }
  | { readonly username: string; readonly method: 'publickey'; readonly privateKey: string; readonly passphrase: string }
  /** The server asks its own questions (2FA codes, PAM prompts); answered in the prompt dialog. */
  | { readonly username: string; readonly method: 'keyboard-interactive' };

/** One jump host of a route (docs/protocol.md#jump-hosts): where it is, and its own login. */
export interface JumpHop extends Target {
  readonly login: Login;
}

/** The target's login and, for a route through jump hosts, each hop's in dialing order (in memory only). */
export type Credentials = Login & { readonly jump?: readonly JumpHop[] };

/** `[::1]` -> `::1`; other hosts are only trimmed. */
export function stripBrackets(host: string): string {
  const h = host.trim();
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

export function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/**
 * What people paste into the Host field: `host`, `host:2222`, `[2001:db8::1]:2222`, `::1`,
 * `alice@host`. Returns the parts found; a bare IPv6 address is never split at a colon.
 */
export function parseHostInput(input: string): { host: string; port?: number; user?: string } {
  let text = input.trim();
  let user: string | undefined;
  const at = text.lastIndexOf('@');
  if (at > 0) {
    user = text.slice(0, at);
    text = text.slice(at + 1);
  }
  let host = text;
  let port: number | undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed !== null) {
    host = bracketed[1] ?? '';
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const [h, p] = text.split(':');
    if (p !== undefined && /^\d{1,5}$/.test(p)) {
      host = h ?? '';
      port = Number(p);
    }
  }
  const out: { host: string; port?: number; user?: string } = { host };
  if (port !== undefined && validPort(port)) out.port = port;
  if (user !== undefined && user !== '') out.user = user;
  return out;
}

/** Where a resumed connection picks up: the token and the number of output bytes the page has. */
export interface ResumeQuery {
  readonly token: string;
  readonly position: number;
}

/** Watching a shared session: the view link's token (docs/protocol.md#sharing). */
export interface ShareQuery {
  readonly share: string;
}

/** A new login through jump hosts: the hops in dialing order (`?jump=`; a resume needs none). */
export interface JumpQuery {
  readonly jump: readonly Target[];
}

/**
 * `ws[s]://<page base>/ws/<host>/<port>`, relative to the page so a sub-path (/ssh/) works; with
 * `?resume=&position=` to resume a dropped session, `?share=` to watch a shared one, `?jump=` for a
 * new login through jump hosts (`host:port,…`, IPv6 in brackets, percent-encoded), and `ticket=`
 * when the gateway wants one (a one-time ticket, never a long-lived credential).
 */
export function gatewayUrl(target: Target, ticket: string | null = null, query: ResumeQuery | ShareQuery | JumpQuery | null = null, base: string = document.baseURI): string {
  const url = new URL(`ws/${encodeURIComponent(stripBrackets(target.host))}/${target.port}`, base);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  const params = new URLSearchParams();
  if (query !== null && 'share' in query) {
    params.set('share', query.share);
  } else if (query !== null && 'jump' in query) {
    if (query.jump.length > 0) params.set('jump', query.jump.map(targetLabel).join(','));
  } else if (query !== null) {
    params.set('resume', query.token);
    params.set('position', String(query.position));
  }
  if (ticket !== null) params.set('ticket', ticket);
  const q = params.toString();
  url.search = q === '' ? '' : `?${q}`;
  return url.href;
}

/** `host:port`, with brackets around an IPv6 literal. */
export function targetLabel(target: Target): string {
  const host = stripBrackets(target.host);
  return host.includes(':') ? `[${host}]:${target.port}` : `${host}:${target.port}`;
}

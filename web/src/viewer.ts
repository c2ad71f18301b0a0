/**
 * The viewer's side of view-only sharing (docs/protocol.md#sharing): a page opened with
 * `#share=<token>&target=<host>:<port>` watches someone else's session instead of logging in.
 *
 * The viewer opens `ws/<host>/<port>` through a GatewaySocket (plus a fresh one-time `?ticket=`
 * when the gateway authenticates: the tab's access token goes only into the ticket request) with
 * the v1 subprotocol and the share token as a second subprotocol entry, and never sends a frame: `viewing` sizes the terminal to the owner's (kept whatever
 * the window does), one binary frame redraws the owner's screen, live output and `resize` follow.
 * The terminal is read only (xterm.js `disableStdin`, and the page's input paths send nothing).
 * Every ending is a sentence; nothing is retried by itself: Rejoin (after falling behind, a full
 * session, gateway limits or a lost connection) is the only way back. The share token never goes
 * into sessionStorage: a viewer has no resume record.
 */
import { catalogueCode, describeClose, type CloseInfo } from './errors.js';
import { isCredentialProblem } from './gateway-auth.js';
import { GatewaySocket, SUBPROTOCOL, type ExitInfo, type SocketClose, type TicketSource } from './gateway-socket.js';
import type { ServerMessage, ViewingInfo } from './messages.js';
import type { ConnState } from './status.js';
import { gatewayUrl, parseHostInput, stripBrackets, targetLabel, validPort, type Target } from './target.js';

/** The share token rides as a subprotocol entry (src/share/share-token.ts SHARE_SUBPROTOCOL_PREFIX). */
const SHARE_SUBPROTOCOL_PREFIX = 'webssh-bridge.share.';

/** What a view link carries in its fragment. */
export interface ShareLink {
  readonly token: string;
  /** The session's route; null when the link names none (fixed-target gateways do not need it). */
  readonly target: Target | null;
}

/** Share tokens are `OWNER.PAYLOAD.SIG` in base64url; anything else is not a link of ours. */
function validShareToken(token: string): boolean {
  return /^[A-Za-z0-9._-]{1,4096}$/.test(token);
}

function decode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * `#share=<token>&target=<host>:<port>` -> the link; null when the fragment has no `share=`.
 * A `share=` that is not a token gives `{ token: '' }` (the page says the link is broken).
 */
export function readShareLink(hash: string = window.location.hash): ShareLink | null {
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

/** How watching ended. */
export type ViewerEndKind = 'exit' | 'link-ended' | 'too-slow' | 'limit' | 'credential' | 'user' | 'error';

export interface ViewerEnd {
  readonly kind: ViewerEndKind;
  readonly message: string;
  /** The catalogue code, when there is one. */
  readonly code: string | null;
  /** Rejoining with the same link may work (offer the button). */
  readonly rejoin: boolean;
  /** The owner's screen had been shown. */
  readonly wasViewing: boolean;
}

export interface ViewerEvents {
  /** The first frame: reset the terminal and size it to the owner's. */
  viewing(info: ViewingInfo): void;
  output(bytes: Uint8Array): void;
  /** The owner's terminal changed size. */
  resize(cols: number, rows: number): void;
  state(state: ConnState, text: string): void;
  ended(end: ViewerEnd): void;
}

/** Codes after which the same link may work on a second try. */
const REJOINABLE = ['VIEWER_TOO_SLOW', 'SHARE_FULL', 'LIMIT_TOTAL', 'LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'RATE_LIMITED',
  'BRIDGE_AUTH_UNAVAILABLE', 'TICKET_INVALID', 'TICKETS_FULL', 'PONG_TIMEOUT', 'DRAINING'];

function exitDetail(exit: ExitInfo): string {
  if (exit.signal !== null && exit.signal !== '') return ` (the shell got signal ${exit.signal.replace(/^SIG/, '')})`;
  if (exit.status !== null) return ` (the shell exited with status ${exit.status})`;
  return '';
}

/** The sentence and what to offer for a viewer's close. */
export function viewerEnding(info: CloseInfo, exit: ExitInfo | null): ViewerEnd {
  const code = catalogueCode(info);
  const base = { code, wasViewing: info.wasReady };
  if (exit !== null || (info.code === 1000 && info.error === null)) {
    return { ...base, kind: 'exit', message: `The session ended${exit === null ? '' : exitDetail(exit)}.`, rejoin: false };
  }
  if (code === 'SHARE_REVOKED' || code === 'SHARE_INVALID' || (code === null && info.code === 4009)) {
    const text = `${info.error?.message ?? ''} ${info.reason}`;
    let message = 'The share link ended or is not valid (it expired, the owner stopped sharing, or the session is over).';
    if (/session ended/.test(text)) message = 'The session ended.';
    else if (/revoked/.test(text)) message = 'The share link ended: the owner stopped sharing.';
    else if (/expired/.test(text)) message = 'The share link ended: it expired.';
    else if (info.wasReady) message = 'The share link ended.';
    return { ...base, kind: 'link-ended', message, rejoin: false };
  }
  if (code === 'VIEWER_TOO_SLOW' || (code === null && info.code === 4010)) {
    return { ...base, kind: 'too-slow', message: 'You fell behind and were disconnected (the session produced output faster than this page could take it).', rejoin: true };
  }
  if (code === 'SHARE_FULL') {
    return { ...base, kind: 'limit', message: 'Too many people are watching this session; try again later.', rejoin: true };
  }
  if (isCredentialProblem(code)) {
    const message = code === 'BRIDGE_AUTH_INVALID'
      ? 'The gateway did not accept the access token (wrong or expired): enter a valid one to watch.'
      : 'This gateway requires an access token, also to watch: enter it to watch.';
    return { ...base, kind: 'credential', message, rejoin: false };
  }
  const message = describeClose(info);
  if (info.code === 1013) return { ...base, kind: 'limit', message, rejoin: true };
  const rejoin = code === null ? info.code === 1006 || info.code === 1005 || info.code === 1001 : REJOINABLE.includes(code);
  return { ...base, kind: 'error', message, rejoin };
}

export class ViewerConnection {
  readonly #link: { readonly token: string; readonly target: Target };
  readonly #ev: ViewerEvents;
  #tickets: TicketSource | null = null;
  #sock: GatewaySocket | null = null;
  #state: ConnState = 'idle';
  #viewing = false;
  #received = 0;

  constructor(link: { readonly token: string; readonly target: Target }, events: ViewerEvents) {
    this.#link = link;
    this.#ev = events;
  }

  get state(): ConnState { return this.#state; }
  /** Output bytes received on the current (or last) socket. */
  get bytesReceived(): number { return this.#received; }
  get target(): Target { return this.#link.target; }

  /** Gateway authentication: a fresh ticket before every socket (null: none needed). */
  useTickets(source: TicketSource | null): void {
    this.#tickets = source;
  }

  /** Start watching (first time, or an explicit Rejoin). */
  join(): void {
    this.#detach()?.close(1000, 'viewer left');
    this.#viewing = false;
    this.#received = 0;
    this.#setState('connecting', 'joining…');
    const { target, token } = this.#link;
    const sock = new GatewaySocket({
      target,
      tickets: this.#tickets,
      // The token goes as a subprotocol entry, never in the URL (docs/protocol.md#sharing).
      protocols: [SUBPROTOCOL, `${SHARE_SUBPROTOCOL_PREFIX}${token}`],
      url: (ticket) => gatewayUrl(target, ticket),
    }, {
      output: (data) => {
        if (!this.#viewing) return; // the protocol sends `viewing` first
        const bytes = new Uint8Array(data);
        this.#received += bytes.length;
        this.#ev.output(bytes);
      },
      control: (m) => this.#control(m),
      closed: (close) => this.#closed(close),
    });
    this.#sock = sock;
    sock.start();
  }

  /** Stop watching (the owner's session goes on). */
  leave(): void {
    this.#detach()?.close(1000, 'viewer left');
    this.#setState('closed', 'stopped watching');
    this.#ev.ended({ kind: 'user', message: 'You stopped watching.', code: null, rejoin: true, wasViewing: this.#viewing });
  }

  #control(m: ServerMessage): void {
    switch (m.type) {
      case 'viewing':
        if (this.#viewing) break;
        this.#viewing = true;
        this.#setState('connected', 'watching');
        this.#ev.viewing(m);
        break;
      case 'resize':
        if (this.#viewing) this.#ev.resize(m.cols, m.rows);
        break;
      default:
        break; // nothing else is meant for a viewer
    }
  }

  #closed(close: SocketClose): void {
    this.#detach();
    const info: CloseInfo = {
      code: close.code, reason: close.reason, error: close.error, target: targetLabel(this.#link.target), wasReady: this.#viewing, method: 'password',
    };
    const end = viewerEnding(info, close.exit);
    this.#setState('closed', end.kind === 'exit' ? 'session ended' : 'not watching');
    this.#ev.ended(end);
  }

  #detach(): GatewaySocket | null {
    const sock = this.#sock;
    this.#sock = null;
    sock?.detach();
    return sock;
  }

  #setState(state: ConnState, text: string): void {
    this.#state = state;
    this.#ev.state(state, text);
  }
}

/**
 * The viewer's side of view-only sharing (docs/protocol.md#sharing): a page opened with
 * `#share=<token>&target=<host>:<port>` (share-link.ts) watches someone else's session instead of
 * logging in.
 *
 * The viewer opens `ws/<host>/<port>` through a GatewaySocket (plus a fresh one-time `?ticket=`
 * when the gateway authenticates: the tab's access token goes only into the ticket request) with
 * the v1 subprotocol and the share token as a second subprotocol entry, and never sends a frame:
 * `viewing` sizes the terminal to the owner's (kept whatever the window does), one binary frame
 * redraws the owner's screen, live output and `resize` follow. The terminal is read only (xterm.js
 * `disableStdin`, and the page's input paths send nothing). Every ending is a sentence
 * (viewer-ending.ts); nothing is retried by itself: Rejoin (after falling behind, a full session,
 * gateway limits or a lost connection) is the only way back. The share token never goes
 * into sessionStorage: a viewer has no resume record.
 */
import type { CloseInfo } from './errors.js';
import { GatewaySocket, SUBPROTOCOL, type SocketClose, type TicketSource } from './gateway-socket.js';
import type { ServerMessage, ViewingInfo } from './messages.js';
import { linkExpiry } from './share-link.js';
import type { ConnState } from './status.js';
import { gatewayUrl, targetLabel, type Target } from './target.js';
import { viewerEnding, type ViewerEnd } from './viewer-ending.js';

/** The share token rides as a subprotocol entry (src/share/share-token.ts SHARE_SUBPROTOCOL_PREFIX). */
const SHARE_SUBPROTOCOL_PREFIX = 'webssh-bridge.share.';

export interface ViewerEvents {
  /** The first frame: reset the terminal and size it to the owner's. */
  viewing(info: ViewingInfo): void;
  output(bytes: Uint8Array): void;
  /** The owner's terminal changed size. */
  resize(cols: number, rows: number): void;
  state(state: ConnState, text: string): void;
  ended(end: ViewerEnd): void;
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
    this.#ev.ended({ kind: 'user', message: 'You stopped watching.', code: null, rejoin: true, gateway: false, sessionRunning: null, wasViewing: this.#viewing });
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
    const expiry = linkExpiry(this.#link.token);
    const end = viewerEnding(info, close.exit, expiry !== null && expiry <= Date.now());
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

/**
 * One WebSocket to the gateway, as the terminal (connection.ts) and the viewer (viewer.ts) both
 * need it: with a ticket source (gateway authentication, gateway-auth.ts) it first fetches a fresh
 * single-use ticket, then opens the socket with `?ticket=`; binary frames are output, text frames
 * are v1 control messages (parsed; malformed ones are dropped).
 *
 * The close comes with what explains it: the v1 `exit` and `error` messages that arrived before
 * it. A refused ticket request ends the attempt exactly like a close with the same catalogue code
 * (401 -> 4006, 403 -> 1008, 429 / 503 -> 1013), with its Retry-After; a URL the browser will not
 * open is a 1006.
 *
 * Owner: `detach()` aborts the ticket request and silences every later event of the socket (the
 * socket itself stays as it is: a resumable session's socket is left without a close frame);
 * `close()` also closes it. After `closed` the object is detached by itself.
 */
import type { GatewayError } from './errors.js';
import { refusalOf, type TicketResult } from './gateway-auth.js';
import { parseServerMessage, type ServerMessage } from './messages.js';
import type { Target } from './target.js';

/** The v1 subprotocol (docs/protocol.md). */
export const SUBPROTOCOL = 'webssh-bridge.v1';

/** Fetches a fresh single-use ticket for one attempt (gateway authentication). */
export type TicketSource = (target: Target, signal: AbortSignal) => Promise<TicketResult>;

/** The shell's end, from the v1 `exit` message. */
export interface ExitInfo {
  readonly status: number | null;
  readonly signal: string | null;
}

/** How a socket ended, and what the gateway said before it did. */
export interface SocketClose {
  readonly code: number;
  readonly reason: string;
  /** The last v1 `error` message, or the catalogue error of a refused ticket request. */
  readonly error: GatewayError | null;
  readonly exit: ExitInfo | null;
  /** Seconds from the `Retry-After` of a refused ticket request. */
  readonly retryAfter: number | null;
}

export interface GatewaySocketOptions {
  readonly target: Target;
  /** null: the gateway needs no ticket. */
  readonly tickets: TicketSource | null;
  readonly protocols: string | string[];
  /** The socket's URL, asked when it is made (after the ticket, if any). */
  url(ticket: string | null): string;
}

export interface GatewaySocketEvents {
  /** The WebSocket was made (it is not open yet). */
  made?(): void;
  open?(): void;
  output(data: ArrayBuffer): void;
  /** A control message other than `exit` and `error` (those come with the close). */
  control(message: ServerMessage): void;
  closed(close: SocketClose): void;
}

const NETWORK_FAILURE: TicketResult = { ok: false, status: 0, code: null, message: '', retryAfter: null };

export class GatewaySocket {
  readonly #opts: GatewaySocketOptions;
  readonly #ev: GatewaySocketEvents;
  #ws: WebSocket | null = null;
  #ticketAbort: AbortController | null = null;
  #attached = true;
  #exit: ExitInfo | null = null;
  #error: SocketClose['error'] = null;
  /** From the last `error` message: a ban or rate refusal says when to try again. */
  #retryAfter: number | null = null;

  constructor(opts: GatewaySocketOptions, events: GatewaySocketEvents) {
    this.#opts = opts;
    this.#ev = events;
  }

  /**
   * Fetch a ticket if needed, then open. Separate from the constructor because `closed` may come
   * at once (a URL the browser refuses): the owner holds the object before it can.
   */
  start(): void {
    const source = this.#opts.tickets;
    if (source === null) {
      this.#open(null);
      return;
    }
    // A new ticket for every attempt: tickets are single use and short-lived.
    const abort = new AbortController();
    this.#ticketAbort = abort;
    const settle = (result: TicketResult): void => {
      if (this.#ticketAbort !== abort) return; // abandoned (detached)
      this.#ticketAbort = null;
      if (result.ok) {
        this.#open(result.ticket);
        return;
      }
      const refusal = refusalOf(result);
      this.#error = refusal.error;
      this.#end(refusal.code, refusal.reason, result.retryAfter);
    };
    source(this.#opts.target, abort.signal).then(settle, () => settle(NETWORK_FAILURE));
  }

  /** A WebSocket was made for this attempt (false while the ticket request runs, or when it failed). */
  get made(): boolean {
    return this.#ws !== null;
  }

  /** Attached and open: frames can be sent. */
  get isOpen(): boolean {
    return this.#attached && this.#ws !== null && this.#ws.readyState === WebSocket.OPEN;
  }

  get bufferedAmount(): number {
    return this.#ws?.bufferedAmount ?? 0;
  }

  /** Send a frame while attached and open; false otherwise. */
  send(data: string | Uint8Array): boolean {
    if (!this.isOpen || this.#ws === null) return false;
    this.#ws.send(data);
    return true;
  }

  sendJson(message: object): boolean {
    return this.send(JSON.stringify(message));
  }

  /**
   * The answer to a question the gateway asked on this socket (host key, login prompt): sent at
   * most once, and only while this socket is attached and open (never on a later one).
   */
  replyOnce<T>(message: (answer: T) => object): (answer: T) => void {
    let answered = false;
    return (answer) => {
      if (!answered && this.sendJson(message(answer))) answered = true;
    };
  }

  /** The network died without a close (no pong): end now, as a 1006, leaving the socket as it is. */
  giveUp(): void {
    if (this.#attached) this.#end(1006, '', null);
  }

  /** Abort the ticket request and drop the socket's handlers; the socket itself is left as it is. */
  detach(): void {
    this.#attached = false;
    this.#ticketAbort?.abort();
    this.#ticketAbort = null;
    const ws = this.#ws;
    if (ws !== null) ws.onopen = ws.onmessage = ws.onclose = null;
  }

  /** Resolves once this attempt's WebSocket is closed (at once when none was made). */
  gone(): Promise<void> {
    const ws = this.#ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => ws.addEventListener('close', () => resolve(), { once: true }));
  }

  /** Detach, then close the socket (if one was made). */
  close(code?: number, reason?: string): void {
    this.detach();
    if (code === undefined) this.#ws?.close();
    else this.#ws?.close(code, reason);
  }

  #open(ticket: string | null): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.#opts.url(ticket), this.#opts.protocols);
    } catch {
      this.#end(1006, '', null);
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#ev.made?.();
    ws.onopen = () => {
      if (this.#attached) this.#ev.open?.();
    };
    ws.onmessage = (ev: MessageEvent<unknown>) => {
      if (!this.#attached) return;
      if (ev.data instanceof ArrayBuffer) this.#ev.output(ev.data);
      else if (typeof ev.data === 'string') this.#control(ev.data);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.#attached) this.#end(ev.code, ev.reason, this.#retryAfter);
    };
  }

  #control(text: string): void {
    const m = parseServerMessage(text);
    if (m === null) return;
    if (m.type === 'exit') this.#exit = { status: m.status, signal: m.signal };
    else if (m.type === 'error') {
      this.#error = { code: m.code, message: m.message, attemptsLeft: m.attemptsLeft, banSeconds: m.banSeconds };
      this.#retryAfter = m.retryAfter;
    }
    else this.#ev.control(m);
  }

  #end(code: number, reason: string, retryAfter: number | null): void {
    this.detach();
    this.#ev.closed({ code, reason, error: this.#error, exit: this.#exit, retryAfter });
  }
}

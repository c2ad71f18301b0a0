/**
 * The v1 WebSocket client (`webssh-bridge.v1`, docs/protocol.md): auth with the real terminal
 * size and flow control, banner / ready / pong / exit / error, render-aware acks, latency pings,
 * and reconnection with backoff (1 s, 2 s, 4 s ... 30 s, 5 attempts) after a working session was
 * lost. Credentials are kept in this object only: never in storage or the URL.
 *
 * Host keys: a `hostkey` question (unknown key) is handed to `events.hostKey` with a one-shot
 * answer that sends `hostkey-reply` on the socket that asked (never on a later one). The gateway
 * closes with 4002 on Reject, on a changed key and on no answer; 4002 is never retried.
 *
 * Keyboard-interactive: each `prompt` round goes to `events.authPrompt` with a one-shot answer
 * that sends `prompt-reply` on the socket that asked. The answers are never stored.
 *
 * Gateway authentication: with a ticket source (`useTickets`), every attempt (first connect,
 * automatic retry, Reconnect, coming back online) first fetches a fresh single-use ticket and
 * opens the WebSocket with `?ticket=`. A refused ticket request ends the attempt exactly like a
 * close with the same catalogue code (401 -> 4006, 403 -> 1008, 429 / 503 -> 1013).
 */
import { AckFlow } from './flow.js';
import { catalogueCode, type CloseInfo } from './errors.js';
import { decideEnding } from './ending.js';
import type { ConnState } from './status.js';
import { gatewayUrl, targetLabel, type Credentials, type Target } from './target.js';
import type { PasteSink } from './paste.js';
import { authMessage, parseServerMessage } from './messages.js';
import type { HostKeyPrompt } from './hostkey.js';
import type { AuthPrompt } from './messages.js';
import { Keepalive } from './keepalive.js';
import { Backoff, MAX_RETRIES, retryDelay } from './backoff.js';
import { refusalOf, type TicketResult } from './gateway-auth.js';

/** Fetches a fresh single-use ticket for one attempt (gateway authentication). */
export type TicketSource = (target: Target, signal: AbortSignal) => Promise<TicketResult>;

/** A Retry-After longer than this is not waited for by an automatic retry. */
const MAX_RETRY_AFTER_S = 60;

export { MAX_RETRIES };

export const SUBPROTOCOL = 'webssh-bridge.v1';

export interface SessionEnd {
  /** exit: the shell ended; user: Disconnect; error: a failure; retrying: a retry is scheduled. */
  readonly kind: 'exit' | 'user' | 'error' | 'retrying';
  readonly message: string;
  /** Whether a session of this login ever reached `ready` (the terminal holds its output). */
  readonly hadSession: boolean;
  /** Whether the socket that just closed had reached `ready` (its output is on screen). */
  readonly wasReady: boolean;
  readonly retryInSeconds?: number;
  readonly attempt?: number;
  /** The catalogue code of the failure (`BRIDGE_AUTH_REQUIRED`, `SSH_AUTH_FAILED` ...), when there is one. */
  readonly code: string | null;
}

export interface ConnectionEvents {
  /** The fitted terminal size, asked right before `auth`. */
  size(): { cols: number; rows: number };
  /** The first banner, output or `ready` of a new socket: reset the terminal before writing. */
  sessionStart(): void;
  output(data: Uint8Array, rendered: () => void): void;
  banner(text: string): void;
  ready(): void;
  state(state: ConnState, text: string): void;
  latency(ms: number): void;
  ended(end: SessionEnd): void;
  /** The gateway asks whether to trust an unknown host key; call `answer` once. */
  hostKey(prompt: HostKeyPrompt, answer: (accept: boolean) => void): void;
  /** A pending host key question is moot (answered elsewhere, socket gone). */
  hostKeyDone(): void;
  /** The server asks keyboard-interactive questions; call `answer` once with one response per prompt. */
  authPrompt(prompt: AuthPrompt, answer: (responses: string[]) => void): void;
  /** A pending keyboard-interactive round is moot (socket gone). */
  authPromptDone(): void;
}

export class Connection {
  readonly #ev: ConnectionEvents;
  #target: Target | null = null;
  #creds: Credentials | null = null;
  #ws: WebSocket | null = null;
  #flow: AckFlow = new AckFlow(() => false);
  #state: ConnState = 'idle';
  #wasReady = false;
  #started = false;
  #hadSession = false;
  #attempts = 0;
  #exit: { status: number | null; signal: string | null } | null = null;
  #error: { code: string; message: string } | null = null;
  #lastSize = '';
  #tickets: TicketSource | null = null;
  /** The ticket request of the current attempt; aborted when the attempt is abandoned. */
  #ticketAbort: AbortController | null = null;
  #retryAfter: number | null = null;
  readonly #backoff = new Backoff();
  readonly #keepalive = new Keepalive();

  constructor(events: ConnectionEvents) {
    this.#ev = events;
    window.addEventListener('online', () => {
      if (this.#state === 'reconnecting') this.#open();
    });
  }

  get state(): ConnState { return this.#state; }
  get bytesAcked(): number { return this.#flow.acked; }
  get bytesReceived(): number { return this.#flow.received; }

  /** Gateway authentication: fetch a ticket before every WebSocket (null: none needed). */
  useTickets(source: TicketSource | null): void {
    this.#tickets = source;
  }

  /** A new login from the form. */
  start(target: Target, creds: Credentials): void {
    this.#target = target;
    this.#creds = creds;
    this.#hadSession = false;
    this.#attempts = 0;
    this.#open();
  }

  /** Manual reconnect with the same login: always allowed, cancels a pending retry. */
  reconnect(): void {
    if (this.#target === null || this.#creds === null) return;
    this.#attempts = 0;
    this.#open();
  }

  /** The user ends the session (or cancels a reconnect). */
  disconnect(): void {
    this.#backoff.cancel();
    const ws = this.#detach();
    if (ws !== null) ws.close(1000, 'client closed');
    this.#setState('closed', 'closed');
    this.#ev.ended({ kind: 'user', message: 'Disconnected.', hadSession: this.#hadSession, wasReady: this.#wasReady, code: null });
  }

  /** Keystrokes and other terminal input: sent at once, never queued behind output. */
  input(bytes: Uint8Array): void {
    const ws = this.#ws;
    if (ws !== null && ws.readyState === WebSocket.OPEN && this.#started) ws.send(bytes);
  }

  resize(cols: number, rows: number): void {
    const key = `${cols}x${rows}`;
    if (key === this.#lastSize || !this.#started) return;
    if (this.#sendJson({ type: 'resize', cols, rows })) this.#lastSize = key;
  }

  /** A paste target bound to the current socket: a reconnect mid-paste stops the paste. */
  pasteSink(): PasteSink {
    const ws = this.#ws;
    const live = (): boolean => ws !== null && ws === this.#ws && ws.readyState === WebSocket.OPEN && this.#started;
    return {
      send: (bytes) => {
        if (!live() || ws === null) return false;
        ws.send(bytes);
        return true;
      },
      buffered: () => (live() && ws !== null ? ws.bufferedAmount : 0),
    };
  }

  #open(): void {
    const target = this.#target;
    if (target === null) return;
    this.#backoff.cancel();
    this.#detach()?.close(1000, 'client closed');
    this.#wasReady = false;
    this.#started = false;
    this.#exit = null;
    this.#error = null;
    this.#retryAfter = null;
    this.#lastSize = '';
    if (this.#attempts > 0) this.#setState('reconnecting', `reconnecting (attempt ${this.#attempts} of ${MAX_RETRIES})`);
    else this.#setState('connecting', 'connecting');
    const source = this.#tickets;
    if (source === null) {
      this.#openSocket(target, null);
      return;
    }
    // A new ticket for every attempt: tickets are single use and short-lived.
    const abort = new AbortController();
    this.#ticketAbort = abort;
    const settle = (result: TicketResult): void => {
      if (this.#ticketAbort !== abort) return; // abandoned (Disconnect, a newer attempt)
      this.#ticketAbort = null;
      if (result.ok) {
        this.#openSocket(target, result.ticket);
        return;
      }
      const refusal = refusalOf(result);
      this.#error = refusal.error;
      this.#retryAfter = result.retryAfter;
      this.#closed({ code: refusal.code, reason: refusal.reason });
    };
    source(target, abort.signal).then(settle, () => settle({ ok: false, status: 0, code: null, message: '', retryAfter: null }));
  }

  #openSocket(target: Target, ticket: string | null): void {
    let ws: WebSocket;
    try {
      ws = new WebSocket(gatewayUrl(target, ticket), SUBPROTOCOL);
    } catch {
      this.#closed({ code: 1006, reason: '' });
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#flow = new AckFlow((bytes) => this.#ws === ws && this.#sendJson({ type: 'ack', bytes }));
    const flow = this.#flow;
    let fresh = true;
    const begin = (): void => {
      if (!fresh) return;
      fresh = false;
      this.#ev.sessionStart();
    };
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      const size = this.#ev.size();
      const creds = this.#creds;
      if (creds === null) return;
      this.#started = this.#sendJson(authMessage(creds, size));
      this.#lastSize = `${size.cols}x${size.rows}`;
    };
    ws.onmessage = (ev: MessageEvent<unknown>) => {
      if (this.#ws !== ws) return;
      if (ev.data instanceof ArrayBuffer) {
        const bytes = new Uint8Array(ev.data);
        flow.arrived(bytes.length);
        begin();
        this.#ev.output(bytes, () => flow.rendered(bytes.length));
      } else if (typeof ev.data === 'string') {
        this.#control(ev.data, begin, ws);
      }
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.#ws !== ws) return;
      this.#closed({ code: ev.code, reason: ev.reason });
    };
  }

  /**
   * The answer to a server question (host key, login prompt): sent at most once, and only on the
   * socket that asked, while it is still open and still this connection's.
   */
  #replyOnce<T>(ws: WebSocket, message: (answer: T) => object): (answer: T) => void {
    let answered = false;
    return (answer) => {
      if (answered || this.#ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      answered = true;
      ws.send(JSON.stringify(message(answer)));
    };
  }

  #control(text: string, begin: () => void, ws: WebSocket): void {
    const m = parseServerMessage(text);
    switch (m?.type) {
      case 'hostkey':
        this.#ev.hostKey(m, this.#replyOnce(ws, (accept: boolean) => ({ type: 'hostkey-reply', accept })));
        break;
      case 'prompt':
        this.#ev.authPrompt(m, this.#replyOnce(ws, (responses: string[]) => ({ type: 'prompt-reply', responses })));
        break;
      case 'banner':
        begin();
        this.#ev.banner(m.message);
        break;
      case 'ready':
        begin();
        this.#wasReady = true;
        this.#hadSession = true;
        this.#attempts = 0;
        this.#setState('connected', 'connected');
        this.#startPing();
        this.#ev.ready();
        break;
      case 'pong': {
        const rtt = this.#keepalive.pong(m.t);
        if (rtt !== null && this.#state === 'connected') this.#ev.latency(rtt);
        break;
      }
      case 'exit':
        this.#exit = { status: m.status, signal: m.signal };
        break;
      case 'error':
        this.#error = { code: m.code, message: m.message };
        break;
      default:
        break;
    }
  }

  #closed(close: { code: number; reason: string }): void {
    this.#detach();
    const info: CloseInfo = {
      code: close.code,
      reason: close.reason,
      error: this.#error,
      target: this.#target === null ? '' : targetLabel(this.#target),
      wasReady: this.#wasReady,
      method: this.#creds?.method ?? 'password',
      ...(this.#retryAfter === null ? {} : { retryAfter: this.#retryAfter }),
    };
    const code = catalogueCode(info);
    const end = decideEnding({ info, exit: this.#exit, hadSession: this.#hadSession, attempts: this.#attempts });
    if (end.kind === 'retry') {
      this.#scheduleRetry(end.message, code, info.retryAfter ?? 0);
      return;
    }
    this.#setState('closed', end.kind === 'exit' ? end.status : 'closed');
    this.#ev.ended({ kind: end.kind, message: end.message, hadSession: this.#hadSession, wasReady: this.#wasReady, code });
  }

  #scheduleRetry(message: string, code: string | null, retryAfter: number): void {
    this.#attempts++;
    const delay = Math.max(retryDelay(this.#attempts), Math.min(retryAfter, MAX_RETRY_AFTER_S));
    this.#backoff.schedule(delay, (left) => this.#setState('reconnecting', `reconnecting in ${left}s`), () => this.#open());
    this.#ev.ended({ kind: 'retrying', message, hadSession: true, wasReady: this.#wasReady, retryInSeconds: delay, attempt: this.#attempts, code });
  }

  #startPing(): void {
    this.#keepalive.start((msg) => this.#sendJson(msg), () => {
      // The network died without a close: give up on this socket now.
      const ws = this.#ws;
      this.#closed({ code: 1006, reason: '' });
      ws?.close();
    });
  }

  /** Forget the current socket (its late events are ignored) and any pending ticket request; return the socket. */
  #detach(): WebSocket | null {
    this.#ticketAbort?.abort();
    this.#ticketAbort = null;
    const ws = this.#ws;
    if (ws !== null) {
      this.#ev.hostKeyDone();
      this.#ev.authPromptDone();
    }
    this.#ws = null;
    this.#started = false;
    this.#keepalive.stop();
    this.#flow.close();
    return ws;
  }

  #sendJson(msg: Record<string, unknown>): boolean {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(msg));
    return true;
  }

  #setState(state: ConnState, text: string): void {
    this.#state = state;
    this.#ev.state(state, text);
  }
}

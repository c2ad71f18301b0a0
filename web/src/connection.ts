/**
 * The v1 WebSocket client (`webssh-bridge.v1`, docs/protocol.md): auth with the real terminal
 * size, flow control and resume, banner / ready / resumed / pong / exit / error, render-aware
 * acks, latency pings, and reconnection with backoff (1 s, 2 s, 4 s ... 30 s, 5 attempts) after a
 * working session was lost. Credentials are kept in this object only: never in storage or the URL.
 *
 * Resume (docs/protocol.md#resume): `auth` asks for a resumable session; `ready` then carries a
 * token. The output position is the number of output bytes handed to the terminal since `ready`.
 * When the socket of a resumable session drops (no close from us: 1006, a ping timeout, a stalled
 * socket), the page opens `ws/<host>/<port>?resume=TOKEN&position=N` (no `auth`) at once and then
 * with backoff until the grace period since the drop is over; `resumed` tells where the output
 * starts again (`lost` > 0: the terminal is reset first) and carries the next token. A refused
 * resume (4007 RESUME_INVALID, which the bridge sends to v1 clients after the upgrade) or a grace
 * period that ran out falls back to a new login with the same credentials. An upgrade that fails
 * (1006 before the socket opened) is the network: it is retried until the grace period is over.
 * 4008 (resumed elsewhere) and 1012 (gateway restarting) are final. A resume can also start from
 * a stored record after a reload (`resumeFrom`).
 *
 * Host keys: a `hostkey` question (unknown key) is handed to `events.hostKey` with a one-shot
 * answer that sends `hostkey-reply` on the socket that asked (never on a later one). The gateway
 * closes with 4002 on Reject, on a changed key and on no answer; 4002 is never retried.
 *
 * Keyboard-interactive: each `prompt` round goes to `events.authPrompt` with a one-shot answer
 * that sends `prompt-reply` on the socket that asked. The answers are never stored.
 *
 * Sharing (docs/protocol.md#sharing): `share()` / `revokeShare()` send `share` / `share-revoke` on
 * the live socket; `shared`, `share-refused` and `viewers` go to the events of the same names. The
 * viewer's side is a connection of its own (viewer.ts).
 *
 * Gateway authentication: with a ticket source (`useTickets`), every attempt (first connect,
 * automatic retry, resume, Reconnect, coming back online) first fetches a fresh single-use ticket
 * and opens the WebSocket with `?ticket=`. A refused ticket request ends the attempt exactly like
 * a close with the same catalogue code (401 -> 4006, 403 -> 1008, 429 / 503 -> 1013).
 */
import { AckFlow } from './flow.js';
import { catalogueCode, describeClose, type CloseInfo } from './errors.js';
import { decideEnding } from './ending.js';
import type { ConnState } from './status.js';
import { gatewayUrl, targetLabel, type Credentials, type Target } from './target.js';
import type { PasteSink } from './paste.js';
import { authMessage, parseServerMessage } from './messages.js';
import type { HostKeyPrompt } from './hostkey.js';
import type { AuthPrompt, ShareGrant, ViewerEntry } from './messages.js';
import { Keepalive } from './keepalive.js';
import { Backoff, MAX_RETRIES, retryDelay } from './backoff.js';
import { isCredentialProblem, refusalOf, type TicketResult } from './gateway-auth.js';

/** Fetches a fresh single-use ticket for one attempt (gateway authentication). */
export type TicketSource = (target: Target, signal: AbortSignal) => Promise<TicketResult>;

/** A Retry-After longer than this is not waited for by an automatic retry. */
const MAX_RETRY_AFTER_S = 60;

export { MAX_RETRIES };

export const SUBPROTOCOL = 'webssh-bridge.v1';

/** Note written into the fresh terminal when a resume was refused and a new login took its place. */
export const NEW_SESSION_NOTE = 'The previous session could not be resumed; this is a new session.';

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
  /** Retrying means resuming the same session (nothing is written into the terminal meanwhile). */
  readonly resuming?: boolean;
}

/** What the page keeps to resume the current session after a reload (never a password). */
export interface ResumeState {
  readonly token: string;
  readonly sessionId: string;
  readonly graceMs: number;
  readonly target: Target;
  readonly username: string;
  /** `Date.now()` when the socket dropped (the grace period runs from there); null while connected. */
  readonly droppedAt: number | null;
}

/** A stored session to resume from (a reload): the screen is already restored up to `position`. */
export interface ResumeStart {
  readonly token: string;
  readonly sessionId: string;
  readonly graceMs: number;
  readonly target: Target;
  readonly username: string;
  readonly position: number;
  /** `Date.now()` from which the grace period counts. */
  readonly since: number;
}

export interface ConnectionEvents {
  /** The fitted terminal size, asked right before `auth` and after `resumed`. */
  size(): { cols: number; rows: number };
  /**
   * The first banner, output or `ready` of a new login: reset the terminal before writing, then
   * show `note` (if any) on a line of its own.
   */
  sessionStart(note: string | null): void;
  output(data: Uint8Array, rendered: () => void): void;
  /** Call `done` once everything written to the terminal so far has been parsed. */
  mark(done: () => void): void;
  /** A resume came back with a gap of `lost` bytes: reset the terminal and say so. */
  lostOutput(lost: number): void;
  banner(text: string): void;
  /** `ready` (a new session) or `resumed` (the same session on a new socket). */
  ready(kind: 'new' | 'resumed'): void;
  /** The resumable session changed: a new token, a drop, or it is gone (`resumeState()` is null). */
  resumeChanged(): void;
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
  /** Sharing (docs/protocol.md#sharing): a view link was made for this session. */
  shared(grant: ShareGrant): void;
  /** The gateway would not make a link (the session goes on). */
  shareRefused(code: string, message: string): void;
  /** Who is watching now (the whole list, on every join and leave). */
  viewers(list: readonly ViewerEntry[]): void;
}

/** The session the bridge keeps for us while the socket is away. */
interface Resumable {
  readonly token: string;
  readonly sessionId: string;
  readonly graceMs: number;
}

/** One outage of a resumable session: retries go on until `deadline`. */
interface ResumeCycle {
  readonly droppedAt: number;
  readonly deadline: number;
  attempts: number;
}

type SocketKind = 'login' | 'resume';

/** Closes after which the bridge keeps a resumable session: a drop without a close from us. */
function isDrop(info: CloseInfo): boolean {
  const code = catalogueCode(info);
  if (code !== null) return code === 'PONG_TIMEOUT' || code === 'CLIENT_STALLED';
  return info.code === 1006 || info.code === 1005 || info.code === 1001 || info.code === 4004;
}

/** A failed resume attempt worth repeating (the network, passing gateway trouble). */
function resumeRetryable(info: CloseInfo): boolean {
  const code = catalogueCode(info);
  if (code !== null) {
    return ['TICKET_INVALID', 'TICKETS_FULL', 'BRIDGE_AUTH_UNAVAILABLE', 'RATE_LIMITED', 'LIMIT_TOTAL',
      'LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'PONG_TIMEOUT', 'CLIENT_STALLED'].includes(code);
  }
  return info.code === 1006 || info.code === 1005 || info.code === 1013;
}

export class Connection {
  readonly #ev: ConnectionEvents;
  #target: Target | null = null;
  #creds: Credentials | null = null;
  #username = '';
  #ws: WebSocket | null = null;
  #kind: SocketKind = 'login';
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
  /** The resumable session (null: none, or resume is off on the bridge). */
  #session: Resumable | null = null;
  /** The sessionId of the current (or last) session. */
  #sessionId: string | null = null;
  /** The outage being bridged by resume attempts, if any. */
  #cycle: ResumeCycle | null = null;
  /** Output bytes of this session handed to the terminal (the resume position). */
  #position = 0;
  /** Output position up to which xterm.js has parsed, valid when `#parsedEpoch === #epoch`. */
  #parsed = 0;
  /** Bumped whenever positions restart (a new session, a reset after lost output, a restore). */
  #epoch = 0;
  #parsedEpoch = 0;
  #resumes = 0;
  /** Shown once in the terminal of the next new login (a refused resume). */
  #note: string | null = null;

  constructor(events: ConnectionEvents) {
    this.#ev = events;
    window.addEventListener('online', () => {
      if (this.#state !== 'reconnecting') return;
      if (this.#cycle !== null) {
        this.#openResume();
      } else {
        this.#open();
      }
    });
  }

  get state(): ConnState { return this.#state; }
  get bytesAcked(): number { return this.#flow.acked; }
  get bytesReceived(): number { return this.#flow.received; }
  /** Output bytes of the current session handed to the terminal. */
  get position(): number { return this.#position; }
  /** Output bytes of the current session xterm.js has parsed; null until a reset or restore is parsed. */
  get parsedPosition(): number | null { return this.#parsedEpoch === this.#epoch ? this.#parsed : null; }
  get sessionId(): string | null { return this.#sessionId; }
  /** Successful resumes on this page. */
  get resumeCount(): number { return this.#resumes; }
  /** Whether Reconnect can log in again (credentials are in memory: not after a reload). */
  get canReconnect(): boolean { return (this.#target !== null && this.#creds !== null) || this.#cycle !== null; }

  /** The target of the current (or last) session. */
  get target(): Target | null { return this.#target; }
  /** A session is open on a live socket (control messages such as `share` can be sent). */
  get live(): boolean { return this.#state === 'connected' && this.#wasReady && this.#started; }

  /**
   * Ask for a view-only link (docs/protocol.md#sharing), with the owner's screen as serialized
   * terminal data (`snapshot`, at most 48 KiB; the caller checks). False when no session is live.
   */
  share(snapshot: string | null): boolean {
    if (!this.live) return false;
    return this.#sendJson(snapshot === null ? { type: 'share' } : { type: 'share', snapshot });
  }

  /** End one link, or (without `linkId`) every link of this session; their viewers are cut. */
  revokeShare(linkId?: string): boolean {
    if (!this.live) return false;
    return this.#sendJson(linkId === undefined ? { type: 'share-revoke' } : { type: 'share-revoke', linkId });
  }

  /** The resumable session to keep across a reload, or null. */
  resumeState(): ResumeState | null {
    const s = this.#session;
    const target = this.#target;
    if (s === null || target === null) return null;
    return { token: s.token, sessionId: s.sessionId, graceMs: s.graceMs, target, username: this.#username, droppedAt: this.#cycle?.droppedAt ?? null };
  }

  /** Gateway authentication: fetch a ticket before every WebSocket (null: none needed). */
  useTickets(source: TicketSource | null): void {
    this.#tickets = source;
  }

  /** A new login from the form. */
  start(target: Target, creds: Credentials): void {
    this.#target = target;
    this.#creds = creds;
    this.#username = creds.username;
    this.#hadSession = false;
    this.#attempts = 0;
    this.#note = null;
    this.#endResume();
    this.#open();
  }

  /**
   * Resume a stored session (after a reload): the terminal already shows its screen up to
   * `from.position`. No credentials: a refusal brings the form back.
   */
  resumeFrom(from: ResumeStart): void {
    this.#target = from.target;
    this.#creds = null;
    this.#username = from.username;
    this.#hadSession = false;
    this.#attempts = 0;
    this.#note = null;
    this.#session = { token: from.token, sessionId: from.sessionId, graceMs: from.graceMs };
    this.#sessionId = from.sessionId;
    this.#restartPositions(from.position);
    this.#cycle = { droppedAt: from.since, deadline: from.since + from.graceMs, attempts: 0 };
    this.#openResume();
  }

  /** Manual reconnect: resume now while a resume is pending, else log in again with the same login. */
  reconnect(): void {
    if (this.#cycle !== null) {
      this.#openResume();
      return;
    }
    if (this.#target === null || this.#creds === null) return;
    this.#attempts = 0;
    this.#open();
  }

  /** The user ends the session (or cancels a reconnect). */
  disconnect(): void {
    this.#backoff.cancel();
    this.#endResume();
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

  /** Positions start again at `position` (new session, reset, restore); parsed once the terminal got there. */
  #restartPositions(position: number): void {
    const epoch = ++this.#epoch;
    this.#position = position;
    this.#ev.mark(() => {
      this.#parsedEpoch = epoch;
      this.#parsed = position;
    });
  }

  /** Forget the resumable session (it ended, or a new login replaces it). */
  #endResume(): void {
    this.#cycle = null;
    if (this.#session !== null) {
      this.#session = null;
      this.#ev.resumeChanged();
    }
  }

  /** Reset the per-attempt state and fetch a ticket if needed, then open the socket. */
  #attempt(target: Target, kind: SocketKind): void {
    this.#kind = kind;
    this.#wasReady = false;
    this.#started = false;
    this.#exit = null;
    this.#error = null;
    this.#retryAfter = null;
    this.#lastSize = '';
    const source = this.#tickets;
    if (source === null) {
      this.#openSocket(target, null, kind);
      return;
    }
    // A new ticket for every attempt: tickets are single use and short-lived.
    const abort = new AbortController();
    this.#ticketAbort = abort;
    const settle = (result: TicketResult): void => {
      if (this.#ticketAbort !== abort) return; // abandoned (Disconnect, a newer attempt)
      this.#ticketAbort = null;
      if (result.ok) {
        this.#openSocket(target, result.ticket, kind);
        return;
      }
      const refusal = refusalOf(result);
      this.#error = refusal.error;
      this.#retryAfter = result.retryAfter;
      this.#closed({ code: refusal.code, reason: refusal.reason });
    };
    source(target, abort.signal).then(settle, () => settle({ ok: false, status: 0, code: null, message: '', retryAfter: null }));
  }

  /** A new login (first connect, automatic retry, Reconnect). */
  #open(): void {
    const target = this.#target;
    if (target === null) return;
    this.#backoff.cancel();
    this.#detach()?.close(1000, 'client closed');
    if (this.#attempts > 0) this.#setState('reconnecting', `reconnecting (attempt ${this.#attempts} of ${MAX_RETRIES})`);
    else this.#setState('connecting', 'connecting');
    this.#attempt(target, 'login');
  }

  /** One resume attempt (never while another one is in flight: that one might already hold the session). */
  #openResume(): void {
    const target = this.#target;
    if (target === null || this.#session === null || this.#cycle === null) return;
    if (this.#ws !== null || this.#ticketAbort !== null) return;
    this.#backoff.cancel();
    this.#setState('reconnecting', 'reconnecting…');
    this.#attempt(target, 'resume');
  }

  #openSocket(target: Target, ticket: string | null, kind: SocketKind): void {
    const session = this.#session;
    const from = this.#position;
    const resume = kind === 'resume' && session !== null ? { token: session.token, position: from } : null;
    let ws: WebSocket;
    try {
      ws = new WebSocket(gatewayUrl(target, ticket, resume), SUBPROTOCOL);
    } catch {
      this.#closed({ code: 1006, reason: '' });
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.#ws = ws;
    this.#flow = new AckFlow((bytes) => this.#ws === ws && this.#sendJson({ type: 'ack', bytes }));
    const flow = this.#flow;
    let fresh = kind === 'login';
    const begin = (): void => {
      if (!fresh) return;
      fresh = false;
      const note = this.#note;
      this.#note = null;
      this.#ev.sessionStart(note);
    };
    ws.onopen = () => {
      if (this.#ws !== ws) return;
      if (kind === 'resume') return; // no auth: the bridge speaks first (`resumed`)
      const size = this.#ev.size();
      const creds = this.#creds;
      if (creds === null) return;
      this.#started = this.#sendJson(authMessage(creds, size));
      this.#lastSize = `${size.cols}x${size.rows}`;
    };
    ws.onmessage = (ev: MessageEvent<unknown>) => {
      if (this.#ws !== ws) return;
      if (ev.data instanceof ArrayBuffer) {
        // Output before `resumed` would have no known position: the protocol never sends it.
        if (kind === 'resume' && !this.#wasReady) return;
        const bytes = new Uint8Array(ev.data);
        flow.arrived(bytes.length);
        begin();
        const epoch = this.#epoch;
        const end = this.#position + bytes.length;
        this.#position = end;
        this.#ev.output(bytes, () => {
          flow.rendered(bytes.length);
          if (epoch === this.#parsedEpoch) this.#parsed = end;
        });
      } else if (typeof ev.data === 'string') {
        this.#control(ev.data, begin, ws, kind, from);
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

  #control(text: string, begin: () => void, ws: WebSocket, kind: SocketKind, from: number): void {
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
        if (kind !== 'login' || this.#wasReady) break;
        begin();
        this.#wasReady = true;
        this.#hadSession = true;
        this.#attempts = 0;
        this.#cycle = null;
        this.#sessionId = m.sessionId;
        this.#restartPositions(0);
        this.#session = m.resume === null ? null : { token: m.resume.token, sessionId: m.sessionId, graceMs: m.resume.graceMs };
        this.#setState('connected', 'connected');
        this.#startPing();
        this.#ev.ready('new');
        this.#ev.resumeChanged();
        break;
      case 'resumed': {
        if (kind !== 'resume' || this.#wasReady || this.#session === null) break;
        if (m.lost > 0 || m.position !== from) {
          // A gap (the bridge's buffer overflowed while we were away): start the screen over.
          this.#ev.lostOutput(m.lost > 0 ? m.lost : Math.abs(m.position - from));
          this.#restartPositions(m.position);
        }
        const sessionId = m.sessionId === '' ? this.#session.sessionId : m.sessionId;
        this.#sessionId = sessionId;
        this.#session = m.resume === null ? null : { token: m.resume.token, sessionId, graceMs: m.resume.graceMs };
        this.#wasReady = true;
        this.#hadSession = true;
        this.#attempts = 0;
        this.#cycle = null;
        this.#resumes++;
        this.#started = true;
        this.#lastSize = '';
        const size = this.#ev.size();
        this.resize(size.cols, size.rows);
        this.#setState('connected', 'connected');
        this.#startPing();
        this.#ev.ready('resumed');
        this.#ev.resumeChanged();
        break;
      }
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
      case 'shared':
        if (this.#wasReady) this.#ev.shared(m);
        break;
      case 'share-refused':
        if (this.#wasReady) this.#ev.shareRefused(m.code, m.message);
        break;
      case 'viewers':
        if (this.#wasReady) this.#ev.viewers(m.viewers);
        break;
      default:
        break;
    }
  }

  #closed(close: { code: number; reason: string }): void {
    const kind = this.#kind;
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
    const normalEnd = this.#exit !== null || (close.code === 1000 && this.#error === null);
    if (normalEnd || code === 'SESSION_TAKEN_OVER' || close.code === 4008 || code === 'RESTARTING' || close.code === 1012) {
      // Over for good: the shell ended, another tab or window took the session, or the gateway restarts.
      this.#endResume();
      this.#final(info, code);
      return;
    }
    if (kind === 'resume' && !this.#wasReady) {
      this.#resumeAttemptFailed(info, code);
      return;
    }
    if (this.#session !== null && this.#wasReady && isDrop(info)) {
      // The bridge keeps the session for graceMs: pick it up again from where the terminal is.
      const now = Date.now();
      this.#cycle = { droppedAt: now, deadline: now + this.#session.graceMs, attempts: 0 };
      this.#ev.resumeChanged();
      this.#ev.ended({ kind: 'retrying', message: describeClose(info), hadSession: true, wasReady: true, code, resuming: true });
      this.#openResume();
      return;
    }
    this.#endResume();
    this.#final(info, code);
  }

  /** The existing policy for a lost or ended session: an automatic retry (new login) or the end. */
  #final(info: CloseInfo, code: string | null): void {
    const end = decideEnding({ info, exit: this.#exit, hadSession: this.#hadSession && this.#creds !== null, attempts: this.#attempts });
    if (end.kind === 'retry') {
      this.#scheduleRetry(end.message, code, info.retryAfter ?? 0);
      return;
    }
    this.#setState('closed', end.kind === 'exit' ? end.status : 'closed');
    this.#ev.ended({ kind: end.kind, message: end.message, hadSession: this.#hadSession, wasReady: this.#wasReady, code });
  }

  #resumeAttemptFailed(info: CloseInfo, code: string | null): void {
    const cycle = this.#cycle;
    if (cycle === null) {
      this.#endResume();
      this.#final(info, code);
      return;
    }
    if (isCredentialProblem(code)) {
      // The gateway wants a (new) credential: the form is the way on, nothing is retried.
      this.#endResume();
      this.#setState('closed', 'closed');
      this.#ev.ended({ kind: 'error', message: describeClose(info), hadSession: this.#hadSession, wasReady: false, code });
      return;
    }
    if (!resumeRetryable(info)) {
      const why = describeClose(info);
      this.#resumeRefused(/could not be resumed/.test(why) ? why : `The session could not be resumed. ${why}`, code);
      return;
    }
    if (Date.now() >= cycle.deadline) {
      this.#resumeRefused('The session could not be resumed in time (the gateway keeps it only for a while).', 'RESUME_EXPIRED');
      return;
    }
    this.#scheduleResume(cycle, info.retryAfter ?? 0);
  }

  /** The next attempt: 1 s, 2 s, 4 s ... 30 s (or the Retry-After), never much past the deadline. */
  #scheduleResume(cycle: ResumeCycle, retryAfter: number): void {
    const left = Math.max(1, Math.ceil((cycle.deadline - Date.now()) / 1000));
    cycle.attempts++;
    const delay = Math.min(Math.max(retryDelay(cycle.attempts), Math.min(retryAfter, MAX_RETRY_AFTER_S)), left);
    this.#backoff.schedule(delay, (s) => this.#setState('reconnecting', `reconnecting in ${s}s`), () => this.#openResume());
  }

  /** The bridge will not give the session back: log in again if we can, else say so. */
  #resumeRefused(message: string, code: string | null): void {
    this.#backoff.cancel();
    this.#endResume();
    if (this.#target !== null && this.#creds !== null) {
      this.#note = NEW_SESSION_NOTE;
      this.#attempts = 0;
      this.#hadSession = true;
      this.#scheduleRetry(`${message} Logging in again for a new session.`, code, 0);
      return;
    }
    this.#setState('closed', 'closed');
    this.#ev.ended({ kind: 'error', message: `${message} Log in to start a new session.`, hadSession: false, wasReady: false, code });
  }

  #scheduleRetry(message: string, code: string | null, retryAfter: number): void {
    this.#attempts++;
    const delay = Math.max(retryDelay(this.#attempts), Math.min(retryAfter, MAX_RETRY_AFTER_S));
    this.#backoff.schedule(delay, (left) => this.#setState('reconnecting', `reconnecting in ${left}s`), () => this.#open());
    this.#ev.ended({ kind: 'retrying', message, hadSession: true, wasReady: this.#wasReady, retryInSeconds: delay, attempt: this.#attempts, code });
  }

  #startPing(): void {
    this.#keepalive.start((msg) => this.#sendJson(msg), () => {
      // The network died without a close: give up on this socket now. A resumable session's
      // socket is left without a close frame (the bridge detaches it, or the resume takes it over).
      const ws = this.#ws;
      const keep = this.#session !== null;
      this.#closed({ code: 1006, reason: '' });
      if (!keep) ws?.close();
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

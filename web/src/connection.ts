/**
 * The v1 WebSocket client of the terminal (`webssh-bridge.v1`, docs/protocol.md): auth with the
 * real terminal size, render-aware acks (flow.ts), latency pings, host-key and keyboard-interactive
 * questions (each answered at most once, on the socket that asked), sharing, resume and
 * reconnection. Credentials are kept in this object only: never in storage or the URL.
 *
 * Each attempt is one GatewaySocket (the ticket when the gateway wants one, then the socket); the
 * phase changes only through the state table (client-state.ts); what a close leads to (the end, a
 * new login after backoff, a resume) is decided by reconnect-rules.ts; the resumable session and
 * the output positions are kept by resumable.ts and positions.ts.
 *
 * Resume (docs/protocol.md#resume): `auth` asks for a resumable session and `ready` carries a
 * token. A resume opens `ws/<host>/<port>?resume=TOKEN&position=N`, N being the output bytes
 * handed to the terminal, and sends nothing; `resumed` says where the output starts again (`lost`
 * > 0: the terminal is reset first) and carries the next token. `resumeFrom` starts from a record
 * stored before a reload.
 */
import { Backoff, MAX_RETRIES } from './backoff.js';
import { AckFlow } from './flow.js';
import { acceptsInput, ClientStateMachine, connStateOf, Phase } from './client-state.js';
import type { CloseInfo } from './errors.js';
import { GatewaySocket, SUBPROTOCOL, type SocketClose, type TicketSource } from './gateway-socket.js';
import { InputJournal } from './input-journal.js';
import { Keepalive } from './keepalive.js';
import type { ConnectionEvents } from './connection-events.js';
import { authMessage, type ClientControl, type ServerMessage } from './messages.js';
import type { PasteSink } from './paste.js';
import { OutputPositions } from './positions.js';
import { decideClose, type CloseStep } from './reconnect-rules.js';
import { ResumableSession, type ResumeStart, type ResumeState } from './resumable.js';
import type { ConnState } from './status.js';
import { gatewayUrl, targetLabel, type Credentials, type Target } from './target.js';

/** One login: from `start()`, or from `resumeFrom()` without credentials, until the next. */
interface Login {
  readonly target: Target;
  /** null after a reload (`resumeFrom`): a refused resume brings the form back. */
  readonly creds: Credentials | null;
  readonly username: string;
  /** A session of this login reached `ready` (the terminal holds its output). */
  hadSession: boolean;
  /** Automatic new logins made in this outage. */
  attempts: number;
  /** Shown once in the terminal of the next new session (after a refused resume). */
  note: string | null;
}

export class Connection {
  readonly #ev: ConnectionEvents;
  readonly #machine = new ClientStateMachine();
  readonly #backoff = new Backoff();
  readonly #keepalive = new Keepalive();
  readonly #positions = new OutputPositions();
  readonly #resume = new ResumableSession();
  /** Input sent and held, for a resume that must deliver it once (input-journal.ts). */
  readonly #journal = new InputJournal();
  #login: Login | null = null;
  #tickets: TicketSource | null = null;
  /** The current attempt's socket (null between attempts). */
  #sock: GatewaySocket | null = null;
  /** Acks of the current (or last) socket. */
  #flow: AckFlow = new AckFlow(() => false);
  #lastSize = '';
  /** The socket `disconnect` closed, until it is closed. */
  #closing: Promise<void> = Promise.resolve();

  constructor(events: ConnectionEvents) {
    this.#ev = events;
    window.addEventListener('online', () => {
      if (this.state !== 'reconnecting') return;
      if (this.#resume.outage !== null) this.#openResume();
      else this.#open();
    });
  }

  get state(): ConnState { return connStateOf(this.#machine.phase, (this.#login?.attempts ?? 0) > 0); }
  get bytesAcked(): number { return this.#flow.acked; }
  get bytesReceived(): number { return this.#flow.received; }
  /** Output bytes of the current session handed to the terminal. */
  get position(): number { return this.#positions.position; }
  /** Output bytes of the current session xterm.js has parsed; null until a reset or restore is parsed. */
  get parsedPosition(): number | null { return this.#positions.parsed; }
  get sessionId(): string | null { return this.#resume.sessionId; }
  /** Successful resumes on this page. */
  get resumeCount(): number { return this.#resume.resumes; }
  /** Whether Reconnect can log in again (credentials are in memory: not after a reload). */
  get canReconnect(): boolean { return (this.#login?.creds ?? null) !== null || this.#resume.outage !== null; }

  /** Resolves once the socket `disconnect` closed is closed (the gateway has the close frame). */
  socketClosed(): Promise<void> {
    return this.#closing;
  }

  /** The target of the current (or last) session. */
  get target(): Target | null { return this.#login?.target ?? null; }
  /** A session is open on a live socket (control messages such as `share` can be sent). */
  get live(): boolean { return this.#machine.phase === Phase.READY && this.#sock !== null; }

  /** A control message for the live session (sharing, presence); false when none is live. */
  control(msg: ClientControl): boolean {
    return this.live && this.#sendJson(msg);
  }

  /** The resumable session to keep across a reload, or null. */
  resumeState(): ResumeState | null {
    const login = this.#login;
    return login === null ? null : this.#resume.state(login.target, login.username);
  }

  /** Gateway authentication: fetch a ticket before every WebSocket (null: none needed). */
  useTickets(source: TicketSource | null): void {
    this.#tickets = source;
  }

  /** A new login from the form. */
  start(target: Target, creds: Credentials): void {
    this.#login = { target, creds, username: creds.username, hadSession: false, attempts: 0, note: null };
    this.#endResume();
    this.#open();
  }

  /**
   * Resume a stored session (after a reload), on a page that has not connected yet: the terminal
   * already shows its screen up to `from.position`. No credentials: a refusal brings the form back.
   */
  resumeFrom(from: ResumeStart): void {
    if (this.#machine.phase !== Phase.IDLE) return;
    this.#login = { target: from.target, creds: null, username: from.username, hadSession: false, attempts: 0, note: null };
    this.#resume.restore(from);
    this.#positions.restart(from.position, (done) => this.#ev.mark(done));
    this.#openResume();
  }

  /** Manual reconnect: resume now while a resume is pending, else log in again with the same login. */
  reconnect(): void {
    if (this.#resume.outage !== null) {
      this.#openResume();
      return;
    }
    const login = this.#login;
    if (login === null || login.creds === null) return;
    login.attempts = 0;
    this.#open();
  }

  /** The user ends the session (or cancels a reconnect). */
  disconnect(): void {
    this.#backoff.cancel();
    this.#endResume();
    const sock = this.#detach();
    sock?.close(1000, 'client closed');
    this.#closing = sock?.gone() ?? Promise.resolve();
    this.#enter(Phase.CLOSED, 'closed');
    this.#ev.ended({ kind: 'user', message: 'Disconnected.', hadSession: this.#login?.hadSession ?? false, wasReady: this.#machine.socketReady, code: null });
  }

  /** Keystrokes and other terminal input: sent at once, never queued behind output; held while a session is being resumed. */
  input(bytes: Uint8Array): void {
    if (this.#inputOpen()) this.#sendInput(bytes);
    else if (this.#resume.outage !== null) this.#journal.hold(bytes);
  }

  resize(cols: number, rows: number): void {
    const key = `${cols}x${rows}`;
    if (key === this.#lastSize || !this.#inputOpen()) return;
    if (this.#sendJson({ type: 'resize', cols, rows })) this.#lastSize = key;
  }

  /** A paste target bound to the current socket: a reconnect mid-paste stops the paste. */
  pasteSink(): PasteSink {
    const sock = this.#sock;
    const live = (): boolean => sock !== null && sock === this.#sock && sock.isOpen && this.#inputOpen();
    return {
      send: (bytes) => live() && this.#sendInput(bytes),
      buffered: () => (sock !== null && live() ? sock.bufferedAmount : 0),
    };
  }

  /** Forget the resumable session (it ended, or a new login replaces it), and say what typed input it leaves undelivered. */
  #endResume(): void {
    this.#lostInput(this.#journal.reset());
    if (this.#resume.end()) this.#ev.resumeChanged();
  }

  #lostInput(bytes: number): void {
    if (bytes > 0) this.#ev.lostInput(bytes);
  }

  #sendInput(bytes: Uint8Array): boolean {
    if (this.#sock?.send(bytes) !== true) return false;
    this.#journal.sent(bytes);
    return true;
  }

  /** A new login (first connect, automatic retry, Reconnect). */
  #open(): void {
    const login = this.#login;
    if (login === null) return;
    this.#backoff.cancel();
    this.#detach()?.close(1000, 'client closed');
    this.#enter(Phase.OPENING, login.attempts > 0 ? `reconnecting (attempt ${login.attempts} of ${MAX_RETRIES})` : 'connecting');
    this.#attempt(login, false);
  }

  /** One resume attempt (never while another one is in flight: that one might already hold the session). */
  #openResume(): void {
    const login = this.#login;
    if (login === null || this.#resume.token === null || this.#resume.outage === null || this.#sock !== null) return;
    this.#backoff.cancel();
    this.#enter(Phase.RESUMING, 'connection lost · reconnecting…');
    this.#attempt(login, true);
  }

  /** One socket: a login, or (`resume`) a resume from the current position. */
  #attempt(login: Login, resume: boolean): void {
    this.#lastSize = '';
    let from = 0;
    let flow = this.#flow;
    let fresh = !resume;
    const begin = (): void => {
      if (!fresh) return;
      fresh = false;
      const note = login.note;
      login.note = null;
      this.#ev.sessionStart(note);
    };
    const sock = new GatewaySocket({
      target: login.target,
      tickets: this.#tickets,
      protocols: SUBPROTOCOL,
      url: (ticket) => {
        const token = this.#resume.token;
        from = this.#positions.position;
        // A resume attaches to the session, so only a new login names the route's jump hosts.
        return gatewayUrl(login.target, ticket, resume && token !== null ? { token, position: from } : { jump: login.creds?.jump ?? [] });
      },
    }, {
      made: () => {
        flow = new AckFlow((bytes) => sock.sendJson({ type: 'ack', bytes }));
        this.#flow = flow;
      },
      open: () => {
        if (!resume) this.#sendAuth(login); // a resume sends nothing: the bridge speaks first (`resumed`)
      },
      output: (data) => {
        // Output before `resumed` would have no known position: the protocol never sends it.
        if (this.#machine.phase === Phase.RESUMING) return;
        this.#keepalive.heard();
        const bytes = new Uint8Array(data);
        flow.arrived(bytes.length);
        begin();
        const parsed = this.#positions.advance(bytes.length);
        this.#ev.output(bytes, () => {
          flow.rendered(bytes.length);
          parsed();
        });
      },
      control: (m) => this.#control(m, { login, sock, begin, from }),
      closed: (close) => this.#closed(close),
    });
    this.#sock = sock;
    sock.start();
  }

  #sendAuth(login: Login): void {
    const size = this.#ev.size();
    if (login.creds === null) return;
    if (this.#sendJson(authMessage(login.creds, size))) this.#enter(Phase.AUTHENTICATING, 'logging in');
    this.#lastSize = `${size.cols}x${size.rows}`;
  }

  #control(m: ServerMessage, at: { login: Login; sock: GatewaySocket; begin: () => void; from: number }): void {
    const { login } = at;
    const phase = this.#machine.phase;
    this.#keepalive.heard();
    switch (m.type) {
      case 'hostkey':
        this.#ev.hostKey(m, at.sock.replyOnce((accept: boolean) => ({ type: 'hostkey-reply', accept })));
        break;
      case 'prompt':
        this.#ev.authPrompt(m, at.sock.replyOnce((responses: string[]) => ({ type: 'prompt-reply', responses })));
        break;
      case 'banner':
        at.begin();
        this.#ev.banner(m.message);
        break;
      case 'ready':
        if (phase !== Phase.OPENING && phase !== Phase.AUTHENTICATING) break;
        at.begin();
        this.#resume.began(m.sessionId, m.resume);
        this.#positions.restart(0, (done) => this.#ev.mark(done));
        this.#to(Phase.READY);
        this.#sessionUp(login, 'new');
        break;
      case 'resumed': {
        if (phase !== Phase.RESUMING || this.#resume.token === null) break;
        if (m.lost > 0 || m.position !== at.from) {
          // A gap (the bridge's buffer overflowed while we were away): start the screen over.
          this.#ev.lostOutput(m.lost > 0 ? m.lost : Math.abs(m.position - at.from));
          this.#positions.restart(m.position, (done) => this.#ev.mark(done));
        }
        this.#resume.resumed(m.sessionId, m.resume);
        this.#to(Phase.READY); // input and resize go out from here on
        this.#lastSize = '';
        const size = this.#ev.size();
        this.resize(size.cols, size.rows);
        this.#lostInput(this.#journal.resumed(m.inputPosition, (bytes) => this.#sendInput(bytes)));
        this.#sessionUp(login, 'resumed');
        break;
      }
      case 'pong': {
        const rtt = this.#keepalive.pong(m.t);
        if (rtt !== null && phase === Phase.READY) this.#ev.latency(rtt);
        break;
      }
      case 'idle':
        if (phase === Phase.READY) this.#ev.idle(m.closesInMs);
        break;
      case 'shared':
        if (phase === Phase.READY) this.#ev.shared(m);
        break;
      case 'share-refused':
        if (phase === Phase.READY) this.#ev.shareRefused(m.code, m.message);
        break;
      case 'viewers':
        if (phase === Phase.READY) this.#ev.viewers(m.viewers);
        break;
      default: // files-token, files-refused: the Files panel's (files-setup.ts)
        if (phase === Phase.READY) this.#ev.other(m);
    }
  }

  /** READY after `ready` or `resumed`: the login has a session, no retry is counting, pings start. */
  #sessionUp(login: Login, kind: 'new' | 'resumed'): void {
    login.hadSession = true;
    login.attempts = 0;
    this.#show('connected');
    this.#startPing();
    this.#ev.ready(kind);
    this.#ev.resumeChanged();
  }

  #closed(close: SocketClose): void {
    const phase = this.#machine.phase;
    const login = this.#login;
    this.#detach();
    const info: CloseInfo = {
      code: close.code, reason: close.reason, error: close.error, target: login === null ? '' : targetLabel(login.target),
      wasReady: this.#machine.socketReady, method: login?.creds?.method ?? 'password',
      ...(close.retryAfter === null ? {} : { retryAfter: close.retryAfter }),
    };
    this.#apply(decideClose({
      info, exit: close.exit, resuming: phase === Phase.RESUMING, graceMs: this.#resume.graceMs, cycle: this.#resume.outage,
      hadSession: login?.hadSession ?? false, canLogIn: (login?.creds ?? null) !== null, attempts: login?.attempts ?? 0, now: Date.now(),
    }));
  }

  /** Carry out what reconnect-rules.ts decided for a close. */
  #apply(step: CloseStep): void {
    switch (step.kind) {
      case 'resume':
        this.#resume.dropped(step.droppedAt, step.deadline);
        this.#ev.resumeChanged();
        this.#ev.ended(step.end);
        this.#openResume();
        return;
      case 'resume-later': {
        const outage = this.#resume.outage;
        if (outage !== null) outage.attempts = step.attempt;
        this.#wait(Phase.RESUME_WAIT, step.delay, () => this.#openResume());
        return;
      }
      case 'retry': {
        this.#endResume();
        const login = this.#login;
        if (login === null) return;
        if (step.note !== null) login.note = step.note;
        login.hadSession = true;
        login.attempts = step.attempt;
        this.#wait(Phase.RETRY_WAIT, step.delay, () => this.#open());
        this.#ev.ended(step.end);
        return;
      }
      case 'end':
        this.#endResume();
        this.#enter(Phase.CLOSED, step.status);
        this.#ev.ended(step.end);
        return;
    }
  }

  /** A backoff phase: `reconnecting in Ns` now and every second, then `fire`. */
  #wait(phase: Phase, seconds: number, fire: () => void): void {
    this.#to(phase);
    this.#backoff.schedule(seconds, (left) => this.#show(`reconnecting in ${left}s`), fire);
  }

  #startPing(): void {
    this.#keepalive.start((msg) => this.#sendJson(msg), () => {
      // The network died without a close: give up on this socket now. A resumable session's
      // socket is left without a close frame (the bridge detaches it, or the resume takes it over).
      const sock = this.#sock;
      const keep = this.#resume.token !== null;
      sock?.giveUp();
      if (!keep) sock?.close();
    });
  }

  /** Forget the current socket (its late events are ignored) and any pending ticket request; return the socket. */
  #detach(): GatewaySocket | null {
    const sock = this.#sock;
    if (sock !== null) {
      sock.detach();
      if (sock.made) {
        this.#ev.hostKeyDone();
        this.#ev.authPromptDone();
      }
    }
    this.#sock = null;
    this.#keepalive.stop();
    this.#flow.close();
    return sock;
  }

  /** Keystrokes, pastes and resizes may go out on the current socket. */
  #inputOpen(): boolean {
    return this.#sock !== null && acceptsInput(this.#machine.phase);
  }

  #sendJson(msg: object): boolean {
    return this.#sock?.sendJson(msg) ?? false;
  }

  /** The state table allows every step this class takes; a refusal is a bug here, not a condition. */
  #to(phase: Phase): void {
    const from = this.#machine.phase;
    if (!this.#machine.transitionTo(phase)) throw new Error(`connection: ${from} -> ${phase} is not in the state table`);
  }

  #show(text: string): void {
    this.#ev.state(this.state, text);
  }

  #enter(phase: Phase, text: string): void {
    this.#to(phase);
    this.#show(text);
  }
}

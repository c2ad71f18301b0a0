/**
 * One WebSocket <-> one SSH shell. The state machine decides every step; `close()` is the one
 * idempotent exit path: it cancels whatever phase is running, closes the channel, then the SSH
 * connection, then the WebSocket with the catalogue close code, and reports its end exactly once.
 *
 * Login: the session hands the credentials to its SshLink (src/ssh/link.ts; through jump hosts:
 * ./open-link.ts), which runs the login and the host key policy; its questions to the user (an
 * unknown host key, a keyboard-interactive round) go through LoginQuestions, which routes the
 * client's answers back. Anything else the client sends while connecting is queued for the shell.
 *
 * Credentials live only until connectSsh has taken them (the Credentials object is not kept).
 *
 * Recording and sharing subscribe to the output through pump taps (./recording-tap.ts,
 * src/share/share-control.ts); file transfer on the same link is ./session-files.ts.
 *
 * Resume (docs/protocol.md#resume): a resumable session keeps an OutputLog fed by the Pump. A
 * socket lost without the client's close detaches it (ACTIVE -> DETACHED: the shell runs on, the
 * grace timer starts); `resume()` binds a new socket, rotates the token, sends `resumed` and
 * replays from the client's position, taking over (4008) a socket that still looks open.
 */
import { mayWriteFiles, userAllowed, type Identity } from '../auth/identity.js';
import type { WebSocket, RawData } from 'ws';
import type { ClientChannel } from 'ssh2';
import { BridgeError, closeReason, errorMessage, ERRORS, isBridgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { describeRoute, type RouteDescription } from '../policy/route-names.js';
import type { ResolvedTarget } from '../policy/target.js';
import type { AuthMethod, ClientMessage, Credentials, ErrorNotice, ServerControl } from '../protocol/types.js';
import { mapSshError } from '../ssh/errors.js';
import type { SshLink } from '../ssh/link.js';
import { openSessionLink } from './open-link.js';
import { OutputLog } from '../transport/output-log.js';
import { ShareControl } from '../share/share-control.js';
import { takeOnce } from '../util/take-once.js';
import { closeThenCut } from '../util/ws-close.js';
import { Activity, type IdleClock } from './activity.js';
import { LoginQuestions } from './login-questions.js';
import { Pump } from './pump.js';
import { PendingInput } from './pending-input.js';
import { RecordingTap } from './recording-tap.js';
import { SessionFiles } from './session-files.js';
import { SocketBinding } from './socket-binding.js';
import type { SessionInit, SessionSummary } from './session-init.js';
import { SessionState, SessionStateMachine } from './state.js';

/** How long a close handshake may take before the socket is cut. */
const CLOSE_GRACE_MS = 3000;
const DEFAULT_TERM = 'xterm-256color';

export class BridgeSession {
  readonly id: string;
  readonly target: ResolvedTarget;
  readonly clientIp: string;
  readonly createdAt = Date.now();
  username: string | undefined;
  /** Its jump hosts as `user@host:port` (src/policy/route-names.ts): the users are known once the `auth` message came. */
  route: RouteDescription;
  bytesToSsh = 0;
  bytesToClient = 0;

  readonly #init: SessionInit;
  readonly #log: Logger;
  /** The current socket and its listeners: the upgrade's, then each resume's. */
  #socket: SocketBinding;
  /** Set when the client asked for resume and the bridge allows it (v1, resume-grace > 0). */
  #output: OutputLog | null = null;
  #detachTimer: NodeJS.Timeout | undefined;
  /** Share links and viewers (the hub is made by the first `share`). */
  readonly #share: ShareControl;
  readonly files: SessionFiles;
  /** The terminal size as last set (viewers and the shared screen follow it). */
  #size = { cols: 80, rows: 24 };
  readonly #sm: SessionStateMachine;
  readonly #abort = new AbortController();
  readonly #pending = new PendingInput();
  #authTimer: NodeJS.Timeout | undefined;
  readonly #questions: LoginQuestions;
  /** Its last activity and idle warning (src/policy/idle.ts: the reaper reads and warns). */
  readonly activity: IdleClock;
  readonly #activity: Activity;
  #link: SshLink | undefined;
  #channel: ClientChannel | undefined;
  #pump: Pump | undefined;
  #recording: RecordingTap | undefined;
  /** True while input queued during the login is replayed: forwarded, not recorded. */
  #replaying = false;
  #seedBanner = '';
  /** Input bytes taken from the client (queued during the login included): `resumed` tells the client. */
  #inputPosition = 0;
  #exit: { status: number | null; signal: string | null } | undefined;
  #endCode: ErrorCode = 'INTERNAL';
  #reachedActive = false;
  #ended = false;
  #closed: Promise<void> | undefined;
  #resolveClosed: (() => void) | undefined;

  constructor(init: SessionInit) {
    this.#init = init;
    this.id = init.id;
    this.target = init.target;
    this.clientIp = init.clientIp;
    this.route = describeRoute(init.jump, null);
    this.#log = init.logger.child({ session: init.id });
    this.#sm = new SessionStateMachine((from, to, ms) => {
      this.#log.debug({ from, to, ms: Math.round(ms) }, 'state transition');
      init.hooks.observeTransition(from, to, ms);
    });
    const { config } = init;
    const send = (msg: ServerControl): void => this.#control(msg);
    this.activity = this.#activity = new Activity(send);
    this.#questions = new LoginQuestions({ canAsk: init.codec.caps.questions, send, hostKeyWaitMs: config.wsAuthTimeoutMs, target: init.target, logger: this.#log });
    this.#share = new ShareControl({
      sessionId: init.id, owner: init.share.owner, keyring: init.share.keyring, config, logger: this.#log, send,
      tap: (fn) => this.#pump?.tap(fn) ?? (() => undefined),
    });
    this.files = new SessionFiles({ sessionId: init.id, owner: init.share.owner, keyring: init.share.keyring, config, mayWrite: mayWriteFiles(init.identity, config.filesUploadSubjects), link: () => this.#link, ended: this.#abort.signal, send, mark: (text) => this.#recording?.marker(text), logger: this.#log });
    this.#socket = this.#bind(init.ws);
    this.#authTimer = setTimeout(() => void this.close('CREDENTIALS_TIMEOUT', `none within ${config.wsAuthTimeoutMs} ms`), config.wsAuthTimeoutMs);
  }

  get state(): SessionState {
    return this.#sm.state;
  }

  /** Who opened the session (a resume must come from the same subject). */
  get identity(): Identity {
    return this.#init.identity;
  }

  /** Whether this session can be resumed (it asked for it, and reached the shell). */
  get resumable(): boolean {
    return this.#output !== null;
  }

  /** The current socket: the upgrade's, then each resume's. */
  get #ws(): WebSocket {
    return this.#socket.ws;
  }

  #bind(ws: WebSocket): SocketBinding {
    return new SocketBinding(ws, { message: this.#onMessage, close: this.#onWsClose, error: this.#onWsError, dead: () => this.#terminate('PONG_TIMEOUT') }, this.#init.config);
  }

  /** A snapshot for /stats and debugging; never holds credentials. */
  getStats(): Record<string, unknown> {
    return {
      id: this.id, state: this.#sm.state, protocol: this.#init.codec.name, client_ip: this.clientIp,
      username: this.username ?? null, target: `${this.target.host}:${this.target.port}`, address: this.target.key, route: this.route.hops,
      created_at: new Date(this.createdAt).toISOString(), last_activity: new Date(this.#activity.last).toISOString(),
      bytes_to_ssh: this.bytesToSsh, bytes_to_client: this.bytesToClient, duration_ms: Date.now() - this.createdAt,
      ...(this.#output === null ? {} : { output_position: this.#output.end, resume_buffered: this.#output.size }),
    };
  }

  readonly #onMessage = (data: RawData, isBinary: boolean): void => {
    const buf = data as Buffer;
    try {
      if (this.#sm.state === SessionState.CREATED) this.#begin(this.#init.codec.decodeAuth(buf, isBinary));
      else if (this.#sm.state === SessionState.CONNECTING) this.#connecting(this.#init.codec.decode(buf, isBinary));
      else if (this.#sm.isActive()) this.#handle(this.#init.codec.decode(buf, isBinary));
    } catch (err) {
      void this.close(isBridgeError(err) ? err.code : 'INTERNAL', isBridgeError(err) ? err.detail : undefined);
    }
  };

  /** While connecting: host key and prompt answers go to their waiters, everything else is kept for later. */
  #connecting(msg: ClientMessage): void {
    if (!this.#questions.answer(msg)) this.#pending.push(msg, this.#ws);
  }

  readonly #onWsClose = (code: number): void => {
    // A resumable session outlives a socket that went away without the client's own 1000.
    if (code !== 1000 && this.#detach(`socket closed (${code})`)) return;
    void this.close(this.#endCodeIfClosing() ?? 'CLIENT_CLOSED');
  };

  /**
   * ACTIVE -> DETACHED for a resumable session: let the socket go, keep the shell, start the grace
   * clock. False when the session is not resumable or not ACTIVE (the caller closes instead).
   */
  #detach(why: string): boolean {
    if (this.#output === null || !this.#sm.compareAndTransition(SessionState.ACTIVE, SessionState.DETACHED)) return false;
    this.#socket.release();
    this.#ws.terminate();
    this.#pump?.detach();
    const graceMs = this.#init.config.resumeGraceMs;
    this.#detachTimer = setTimeout(() => void this.close('RESUME_EXPIRED', `not resumed within ${graceMs} ms`), graceMs);
    this.#log.info({ event: 'session_detached', why, grace_ms: graceMs, output_position: this.#output.end }, 'session detached; waiting for a resume');
    return true;
  }

  /**
   * Whether a resume from output `position` can be taken (the manager asks before the upgrade):
   * resumable, attached or detached, and not a position past the output produced.
   */
  canResume(position: number): boolean {
    const output = this.#output;
    return output !== null && (this.#sm.state === SessionState.ACTIVE || this.#sm.state === SessionState.DETACHED) && position <= output.end;
  }

  /**
   * Continue the session on `ws` from output `position` (docs/protocol.md#resume). False when it
   * can no longer be resumed (it ended meanwhile): the caller closes `ws` with RESUME_INVALID.
   */
  resume(ws: WebSocket, position: number): boolean {
    const output = this.#output;
    if (output === null || !this.canResume(position)) return false;
    if (this.#sm.state === SessionState.ACTIVE) this.#takeOver();
    if (!this.#sm.compareAndTransition(SessionState.DETACHED, SessionState.ACTIVE)) return false;
    clearTimeout(this.#detachTimer);
    this.#detachTimer = undefined;
    this.#socket = this.#bind(ws);
    this.#activity.touch();
    const from = Math.max(position, output.start);
    output.release(from);
    const token = this.#init.hooks.issueResumeToken(this);
    this.#control({ type: 'resumed', sessionId: this.id, position: from, lost: from - position, inputPosition: this.#inputPosition, resume: { token, graceMs: this.#init.config.resumeGraceMs } });
    this.#share.tellViewers();
    this.#pump?.attach(ws, from);
    this.#init.hooks.onResumed();
    this.#log.info({ event: 'session_resumed', client_ip: this.clientIp, position: from, lost: from - position }, 'session resumed');
    return true;
  }

  /** A resume arrived while the old socket still looks open: that socket is told and let go. */
  #takeOver(): void {
    const old = this.#ws;
    if (!this.#sm.compareAndTransition(SessionState.ACTIVE, SessionState.DETACHED)) return;
    this.#socket.release();
    this.#pump?.detach();
    this.#control({ type: 'error', code: 'SESSION_TAKEN_OVER', message: errorMessage('SESSION_TAKEN_OVER') });
    closeThenCut(old, ERRORS.SESSION_TAKEN_OVER.close, closeReason('SESSION_TAKEN_OVER'), CLOSE_GRACE_MS);
    this.#log.info({ event: 'session_taken_over' }, 'session taken over by a resume');
  }

  readonly #onWsError = (err: Error & { code?: string }): void => {
    // ws has already sent its own close frame (1009 for size, 1002/1007 for protocol).
    void this.close(err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || err.code === 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH' ? 'FRAME_TOO_BIG' : 'PROTOCOL_ERROR');
  };

  #endCodeIfClosing(): ErrorCode | undefined {
    return this.#sm.isClosed() ? this.#endCode : undefined;
  }

  #handle(msg: ClientMessage): void {
    switch (msg.kind) {
      case 'input':
        this.#activity.touch();
        this.#inputPosition += msg.data.length;
        if (!this.#replaying) this.#recording?.input(msg.data);
        this.#pump?.input(msg.data);
        return;
      case 'resize':
        this.#activity.touch();
        this.#channel?.setWindow(msg.rows, msg.cols, 0, 0);
        this.#recording?.resize(msg.cols, msg.rows);
        this.#size = { cols: msg.cols, rows: msg.rows };
        this.#share.resize(msg.cols, msg.rows);
        return;
      case 'share':
        this.#share.link(msg.ttlMs, msg.snapshot, { username: this.username ?? '', target: `${this.target.host}:${this.target.port}` }, this.#size);
        return;
      case 'share-revoke': return this.#share.revoke(msg.linkId);
      case 'ping': return this.#control({ type: 'pong', payload: msg.payload });
      case 'presence': return this.#activity.touch();
      case 'files': return this.files.offer();
      case 'ignored':
        this.#log.warn({ reason: msg.reason }, 'control message ignored');
        return;
      case 'ack': return this.#pump?.ack(msg.bytes);
      case 'hostkey-reply':
      case 'prompt-reply': // only valid while a question is pending, and questions end before ACTIVE
        void this.close('PROTOCOL_ERROR', `unexpected ${msg.kind}`);
        return;
    }
  }

  /** Viewers watching now. */
  get viewerCount(): number {
    return this.#share.viewerCount;
  }

  /** Output bytes held for the client (Pump.held); 0 before the shell opens and after the end. */
  get bufferedBytes(): number {
    return this.#pump?.held ?? 0;
  }

  /** Why a viewer of share link `linkId` cannot join now, or null. */
  viewerRefusal(linkId: string): ErrorCode | null {
    if (this.#sm.state !== SessionState.ACTIVE && this.#sm.state !== SessionState.DETACHED) return 'SHARE_INVALID';
    return this.#share.refusal(linkId);
  }

  /** A viewer joins (the upgrade path checked viewerRefusal() and holds its admission). */
  addViewer(ws: WebSocket, who: { subject: string; clientIp: string }, linkId: string, release: () => void): boolean {
    return this.viewerRefusal(linkId) === null && this.#share.join(ws, who, linkId, release);
  }

  #control(msg: ServerControl): void {
    const text = this.#init.codec.encode(msg);
    if (text !== null && this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  #begin(creds: Credentials): void {
    if (!this.#sm.transitionTo(SessionState.CONNECTING)) return;
    clearTimeout(this.#authTimer);
    this.username = creds.username;
    this.route = describeRoute(this.#init.jump, creds.jump);
    if (!userAllowed(this.#init.identity, creds.username)) {
      void this.close('USER_DENIED', `${creds.username.slice(0, 64)} for ${this.#init.identity.subject}`);
      return;
    }
    const { auth, ...rest } = creds;
    const takeAuth = takeOnce(auth, () => new BridgeError('INTERNAL', 'credentials already used'));
    void this.#connect(rest, takeAuth).catch(async (err: unknown) => {
      const e = isBridgeError(err) ? err : mapSshError(err as Error, 'handshake');
      if (e.code !== 'SSH_AUTH_FAILED' && e.code !== 'CLIENT_CLOSED') this.#log.info({ err: e.message }, 'ssh setup failed');
      // A refused login is counted towards the ban first, so its error can say what is left.
      const notice = e.code === 'SSH_AUTH_FAILED' ? await this.#init.hooks.onAuthFailure(this) : {};
      void this.close(e.code, e.detail, e.reasonDetail, notice);
    });
  }

  async #connect(creds: Omit<Credentials, 'auth'>, takeAuth: () => AuthMethod): Promise<void> {
    const { config, target, hooks, codec } = this.#init;
    const questions = this.#questions;
    const link = await openSessionLink({
      target, jump: this.#init.jump, hops: creds.jump, username: creds.username, takeAuth, config, hostKeys: this.#init.hostKeys, logger: this.#log, signal: this.#abort.signal,
      questions: { canAsk: questions.canAsk, askHostKey: questions.askHostKey, askPrompt: questions.askPrompt, onBanner: (message) => this.#banner(message) },
      onLost: (err) => void this.close(err.code, err.detail),
    });
    if (this.#sm.isClosed()) {
      // close() ran between 'ready' and this continuation: it could not see the link yet.
      link.destroy();
      return;
    }
    this.#link = link;
    hooks.observeHandshake(link.setupMs);
    const size = this.#pending.takeSize() ?? { cols: creds.cols ?? 80, rows: creds.rows ?? 24 };
    this.#size = size;
    const term = creds.term ?? DEFAULT_TERM;
    const channel = await link.openShell({ term, ...size });
    this.#channel = channel;
    if (!this.#sm.transitionTo(SessionState.ACTIVE)) {
      channel.close();
      return;
    }
    this.#reachedActive = true;
    this.#activity.touch(); // idle time counts from the shell opening, not from the upgrade (a login may take a while)
    if (creds.resume && config.resumeGraceMs > 0 && codec.caps.resume) this.#output = new OutputLog(config.resumeBuffer);
    this.#pump = new Pump(channel, config.connTimeoutMs, {
      onOutput: (n) => {
        this.bytesToClient += n;
        this.#activity.touch();
        hooks.onBytes('to_client', n);
      },
      onInput: (n) => {
        this.bytesToSsh += n;
        hooks.onBytes('to_ssh', n);
      },
      onPause: (direction) => hooks.onPause(direction),
      onStall: () => this.#terminate('CLIENT_STALLED'),
    }, creds.flowControl, this.#output);
    this.#pump.attach(this.#ws);
    channel.on('exit', (status: number | null, signal?: string) => {
      // ssh2 reports "SIGTERM"; the wire carries the SSH protocol's name (RFC 4254: "TERM").
      this.#exit = { status: status ?? null, signal: signal === undefined ? null : signal.replace(/^SIG/, '') };
    });
    channel.on('close', () => this.#shellClosed());
    const pump = this.#pump;
    this.#recording = RecordingTap.start(this.#init.recorder, {
      sessionId: this.id, username: creds.username, host: target.host, port: target.port, route: this.route.hops, clientIp: this.clientIp,
      identity: this.#init.identity, protocol: codec.name, term, cols: size.cols, rows: size.rows,
    }, (fn) => pump.tap(fn), this.#log);
    if (this.#seedBanner !== '') this.#pump.output(Buffer.from(this.#seedBanner));
    const resume = this.#output === null ? null : { token: this.#init.hooks.issueResumeToken(this), graceMs: config.resumeGraceMs };
    this.#control({ type: 'ready', sessionId: this.id, resume });
    this.#log.info({ event: 'session_start', client_ip: this.clientIp, auth_method: this.#init.identity.method, subject: this.#init.identity.subject, username: creds.username, target: `${target.host}:${target.port}`, address: target.key, route: this.route.hops, host_key: link.hostKey, protocol: codec.name }, 'session_start');
    hooks.onActive(this);
    this.#replaying = true;
    try {
      for (const msg of this.#pending.drain()) this.#handle(msg);
    } finally {
      this.#replaying = false;
    }
    // PendingInput may have paused the socket; keep it paused if the replay filled the channel.
    if (!this.#pump.inputPaused) this.#ws.resume();
  }

  #banner(message: string): void {
    if (this.#init.codec.caps.bannerMessage) this.#control({ type: 'banner', message });
    else if (this.#seedBanner.length < 64 * 1024) this.#seedBanner += message.replace(/\r?\n/g, '\r\n');
  }

  #shellClosed(): void {
    const exit = this.#exit ?? { status: null, signal: null };
    this.#control({ type: 'exit', status: exit.status, signal: exit.signal });
    const detail = exit.signal !== null ? `signal ${exit.signal}` : exit.status !== null ? `exit status ${exit.status}` : undefined;
    void this.close('SHELL_EXITED', detail);
  }

  /** Close now and cut the socket without a close handshake (dead or stalled peer); a resumable session detaches instead. */
  #terminate(code: ErrorCode): void {
    if (this.#detach(code)) return;
    this.destroy(code);
  }

  /** The second shutdown verb: like close(), but the socket is cut instead of waited for. */
  destroy(code: ErrorCode): void {
    void this.close(code);
    this.#ws.terminate();
  }

  /**
   * The one close path. Idempotent: later calls return the first call's promise.
   * Resolves once the WebSocket is closed (after at most CLOSE_GRACE_MS). `notice`: what the v1
   * `error` message adds (src/policy/login-attempts.ts).
   */
  close(code: ErrorCode, detail?: string, reasonDetail?: string, notice: ErrorNotice = {}): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
    this.#sm.transitionTo(SessionState.CLOSING);
    this.#endCode = code;
    this.#init.hooks.onClosing(this);
    this.#abort.abort();
    clearTimeout(this.#authTimer);
    clearTimeout(this.#detachTimer);
    this.#questions.cancel(); // the login is aborted already; this only releases a waiter
    this.#pump?.dispose();
    this.#recording?.close();
    this.#share.dispose(code, this.#exit ?? { status: null, signal: null });
    this.#pending.clear();
    const spec = ERRORS[code];
    if (spec.close !== 1000 && code !== 'CLIENT_CLOSED') this.#control({ type: 'error', code, message: errorMessage(code, detail), ...notice });
    this.#channel?.removeAllListeners('close');
    this.#channel?.close();
    this.#link?.close();
    this.#socket.shut(spec.close, closeReason(code, reasonDetail ?? detail), CLOSE_GRACE_MS, () => this.#finish());
    return this.#closed;
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#link?.destroy();
    this.#sm.transitionTo(SessionState.CLOSED);
    const summary: SessionSummary = {
      id: this.id, code: this.#endCode, closeCode: ERRORS[this.#endCode].close,
      reachedActive: this.#reachedActive, durationMs: Date.now() - this.createdAt,
    };
    this.#log.info({ event: 'session_end', client_ip: this.clientIp, auth_method: this.#init.identity.method, subject: this.#init.identity.subject, username: this.username ?? null, target: `${this.target.host}:${this.target.port}`, route: this.route.hops, bytes_to_ssh: this.bytesToSsh, bytes_to_client: this.bytesToClient, duration_ms: summary.durationMs, code: summary.code, close_code: summary.closeCode }, 'session_end');
    this.#init.hooks.onEnd(this, summary);
    this.#resolveClosed?.();
  }
}


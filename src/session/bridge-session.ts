/**
 * One WebSocket <-> one SSH shell. The state machine decides every step; `close()` is the one
 * idempotent exit path: it cancels whatever phase is running, closes the channel, then the SSH
 * connection, then the WebSocket with the catalogue close code, and reports its end exactly once.
 *
 * Host keys: during CONNECTING the SSH key exchange hands the server's key to `#verifyHostKey`,
 * which applies the policy (src/ssh/host-keys.ts). A v1 client may be asked: the session sends a
 * `hostkey` message and routes the client's `hostkey-reply` straight to the waiting verifier
 * (everything else sent while connecting is queued as before). The question has its own deadline,
 * `ws-auth-timeout` (the handshake clock is paused meanwhile); no answer in time is
 * HOST_KEY_REJECTED, like a Reject, so the page does not retry into the same question.
 *
 * Keyboard-interactive (v1 `method: "keyboard-interactive"`) follows the same pattern: each round
 * with prompts becomes a `prompt` message and the client's `prompt-reply` goes straight to the
 * waiting ssh2 callback. There is no separate deadline: `ssh-auth-timeout` keeps running while
 * the user types, so it bounds the whole login. The responses are secrets and are never logged.
 *
 * Credentials live only until connectSsh has taken them (the Credentials object is not kept).
 *
 * Recording (--record-dir, src/record/): a session that reaches ACTIVE asks the App's Recorder
 * for a SessionRecording, then feeds it the output through a pump tap (the chunks in the order
 * the client gets them, the seed banner included), resizes and, with --record-input, the input it
 * forwards. Input queued while connecting (typed during the login)
 * is forwarded but never recorded. The recording is closed in close(); it never throws into the
 * session.
 *
 * Resume (docs/protocol.md#resume): a v1 client that asks for it gets a resumable session, with an
 * OutputLog of the newest `resume-buffer` output bytes fed by the Pump. When its socket is lost
 * without a close from the client (a drop, 1001 on reload, a ping timeout, a stall), the session
 * goes ACTIVE -> DETACHED instead of closing: the socket's listeners and keepalive are let go, the
 * shell runs on and the grace timer starts. `resume()` (called by the upgrade path once the
 * manager has checked the token) binds a new socket, rotates the token, sends `resumed` and
 * replays the log from the client's position. A resume while still ACTIVE takes the session over
 * from the old socket (closed with 4008 SESSION_TAKEN_OVER).
 */
import { userAllowed, type Identity } from '../auth/identity.js';
import type { WebSocket, RawData } from 'ws';
import type { Client as SshClient, ClientChannel } from 'ssh2';
import type { Config } from '../config/types.js';
import { BridgeError, closeReason, errorMessage, ERRORS, isBridgeError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { ResolvedTarget } from '../policy/target.js';
import type { AuthMethod, AuthPromptRound, ClientMessage, Codec, Credentials, ServerControl } from '../protocol/types.js';
import { connectSsh, type HostKeyApproval, type PresentedHostKey } from '../ssh/connect.js';
import type { Recorder, SessionRecording } from '../record/recorder.js';
import { decideHostKey, type HostKeyStore } from '../ssh/host-keys.js';
import { mapSshError } from '../ssh/errors.js';
import { openShell } from '../ssh/shell.js';
import { Keepalive } from '../transport/keepalive.js';
import { OutputLog } from '../transport/output-log.js';
import { MAX_LINKS, ShareHub } from '../share/share-hub.js';
import { closeThenCut } from '../util/ws-close.js';
import { Pump } from './pump.js';
import { PendingInput } from './pending-input.js';
import { SessionState, SessionStateMachine } from './state.js';

/** How long a close handshake may take before the socket is cut. */
const CLOSE_GRACE_MS = 3000;
const DEFAULT_TERM = 'xterm-256color';

export interface SessionHooks {
  observeTransition(from: string, to: string, msInFrom: number): void;
  observeHandshake(ms: number): void;
  onActive(session: BridgeSession): void;
  onBytes(direction: 'to_ssh' | 'to_client', n: number): void;
  onPause(direction: 'ssh_output' | 'client_input'): void;
  /**
   * The session has begun to close (its error message and close frame go out next): its slot can
   * go back now, so a client that starts a new session as soon as it hears this one end is not
   * refused by the slot of the session it just left. Called once, before onEnd.
   */
  onClosing(session: BridgeSession): void;
  onEnd(session: BridgeSession, summary: SessionSummary): void;
  /** A new single-use resume token for this session (the previous one stops working). */
  issueResumeToken(session: BridgeSession): string;
  /** A client resumed the session. */
  onResumed(): void;
}

export interface SessionSummary {
  readonly id: string;
  readonly code: ErrorCode;
  readonly closeCode: number;
  readonly reachedActive: boolean;
  readonly durationMs: number;
}

export interface SessionInit {
  readonly id: string;
  readonly ws: WebSocket;
  readonly codec: Codec;
  readonly target: ResolvedTarget;
  readonly clientIp: string;
  /** Who bridge authentication says this is (ANONYMOUS when it is off). */
  readonly identity: Identity;
  readonly config: Config;
  readonly logger: Logger;
  readonly hooks: SessionHooks;
  /** The App's host key store (one per App, shared by all sessions). */
  readonly hostKeys: HostKeyStore;
  /** The App's session recorder; null when --record-dir is not set. */
  readonly recorder: Recorder | null;
  /** Signing key and owner number for share links (one per manager). */
  readonly share: { readonly key: Buffer; readonly owner: number };
}

export class BridgeSession {
  readonly id: string;
  readonly target: ResolvedTarget;
  readonly clientIp: string;
  readonly createdAt = Date.now();
  username: string | undefined;
  lastActivity = Date.now();
  bytesToSsh = 0;
  bytesToClient = 0;

  readonly #init: SessionInit;
  readonly #log: Logger;
  /** The current socket: the upgrade's, then each resume's. */
  #ws: WebSocket;
  /** Set when the client asked for resume and the bridge allows it (v1, resume-grace > 0). */
  #output: OutputLog | null = null;
  #detachTimer: NodeJS.Timeout | undefined;
  /** Share links and viewers; made by the first `share`. */
  #share: ShareHub | null = null;
  /** The terminal size as last set (viewers and the shared screen follow it). */
  #size = { cols: 80, rows: 24 };
  readonly #sm: SessionStateMachine;
  readonly #abort = new AbortController();
  readonly #pending = new PendingInput();
  #keepalive: Keepalive;
  #authTimer: NodeJS.Timeout | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  /** The pending host key question (v1), answered by `hostkey-reply`. */
  #prompt: { readonly answer: (accept: boolean) => void; readonly cancel: () => void } | undefined;
  /** The pending keyboard-interactive round (v1), answered by `prompt-reply`. */
  #authPrompt: { readonly count: number; readonly answer: (responses: string[]) => void; readonly cancel: () => void } | undefined;
  #ssh: SshClient | undefined;
  #channel: ClientChannel | undefined;
  #pump: Pump | undefined;
  #recording: SessionRecording | undefined;
  #untapRecording: () => void = () => undefined;
  /** True while input queued during the login is replayed: forwarded, not recorded. */
  #replaying = false;
  #seedBanner = '';
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
    this.#log = init.logger.child({ session: init.id });
    this.#sm = new SessionStateMachine((from, to, ms) => {
      this.#log.debug({ from, to, ms: Math.round(ms) }, 'state transition');
      init.hooks.observeTransition(from, to, ms);
    });
    const { config } = init;
    this.#ws = init.ws;
    this.#keepalive = this.#bindSocket(init.ws);
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

  /** Listen to a socket; the keepalive returned is the caller's to keep. */
  #bindSocket(ws: WebSocket): Keepalive {
    const { config } = this.#init;
    ws.on('message', this.#onMessage);
    ws.on('close', this.#onWsClose);
    ws.on('error', this.#onWsError);
    return new Keepalive(ws, config.wsPingIntervalMs, config.wsPongTimeoutMs, () => this.#terminate('PONG_TIMEOUT'));
  }

  /** Stop listening to the current socket and cut it (it is gone, or replaced). */
  #releaseSocket(): void {
    const ws = this.#ws;
    this.#keepalive.dispose();
    ws.removeListener('message', this.#onMessage);
    ws.removeListener('close', this.#onWsClose);
    ws.removeListener('error', this.#onWsError);
    ws.on('error', () => undefined);
  }

  /** A snapshot for /stats and debugging; never holds credentials. */
  getStats(): Record<string, unknown> {
    return {
      id: this.id, state: this.#sm.state, protocol: this.#init.codec.name, client_ip: this.clientIp,
      username: this.username ?? null, target: `${this.target.host}:${this.target.port}`, address: this.target.key,
      created_at: new Date(this.createdAt).toISOString(), last_activity: new Date(this.lastActivity).toISOString(),
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
    if (msg.kind === 'prompt-reply') {
      const round = this.#authPrompt;
      if (round === undefined) throw new BridgeError('PROTOCOL_ERROR', 'unexpected prompt-reply');
      if (msg.responses.length !== round.count) throw new BridgeError('PROTOCOL_ERROR', `prompt-reply needs ${round.count} responses`);
      round.answer([...msg.responses]);
      return;
    }
    if (msg.kind !== 'hostkey-reply') {
      this.#pending.push(msg, this.#ws);
      return;
    }
    const prompt = this.#prompt;
    if (prompt === undefined) throw new BridgeError('PROTOCOL_ERROR', 'unexpected hostkey-reply');
    prompt.answer(msg.accept);
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
    this.#releaseSocket();
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
    this.#ws = ws;
    this.#keepalive = this.#bindSocket(ws);
    this.lastActivity = Date.now();
    const from = Math.max(position, output.start);
    output.release(from);
    const token = this.#init.hooks.issueResumeToken(this);
    this.#control({ type: 'resumed', sessionId: this.id, position: from, lost: from - position, resume: { token, graceMs: this.#init.config.resumeGraceMs } });
    // Viewers may have come or gone while the owner was away: the new socket hears who watches now.
    if (this.#share?.active === true) this.#control({ type: 'viewers', viewers: this.#share.viewers() });
    this.#pump?.attach(ws, from);
    this.#init.hooks.onResumed();
    this.#log.info({ event: 'session_resumed', client_ip: this.clientIp, position: from, lost: from - position }, 'session resumed');
    return true;
  }

  /** A resume arrived while the old socket still looks open: that socket is told and let go. */
  #takeOver(): void {
    const old = this.#ws;
    if (!this.#sm.compareAndTransition(SessionState.ACTIVE, SessionState.DETACHED)) return;
    this.#releaseSocket();
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
        this.lastActivity = Date.now();
        if (!this.#replaying) this.#recording?.input(msg.data);
        this.#pump?.input(msg.data);
        return;
      case 'resize':
        this.#channel?.setWindow(msg.rows, msg.cols, 0, 0);
        this.#recording?.resize(msg.cols, msg.rows);
        this.#size = { cols: msg.cols, rows: msg.rows };
        this.#share?.resize(msg.cols, msg.rows);
        return;
      case 'share':
        this.#shareLink(msg.ttlMs, msg.snapshot);
        return;
      case 'share-revoke':
        this.#share?.revoke(msg.linkId);
        return;
      case 'ping':
        this.#control({ type: 'pong', payload: msg.payload });
        return;
      case 'ignored':
        this.#log.warn({ reason: msg.reason }, 'control message ignored');
        return;
      case 'ack':
        this.#pump?.ack(msg.bytes);
        return;
      case 'hostkey-reply':
        // Only valid while a question is pending, and questions end before ACTIVE.
        void this.close('PROTOCOL_ERROR', 'unexpected hostkey-reply');
        return;
      case 'prompt-reply':
        void this.close('PROTOCOL_ERROR', 'unexpected prompt-reply');
        return;
    }
  }

  /** A view-only link for the owner (docs/protocol.md#sharing); refused without ending the session. */
  #shareLink(ttlMs: number | undefined, snapshot: string | undefined): void {
    const { config } = this.#init;
    if (config.shareTtlMs === 0) {
      this.#control({ type: 'share-refused', code: 'SHARE_DISABLED', message: errorMessage('SHARE_DISABLED') });
      return;
    }
    if (this.#share !== null && !this.#share.canCreateLink) {
      this.#control({ type: 'share-refused', code: 'SHARE_LINKS_FULL', message: errorMessage('SHARE_LINKS_FULL', `at most ${MAX_LINKS}`) });
      return;
    }
    if (this.#share === null) {
      const hub = new ShareHub({
        sessionId: this.id, owner: this.#init.share.owner, key: this.#init.share.key, config, logger: this.#log,
        cols: this.#size.cols, rows: this.#size.rows,
        about: { username: this.username ?? '', target: `${this.target.host}:${this.target.port}` },
        onViewers: (viewers) => this.#control({ type: 'viewers', viewers }),
      });
      this.#share = hub;
      this.#pump?.tap((chunk) => hub.output(chunk));
    }
    const link = this.#share.createLink(Math.min(ttlMs ?? config.shareTtlMs, config.shareTtlMs), snapshot);
    this.#control({ type: 'shared', linkId: link.linkId, token: link.token, expiresAt: new Date(link.expiresAt).toISOString(), mode: 'view' });
  }

  /** Viewers watching now. */
  get viewerCount(): number {
    return this.#share?.viewerCount ?? 0;
  }

  /** Why a viewer of share link `linkId` cannot join now, or null. */
  viewerRefusal(linkId: string): ErrorCode | null {
    if (this.#sm.state !== SessionState.ACTIVE && this.#sm.state !== SessionState.DETACHED) return 'SHARE_INVALID';
    return this.#share === null ? 'SHARE_INVALID' : this.#share.refusal(linkId);
  }

  /** A viewer joins (the upgrade path checked viewerRefusal() and holds its admission). */
  addViewer(ws: WebSocket, who: { subject: string; clientIp: string }, linkId: string, release: () => void): boolean {
    const hub = this.#share;
    if (hub === null || this.viewerRefusal(linkId) !== null) return false;
    hub.join(ws, who, linkId, release);
    return true;
  }

  #control(msg: ServerControl): void {
    const text = this.#init.codec.encode(msg);
    if (text !== null && this.#ws.readyState === this.#ws.OPEN) this.#ws.send(text);
  }

  #begin(creds: Credentials): void {
    if (!this.#sm.transitionTo(SessionState.CONNECTING)) return;
    clearTimeout(this.#authTimer);
    this.username = creds.username;
    if (!userAllowed(this.#init.identity, creds.username)) {
      void this.close('USER_DENIED', `${creds.username.slice(0, 64)} for ${this.#init.identity.subject}`);
      return;
    }
    const { auth, ...rest } = creds;
    let secret: AuthMethod | undefined = auth;
    const takeAuth = (): AuthMethod => {
      const taken = secret;
      secret = undefined;
      if (taken === undefined) throw new BridgeError('INTERNAL', 'credentials already used');
      return taken;
    };
    void this.#connect(rest, takeAuth).catch((err: unknown) => {
      const e = isBridgeError(err) ? err : mapSshError(err as Error, 'handshake');
      if (e.code !== 'SSH_AUTH_FAILED' && e.code !== 'CLIENT_CLOSED') this.#log.info({ err: e.message }, 'ssh setup failed');
      void this.close(e.code, e.detail, e.reasonDetail);
    });
  }

  async #connect(creds: Omit<Credentials, 'auth'>, takeAuth: () => AuthMethod): Promise<void> {
    const { config, target, hooks } = this.#init;
    const conn = await connectSsh({
      address: target.address, port: target.port, username: creds.username, takeAuth,
      askPrompt: (round) => this.#askPrompt(round),
      connectTimeoutMs: config.sshConnectTimeoutMs, handshakeTimeoutMs: config.sshHandshakeTimeoutMs,
      authTimeoutMs: config.sshAuthTimeoutMs, keepaliveIntervalMs: config.sshKeepaliveIntervalMs,
      onBanner: (message) => this.#banner(message), signal: this.#abort.signal,
      verifyHostKey: (key) => this.#verifyHostKey(key), hostKeyWaitMs: config.wsAuthTimeoutMs,
      hostKeyAlgorithms: this.#init.hostKeys.preferredAlgorithms(target.host, target.port, target.address),
    });
    if (this.#sm.isClosed()) {
      // close() ran between 'ready' and this continuation: it could not see the client yet.
      conn.client.destroy();
      return;
    }
    this.#ssh = conn.client;
    hooks.observeHandshake(conn.setupMs);
    conn.client.on('error', (err) => {
      const e = mapSshError(err, 'active');
      void this.close(e.code, e.detail);
    });
    conn.client.on('close', () => void this.close('SSH_CONNECTION_LOST', 'ssh connection closed'));
    const size = this.#pending.takeSize() ?? { cols: creds.cols ?? 80, rows: creds.rows ?? 24 };
    this.#size = size;
    const term = creds.term ?? DEFAULT_TERM;
    const channel = await openShell(conn.client, { term, ...size });
    this.#channel = channel;
    if (!this.#sm.transitionTo(SessionState.ACTIVE)) {
      channel.close();
      return;
    }
    this.#reachedActive = true;
    this.lastActivity = Date.now(); // idle time counts from the shell opening, not from the upgrade (a login may take a while)
    if (creds.resume && config.resumeGraceMs > 0 && this.#init.codec.name === 'v1') this.#output = new OutputLog(config.resumeBuffer);
    this.#pump = new Pump(channel, config.connTimeoutMs, {
      onOutput: (n) => {
        this.bytesToClient += n;
        this.lastActivity = Date.now();
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
    this.#startRecording(this.#pump, creds.username, term, size);
    if (this.#seedBanner !== '') this.#pump.output(Buffer.from(this.#seedBanner));
    const resume = this.#output === null ? null : { token: this.#init.hooks.issueResumeToken(this), graceMs: config.resumeGraceMs };
    this.#control({ type: 'ready', sessionId: this.id, resume });
    this.#log.info({ event: 'session_start', client_ip: this.clientIp, auth_method: this.#init.identity.method, subject: this.#init.identity.subject, username: creds.username, target: `${target.host}:${target.port}`, address: target.key, host_key: conn.hostKey, protocol: this.#init.codec.name }, 'session_start');
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

  /** Open this session's recording when the recorder wants it; a failure only costs the recording. */
  #startRecording(pump: Pump, username: string, term: string, size: { cols: number; rows: number }): void {
    const recorder = this.#init.recorder;
    if (recorder === null) return;
    const { target, identity, codec } = this.#init;
    try {
      this.#recording = recorder.start({
        sessionId: this.id, username, host: target.host, port: target.port, clientIp: this.clientIp,
        identity, protocol: codec.name, term, cols: size.cols, rows: size.rows,
      }, this.#log);
    } catch (err) {
      this.#log.error({ event: 'recording_failed', error: err instanceof Error ? err.message : String(err) }, 'recording failed; the session goes on without it');
      return;
    }
    const recording = this.#recording;
    if (recording === undefined) return;
    this.#untapRecording = pump.tap((chunk) => recording.output(chunk));
  }

  /** The host key policy for this session's target (see src/ssh/host-keys.ts). */
  async #verifyHostKey(k: PresentedHostKey): Promise<HostKeyApproval> {
    const { config, target, hostKeys, codec } = this.#init;
    const verdict = hostKeys.verify({ host: target.host, port: target.port, address: target.address, keyType: k.keyType, key: k.key });
    const decision = decideHostKey(verdict, {
      policy: config.hostKeyPolicy, canAsk: codec.name === 'v1', compatAcceptNew: config.compatAcceptNewHostKeys,
      keyType: k.keyType, fingerprint: k.fingerprint,
    });
    const about = { target: `${target.host}:${target.port}`, address: target.key, key_type: k.keyType, fingerprint: k.fingerprint, via: verdict.via };
    const store = (): HostKeyApproval => ({
      afterHandshake: async () => {
        await hostKeys.accept(target.host, target.port, k.keyType, k.key);
      },
    });
    switch (decision.action) {
      case 'refuse': {
        const stored = verdict.status === 'mismatch' ? verdict.stored : verdict.status === 'unknown' ? verdict.otherTypes : [];
        this.#log.warn({ event: 'host_key_refused', code: decision.error.code, ...about, stored: stored.map((s) => ({ fingerprint: s.fingerprint, key_type: s.keyType, file: s.source, line: s.line })) }, 'host key refused');
        throw decision.error;
      }
      case 'accept':
        if (decision.why === 'insecure') this.#log.warn({ event: 'host_key_unverified', ...about }, 'unknown host key accepted without verification (host-key-policy accept-new-insecure)');
        if (decision.why === 'compat') this.#log.info({ event: 'host_key_accepted', answer: 'compat', ...about }, 'unknown host key accepted for a seed client (compat-accept-new-host-keys)');
        return decision.store ? store() : {};
      case 'ask': {
        const accepted = await this.#ask(k);
        this.#log.info({ event: 'host_key_accepted', answer: accepted ? 'accept' : 'reject', ...about }, accepted ? 'host key accepted by the user' : 'host key rejected by the user');
        if (!accepted) throw new BridgeError('HOST_KEY_REJECTED', 'rejected by the user');
        return store();
      }
    }
  }

  /** Ask the v1 client about an unknown key; its own deadline is ws-auth-timeout. */
  #ask(k: PresentedHostKey): Promise<boolean> {
    const { config, target } = this.#init;
    if (this.#sm.isClosed()) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const ms = config.wsAuthTimeoutMs;
      const timer = setTimeout(() => {
        this.#prompt = undefined;
        this.#log.info({ event: 'host_key_accepted', answer: 'timeout', target: `${target.host}:${target.port}`, fingerprint: k.fingerprint }, 'no answer to the host key question');
        reject(new BridgeError('HOST_KEY_REJECTED', `no answer within ${ms} ms`));
      }, ms);
      this.#prompt = {
        answer: (accept) => {
          clearTimeout(timer);
          this.#prompt = undefined;
          resolve(accept);
        },
        cancel: () => {
          clearTimeout(timer);
          this.#prompt = undefined;
          reject(new BridgeError('CLIENT_CLOSED', 'closed during the host key question'));
        },
      };
      this.#control({ type: 'hostkey', host: target.host, port: target.port, algorithm: k.keyType, fingerprint: k.fingerprint, status: 'unknown' });
    });
  }

  /** Put one keyboard-interactive round to the v1 client; ssh-auth-timeout (in connectSsh) bounds the wait. */
  #askPrompt(round: AuthPromptRound): Promise<string[]> {
    if (this.#sm.isClosed()) return Promise.reject(new BridgeError('CLIENT_CLOSED', 'closed during authentication'));
    if (this.#init.codec.name !== 'v1') return Promise.reject(new BridgeError('PROTOCOL_ERROR', 'keyboard-interactive needs a v1 client'));
    return new Promise<string[]>((resolve, reject) => {
      this.#authPrompt = {
        count: round.prompts.length,
        answer: (responses) => {
          this.#authPrompt = undefined;
          resolve(responses);
        },
        cancel: () => {
          this.#authPrompt = undefined;
          reject(new BridgeError('CLIENT_CLOSED', 'closed during authentication'));
        },
      };
      this.#log.debug({ event: 'auth_prompt', prompts: round.prompts.length }, 'keyboard-interactive round sent to the client');
      this.#control({ type: 'prompt', ...round });
    });
  }

  #banner(message: string): void {
    if (this.#init.codec.name === 'v1') this.#control({ type: 'banner', message });
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
   * Resolves once the WebSocket is closed (after at most CLOSE_GRACE_MS).
   */
  close(code: ErrorCode, detail?: string, reasonDetail?: string): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    this.#closed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
    this.#sm.transitionTo(SessionState.CLOSING);
    this.#endCode = code;
    this.#init.hooks.onClosing(this);
    this.#abort.abort();
    clearTimeout(this.#authTimer);
    clearTimeout(this.#detachTimer);
    this.#prompt?.cancel(); // connectSsh is aborted already; this only releases the waiter
    this.#authPrompt?.cancel();
    this.#keepalive.dispose();
    this.#pump?.dispose();
    this.#stopRecording();
    const exit = this.#exit ?? { status: null, signal: null };
    // Viewers hear how the shell ended, or that the session is over: never the owner's own code
    // (a 4007 or a 1012 would send a viewer page after a resume or a restart it cannot do).
    if (code === 'SHELL_EXITED') this.#share?.dispose('SHELL_EXITED', { type: 'exit', status: exit.status, signal: exit.signal });
    else this.#share?.dispose('SHARE_REVOKED', undefined, 'session ended');
    this.#pending.clear();
    const spec = ERRORS[code];
    if (spec.close !== 1000 && code !== 'CLIENT_CLOSED') this.#control({ type: 'error', code, message: errorMessage(code, detail) });
    this.#channel?.removeAllListeners('close');
    this.#channel?.close();
    if (this.#ssh !== undefined) {
      this.#ssh.removeAllListeners('close');
      this.#ssh.removeAllListeners('error');
      this.#ssh.on('error', () => undefined);
      this.#ssh.end();
    }
    const ws = this.#ws;
    ws.resume(); // a socket paused for backpressure must still read the peer's close frame
    if (ws.readyState === ws.CLOSED) this.#finish();
    else {
      ws.removeListener('close', this.#onWsClose);
      ws.once('close', () => this.#finish());
      if (ws.readyState === ws.OPEN) ws.close(spec.close, closeReason(code, reasonDetail ?? detail));
      this.#graceTimer = setTimeout(() => ws.terminate(), CLOSE_GRACE_MS);
    }
    return this.#closed;
  }

  /** Detach from the channel and finish the file (idempotent; the file closes on its own time). */
  #stopRecording(): void {
    const recording = this.#recording;
    if (recording === undefined) return;
    this.#recording = undefined;
    this.#untapRecording();
    void recording.close();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#graceTimer);
    const ws = this.#ws;
    ws.removeListener('message', this.#onMessage);
    ws.removeListener('error', this.#onWsError);
    ws.on('error', () => undefined);
    this.#ssh?.destroy();
    this.#sm.transitionTo(SessionState.CLOSED);
    const summary: SessionSummary = {
      id: this.id, code: this.#endCode, closeCode: ERRORS[this.#endCode].close,
      reachedActive: this.#reachedActive, durationMs: Date.now() - this.createdAt,
    };
    this.#log.info({ event: 'session_end', client_ip: this.clientIp, auth_method: this.#init.identity.method, subject: this.#init.identity.subject, username: this.username ?? null, target: `${this.target.host}:${this.target.port}`, bytes_to_ssh: this.bytesToSsh, bytes_to_client: this.bytesToClient, duration_ms: summary.durationMs, code: summary.code, close_code: summary.closeCode }, 'session_end');
    this.#init.hooks.onEnd(this, summary);
    this.#resolveClosed?.();
  }
}


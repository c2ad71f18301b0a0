/**
 * Wire-protocol vocabulary shared by the two codecs (seed-compatible and v1) and the session.
 * The codecs are pure: they turn WebSocket frames into these values and back, never touching a
 * socket, so every quirk of the two protocols is testable by feeding buffers.
 *
 * The small validators live here too because both codecs must apply the same rules (a username
 * accepted by one protocol is accepted by the other; resize bounds are one number).
 */
import { BridgeError } from '../errors.js';

export type AuthMethod =
  | { readonly method: 'password'; readonly password: string }
  | { readonly method: 'publickey'; readonly privateKey: string; readonly passphrase: string | undefined }
  /** v1 only: every prompt of every round is put to the client (`prompt` / `prompt-reply`). */
  | { readonly method: 'keyboard-interactive' };

/** One question of a keyboard-interactive round; `echo: false` means a secret (hide the typing). */
export interface AuthPromptField {
  readonly prompt: string;
  readonly echo: boolean;
}

/** One keyboard-interactive round as the server sent it. */
export interface AuthPromptRound {
  readonly name: string;
  readonly instructions: string;
  readonly prompts: readonly AuthPromptField[];
  /** The jump host (1-based hop) asking; absent when the session's target asks. */
  readonly hop?: number | undefined;
}

/** Largest single `prompt-reply` response in UTF-8 bytes (an OTP is 6-8 characters). */
export const MAX_PROMPT_RESPONSE_BYTES = 1024;

export interface Credentials {
  readonly username: string;
  readonly auth: AuthMethod;
  /** v1 only; validated against TERM_PATTERN. The session picks the default when undefined. */
  readonly term: string | undefined;
  /** Initial size, v1 only; cols and rows are both set or both undefined. */
  readonly cols: number | undefined;
  readonly rows: number | undefined;
  /** v1 only: the client acknowledges output it has rendered (`ack` messages); see Pump. */
  readonly flowControl: boolean;
  /** v1 only: the client asks for a resumable session (docs/protocol.md#resume). */
  readonly resume: boolean;
  /** v1 only: the login of each jump host named by the route's `?jump=`, in order (empty: none). */
  readonly jump: readonly HopLogin[];
}

/** How to log in to one jump host: its user and method (the host and port come from the route). */
export interface HopLogin {
  readonly username: string;
  readonly auth: AuthMethod;
}

/** What a resumable session's `ready` and `resumed` carry: the next single-use token. */
export interface ResumeGrant {
  readonly token: string;
  readonly graceMs: number;
}

export type ClientMessage =
  | { readonly kind: 'input'; readonly data: Buffer }
  | { readonly kind: 'resize'; readonly cols: number; readonly rows: number }
  /** v1: echoed in a pong; seed: a no-op kept for compatibility. */
  | { readonly kind: 'ping'; readonly payload: unknown }
  /** A control message we drop on purpose (e.g. an invalid resize): logged, input keeps flowing. */
  | { readonly kind: 'ignored'; readonly reason: string }
  /** v1 with flow control: the client has rendered this many more output bytes. */
  | { readonly kind: 'ack'; readonly bytes: number }
  /** v1: the user's answer to a `hostkey` prompt (only valid while one is pending). */
  | { readonly kind: 'hostkey-reply'; readonly accept: boolean }
  /** v1: the answers to a keyboard-interactive `prompt`, in prompt order (secrets: never logged). */
  | { readonly kind: 'prompt-reply'; readonly responses: readonly string[] }
  /** v1: make a view-only share link; `snapshot` is the owner's serialized screen (what it has rendered). */
  | { readonly kind: 'share'; readonly ttlMs: number | undefined; readonly snapshot: string | undefined }
  /** v1: end one share link (or all of them) and cut its viewers. */
  | { readonly kind: 'share-revoke'; readonly linkId: string | undefined }
  /** v1: the user is here (answered the idle warning): counts as activity, reaches no shell. */
  | { readonly kind: 'presence' }
  /** v1 owner: ask for a file token (docs/protocol.md#files). */
  | { readonly kind: 'files' };

/** One viewer of a shared session, as the owner is told. */
export interface ViewerSummary {
  readonly id: string;
  readonly subject: string;
  readonly clientIp: string;
  readonly since: string;
  readonly linkId: string;
}

/**
 * The optional fields of an `error`: `retryAfter`, seconds before trying again makes sense (ban
 * and rate refusals, and the failed login that started a ban); after a failed SSH login near the
 * ban (src/policy/login-attempts.ts), `attemptsLeft` and, while it is not 0, `banSeconds`.
 */
export interface ErrorNotice {
  readonly retryAfter?: number;
  readonly attemptsLeft?: number;
  readonly banSeconds?: number;
}

export type ServerControl =
  | { readonly type: 'ready'; readonly sessionId: string; readonly resume: ResumeGrant | null }
  /**
   * v1: first frame of a resumed connection; output from `position` follows, `lost` bytes are
   * gone; `inputPosition` is how many input bytes the bridge took from the client in all (the
   * client sends again what it sent after that, which never arrived).
   */
  | { readonly type: 'resumed'; readonly sessionId: string; readonly position: number; readonly lost: number; readonly inputPosition: number; readonly resume: ResumeGrant }
  | { readonly type: 'banner'; readonly message: string }
  | ({ readonly type: 'error'; readonly code: string; readonly message: string } & ErrorNotice)
  | { readonly type: 'exit'; readonly status: number | null; readonly signal: string | null }
  | { readonly type: 'pong'; readonly payload: unknown }
  /** v1: the session is idle and will be closed (IDLE_TIMEOUT) in `closesInMs` unless there is activity. */
  | { readonly type: 'idle-warning'; readonly closesInMs: number }
  /** v1: activity after an `idle-warning`: the close is off. */
  | { readonly type: 'idle-cleared' }
  /** v1 owner: a share link was made. */
  | { readonly type: 'shared'; readonly linkId: string; readonly token: string; readonly expiresAt: string; readonly mode: 'view' }
  /** v1 owner: a `share` was refused; the session goes on. */
  | { readonly type: 'share-refused'; readonly code: string; readonly message: string }
  /**
   * v1 owner: the answer to `files`: a token for the api/files routes, valid `expiresInMs`;
   * `write` false when the session's identity may only list and download (FILES_READ_ONLY).
   */
  | { readonly type: 'files-token'; readonly token: string; readonly expiresInMs: number; readonly write: boolean }
  /** v1 owner: a `files` was refused (file transfer is off); the session goes on. */
  | { readonly type: 'files-refused'; readonly code: string; readonly message: string }
  /** v1 owner: who is watching now. */
  | { readonly type: 'viewers'; readonly viewers: readonly ViewerSummary[] }
  /** v1 viewer: first frame; the screen and live output follow. */
  | { readonly type: 'viewing'; readonly sessionId: string; readonly username: string; readonly target: string; readonly cols: number; readonly rows: number }
  /** v1 viewer: the owner's terminal size changed. */
  | { readonly type: 'resize'; readonly cols: number; readonly rows: number }
  /**
   * v1: the target's host key is not known; the client answers with `hostkey-reply`. Sent before
   * any `banner` or `ready`. Only `unknown` keys are offered: a changed key is an error, never a question.
   */
  | {
      readonly type: 'hostkey';
      readonly host: string;
      readonly port: number;
      readonly algorithm: string;
      readonly fingerprint: string;
      readonly status: 'unknown';
      /** The jump host (1-based hop) the key belongs to; absent for the session's target. */
      readonly hop?: number;
    }
  /** v1: one keyboard-interactive round; the client answers with `prompt-reply`. After any `hostkey`, before `ready`. */
  | ({ readonly type: 'prompt' } & AuthPromptRound);

/**
 * What a protocol can do, so the session asks a capability instead of testing the codec's name.
 * Seed clients send credentials and keystrokes and receive output only; v1 clients also answer
 * questions, resume and read control messages.
 */
export interface CodecCaps {
  /** The client answers host-key (`hostkey`) and keyboard-interactive (`prompt`) questions. */
  readonly questions: boolean;
  /** The client can resume a session after its socket is lost. */
  readonly resume: boolean;
  /** The server's pre-auth banner goes as a `banner` message; false: inline, ahead of the output. */
  readonly bannerMessage: boolean;
}

export interface Codec {
  /** For logs, /stats and recordings only: behaviour follows `caps`. */
  readonly name: 'seed' | 'v1';
  readonly caps: CodecCaps;
  /** First message after the upgrade. Throws BridgeError PROTOCOL_ERROR when it is not valid credentials. */
  decodeAuth(data: Buffer, isBinary: boolean): Credentials;
  /** Every message after authentication. Throws BridgeError PROTOCOL_ERROR only for v1 messages that are malformed. */
  decode(data: Buffer, isBinary: boolean): ClientMessage;
  /** Text frame for a control message, or null when the protocol has no such frame (seed clients receive binary only). */
  encode(msg: ServerControl): string | null;
}

/** Upper bound for cols and rows: far above any real screen, low enough to keep ssh2 and the PTY sane. */
export const MAX_DIMENSION = 10000;
/** Usernames longer than this are not real accounts; the cap keeps logs and SSH packets small. */
export const MAX_USERNAME_LENGTH = 256;
/** TERM values become an SSH pty-req string and an env var on the far side: keep them boring. */
export const TERM_PATTERN = /^[A-Za-z0-9._+-]{1,64}$/;
/** Why an out-of-range resize was dropped (fixed text: never echoes what the client sent). */
export const INVALID_RESIZE_REASON = `invalid resize: cols and rows must be integers 1-${MAX_DIMENSION}`;

/** Resize bounds in one place: an integer 1..MAX_DIMENSION (rejects strings, 0, 1.5, NaN). */
export function isDimension(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_DIMENSION;
}

/** A parsed JSON value that is an object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Own property only, so keys such as `constructor` never resolve through the prototype. */
export function ownField(obj: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

/** Parse JSON text, or undefined when it is not JSON. The SyntaxError is dropped on purpose:
 * its message quotes the input, which may hold a password. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The username rules both protocols share: a non-empty string of at most MAX_USERNAME_LENGTH
 * characters without control characters (a CR/LF or NUL in a username is log injection or worse).
 */
export function checkUsername(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new BridgeError('PROTOCOL_ERROR', 'username must be a non-empty string');
  }
  if (value.length > MAX_USERNAME_LENGTH) {
    throw new BridgeError('PROTOCOL_ERROR', `username longer than ${MAX_USERNAME_LENGTH} characters`);
  }
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      throw new BridgeError('PROTOCOL_ERROR', 'username contains control characters');
    }
  }
  return value;
}

/**
 * Close code / catalogue code -> one plain sentence for people. The catalogue code (from the v1
 * `error` message, else from the close reason `CODE: message[: detail]`) wins; the bare close code
 * is the fallback (a browser sees 1006 without a reason for refused upgrades and network loss).
 * Codes are those of src/errors.ts and docs/errors.md. A failure that names a jump host (`hop 1
 * (bastion:22)`, jump.ts) is said of that jump host.
 */
import { hopFailureOf, hopName } from './jump.js';

/**
 * The v1 `error` message (or a refused ticket request's error). After a failed SSH login near the
 * ban: `attemptsLeft` (2, 1, or 0: this failure banned the address) and, while it is not 0,
 * `banSeconds`, how long the ban will last (docs/protocol.md).
 */
export interface GatewayError {
  readonly code: string;
  readonly message: string;
  readonly attemptsLeft?: number | null;
  readonly banSeconds?: number | null;
}

export interface CloseInfo {
  readonly code: number;
  readonly reason: string;
  /** The v1 `error` message received just before the close, if any. */
  readonly error: GatewayError | null;
  /** `host:port` as shown to the user. */
  readonly target: string;
  /** Whether this socket reached `ready`. */
  readonly wasReady: boolean;
  readonly method: 'password' | 'publickey' | 'keyboard-interactive';
  /** Seconds from a `Retry-After` header (gateway ticket requests), when one was sent. */
  readonly retryAfter?: number;
}

export interface ParsedReason {
  readonly code: string | null;
  /** Everything after `CODE: `. */
  readonly text: string;
}

/** `SSH_AUTH_FAILED: ssh authentication failed` -> code and text; a free-form reason has no code. */
export function parseReason(reason: string): ParsedReason {
  const m = /^([A-Z][A-Z0-9_]{1,40}):\s*(.*)$/s.exec(reason);
  if (m === null) return { code: null, text: reason };
  return { code: m[1] ?? null, text: m[2] ?? '' };
}

/** The detail after the catalogue message, e.g. `target unreachable: connection refused` -> `connection refused`. */
function detailOf(text: string, base: string): string {
  const t = text.trim();
  if (t.toLowerCase().startsWith(`${base}: `)) return t.slice(base.length + 2).trim();
  return t === base ? '' : t;
}

const ERRNO: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ETIMEDOUT: 'timed out',
  EADDRNOTAVAIL: 'address not available',
};

function humanDetail(detail: string): string {
  return ERRNO[detail] ?? detail;
}

/** The catalogue code of a close: the `error` message first, then the reason. */
export function catalogueCode(info: CloseInfo): string | null {
  return info.error?.code ?? parseReason(info.reason).code;
}

function messageText(info: CloseInfo): string {
  return info.error?.message ?? parseReason(info.reason).text;
}

/** `stored SHA256:a presented SHA256:b` (the v1 error message) -> both parts; the close reason only has `presented`. */
function fingerprints(text: string): { stored: string | null; presented: string | null } {
  const fp = 'SHA256:[A-Za-z0-9+/]+(?: \\([a-z0-9@.-]+\\))?'; // optional key type: `(ssh-rsa)`
  const both = new RegExp(`stored (.+?) presented (${fp})`).exec(text);
  if (both !== null) return { stored: both[1] ?? null, presented: both[2] ?? null };
  return { stored: null, presented: new RegExp(`presented (${fp})`).exec(text)?.[1] ?? null };
}

function hostKeySentence(code: string, t: string, text: string): string | null {
  const { stored, presented } = fingerprints(text);
  switch (code) {
    case 'HOST_KEY_CHANGED':
      // Lines: the title, the cause, one per fingerprint, what to do (alert-lines.ts lays them out).
      return [
        `WARNING: the host key of ${t} has changed.`,
        'This could be an attack (someone intercepting the connection), or the server was reinstalled or its key replaced; the gateway refused to connect.',
        ...(stored === null ? [] : [`Stored key: ${stored}`]),
        ...(presented === null ? [] : [`Presented key: ${presented}`]),
        'Check with the server\'s administrator; the gateway\'s operator must update its known hosts.',
      ].join('\n');
    case 'HOST_KEY_UNKNOWN':
      return `The gateway does not know the host key of ${t} and only connects to servers it knows`
        + `${presented === null ? '' : ` (presented key: ${presented})`}. Ask the gateway's operator to add it.`;
    case 'HOST_KEY_REJECTED':
      if (text.includes('rejected by the user')) return `You rejected the host key of ${t}; not connected.`;
      if (text.includes('no answer within')) return `The question about the host key of ${t} was not answered in time; not connected.`;
      if (text.includes('revoked')) return `The host key of ${t} has been revoked; the gateway refuses to connect.`;
      return `The host key of ${t} was rejected by the gateway.`;
    default:
      return null;
  }
}

/** The login ban's sentence (AUTH_BANNED, and the failed login that started it). */
const BANNED = 'Too many failed logins from your address.';

function byCatalogue(code: string, info: CloseInfo): string | null {
  const text = messageText(info);
  // A failure on a jump host (`…: hop 1 (bastion:22)…`) is about that server, not the target.
  const hop = hopFailureOf(text);
  if (hop !== null && code === 'TARGET_UNREACHABLE') {
    const d = humanDetail(hop.detail);
    return `Could not reach ${info.target} through ${hopName(hop)}${d === '' ? '' : ` (${d})`}.`;
  }
  const t = hop === null ? info.target : hopName(hop);
  switch (code) {
    case 'SSH_AUTH_FAILED':
      if (hop !== null) return `Authentication failed on ${t}: wrong username, password or key.${attemptsSentence(info.error)}`;
      return `${authFailedSentence(info.method)}${attemptsSentence(info.error)}`;
    case 'SSH_KEY_INVALID':
      return hop === null ? 'The private key could not be read.' : `The private key for ${t} could not be read.`;
    case 'SSH_KEY_PASSPHRASE':
      return hop === null ? 'The passphrase for the private key is wrong or missing.' : `The passphrase for the private key of ${t} is wrong or missing.`;
    case 'SSH_NO_AUTH_METHOD':
      return hop === null ? 'The server does not accept this authentication method.' : `${t.charAt(0).toUpperCase()}${t.slice(1)} does not accept this authentication method.`;
    case 'TARGET_UNREACHABLE': {
      const d = humanDetail(detailOf(text, 'target unreachable'));
      return `Could not reach ${t} (${d === '' ? 'the host did not answer' : d}).`;
    }
    case 'DNS_FAILED':
      return `Could not reach ${t} (the host name does not resolve).`;
    case 'SSH_CONNECTION_LOST':
      return `The SSH connection to ${t} was lost.`;
    case 'HOST_KEY_REJECTED':
    case 'HOST_KEY_UNKNOWN':
    case 'HOST_KEY_CHANGED':
      return hostKeySentence(code, t, text);
    case 'CONNECT_TIMEOUT':
      return `Connecting to ${t} timed out.`;
    case 'HANDSHAKE_TIMEOUT':
      return `The SSH handshake with ${t} timed out.`;
    case 'SSH_AUTH_TIMEOUT':
      return `Logging in to ${t} timed out.`;
    case 'CREDENTIALS_TIMEOUT':
      return 'The gateway timed out waiting for the login details.';
    case 'CLIENT_STALLED':
      return 'The connection timed out: this page stopped reading output.';
    case 'PONG_TIMEOUT':
      return 'The connection to the gateway timed out.';
    case 'IDLE_TIMEOUT':
      return 'The session timed out after being idle for too long.';
    case 'LIMIT_TOTAL':
    case 'LIMIT_PER_IP':
    case 'LIMIT_PER_TARGET':
      return 'The gateway is busy (too many sessions); try again later.';
    case 'RATE_LIMITED':
      return 'The gateway is busy (too many connection attempts); try again later.';
    case 'TARGET_DENIED':
      return 'This gateway does not allow connections to that host.';
    case 'USER_DENIED':
      return 'You may not log in as that user through this gateway.';
    case 'AUTH_BANNED':
      return BANNED;
    case 'BRIDGE_AUTH_REQUIRED':
      return 'This gateway requires an access token: enter it and connect again.';
    case 'BRIDGE_AUTH_INVALID':
      return 'The gateway did not accept the access token (wrong or expired): enter a valid one and connect again.';
    case 'BRIDGE_AUTH_UNAVAILABLE':
      return 'The gateway cannot check access tokens right now; try again later.';
    case 'CLUSTER_UNAVAILABLE':
      return 'The gateway cannot reach its shared state right now; try again later.';
    case 'TICKET_INVALID':
      return 'The gateway refused the connection ticket (expired or already used); connect again.';
    case 'TICKETS_FULL':
      return 'The gateway is busy (too many pending connections); try again in a moment.';
    case 'CSRF_REJECTED':
      return 'The gateway refused a request from this page (cross-site check); reload the page.';
    case 'ORIGIN_FORBIDDEN':
      return 'This page is not allowed to use the gateway (origin not allowed).';
    case 'SHUTDOWN':
    case 'DRAINING':
      return 'The gateway is shutting down; try again in a moment.';
    case 'PROTOCOL_ERROR':
    case 'UNSUPPORTED_MEDIA_TYPE':
    case 'BODY_TOO_LARGE':
    case 'BAD_PATH':
    case 'BAD_PORT':
    case 'BAD_REQUEST':
      return 'The gateway rejected a message from this page (protocol error).';
    case 'FRAME_TOO_BIG':
      return 'A message was too large for the gateway.';
    case 'CHANNEL_FAILED':
      return `Logged in, but ${t} could not open a shell.`;
    case 'INTERNAL':
      return 'The gateway hit an internal error; try again.';
    case 'SHELL_EXITED': {
      const m = /exit status (\d+)|signal ([A-Z0-9]+)/.exec(text);
      return exitSentence(m?.[1] === undefined ? null : Number(m[1]), m?.[2] ?? null);
    }
    case 'CLIENT_CLOSED':
      return 'Disconnected.';
    case 'RESUME_INVALID':
    case 'RESUME_EXPIRED':
      return 'The session could not be resumed (it ended, or it was kept too long without a connection).';
    case 'SESSION_TAKEN_OVER':
      return 'This session was resumed in another tab or window, so it is no longer connected here.';
    case 'RESTARTING':
      return 'The gateway is restarting, so this session has ended. Log in again to start a new one.';
    default:
      return null;
  }
}

function authFailedSentence(method: CloseInfo['method']): string {
  if (method === 'keyboard-interactive') return 'Authentication failed: the server did not accept the answers.';
  return method === 'publickey'
    ? 'Authentication failed: the key was not accepted (wrong key, passphrase or username).'
    : 'Authentication failed: wrong username or password.';
}

/**
 * What a failed login adds about the ban: " 2 attempts left before your address is blocked for 5
 * minutes." / " 1 attempt left …"; at 0 the ban's own sentence (describeClose then adds when to try
 * again, from `retryAfter`). Nothing when the gateway said nothing (more attempts left, no ban).
 */
function attemptsSentence(error: GatewayError | null): string {
  const left = error?.attemptsLeft ?? null;
  if (left === null) return '';
  if (left <= 0) return ` ${BANNED}`;
  const ban = error?.banSeconds ?? null;
  return ` ${left} ${left === 1 ? 'attempt' : 'attempts'} left before your address is blocked${ban === null ? '' : ` for ${duration(ban)}`}.`;
}

function byCloseCode(info: CloseInfo): string {
  switch (info.code) {
    case 1000:
      return 'The session ended.';
    case 1001:
      return 'The gateway is shutting down; try again in a moment.';
    case 1002:
    case 1003:
    case 1007:
    case 1008:
      return 'The gateway refused the connection (policy or protocol error).';
    case 1009:
      return 'A message was too large for the gateway.';
    case 1011:
      return 'The gateway hit an internal error; try again.';
    case 1012:
      return byCatalogue('RESTARTING', info) ?? '';
    case 1013:
      return 'The gateway is busy; try again later.';
    case 4001:
      return byCatalogue('SSH_AUTH_FAILED', info) ?? '';
    case 4002:
      return `The host key of ${info.target} was rejected by the gateway.`;
    case 4003:
      return `Could not reach ${info.target}.`;
    case 4004:
      return 'The connection timed out.';
    case 4005:
      return 'The session timed out after being idle for too long.';
    case 4006:
      return 'The gateway refused the connection (gateway authentication).';
    case 4007:
      return byCatalogue('RESUME_INVALID', info) ?? '';
    case 4008:
      return byCatalogue('SESSION_TAKEN_OVER', info) ?? '';
    case 1005:
    case 1006:
      return info.wasReady ? 'The connection to the gateway was lost.' : 'Could not connect to the gateway.';
    default: {
      const why = info.reason.trim();
      return `The connection closed (code ${info.code}${why === '' ? '' : `: ${why}`}).`;
    }
  }
}

/** 90 -> "90 s"; 240 -> "4 minutes". */
function duration(seconds: number): string {
  return seconds < 120 ? `${seconds} s` : `${Math.ceil(seconds / 60)} minutes`;
}

/** `Retry-After: 90` -> "Try again in 90 s."; 240 -> "Try again in 4 minutes." */
function retryAfterSentence(seconds: number): string {
  return `Try again in ${duration(seconds)}.`;
}

/** One sentence for any close. */
export function describeClose(info: CloseInfo): string {
  const code = catalogueCode(info);
  const sentence = (code === null ? null : byCatalogue(code, info)) ?? byCloseCode(info);
  // A retried refusal shows its own countdown; a final one says when trying again makes sense.
  return info.retryAfter !== undefined && info.retryAfter > 0 && !isRetryable(info) ? `${sentence} ${retryAfterSentence(info.retryAfter)}` : sentence;
}

export function exitSentence(status: number | null, signal: string | null): string {
  // The protocol names signals without "SIG" (KILL); accept either spelling.
  if (signal !== null && signal !== '') return `Session ended (signal ${signal.replace(/^SIG/, '')}).`;
  if (status !== null) return `Session ended (exit status ${status}).`;
  return 'Session ended.';
}

/**
 * Whether a close after a working session is worth retrying automatically: network loss,
 * shutdown, lost SSH connection, transport timeouts and passing gateway trouble (a ticket that
 * expired on the way, a full ticket table, the credential checker or the cluster's Redis
 * unavailable: a retry fetches a new ticket). Never after authentication failure (SSH or gateway), a host key refusal (4002),
 * policy, limits, idle timeout or a normal end.
 */
export function isRetryable(info: CloseInfo): boolean {
  if (info.code === 4002) return false; // host key: a retry would meet the same key (or question)
  const code = catalogueCode(info);
  if (code !== null) {
    return ['SSH_CONNECTION_LOST', 'TARGET_UNREACHABLE', 'SHUTDOWN', 'DRAINING', 'PONG_TIMEOUT',
      'CLIENT_STALLED', 'CONNECT_TIMEOUT', 'HANDSHAKE_TIMEOUT', 'TICKET_INVALID', 'TICKETS_FULL',
      'BRIDGE_AUTH_UNAVAILABLE', 'CLUSTER_UNAVAILABLE'].includes(code);
  }
  return info.code === 1006 || info.code === 1001 || info.code === 1005 || info.code === 4003;
}

/**
 * The one error catalogue. Every failure the bridge reports carries one of these stable codes;
 * the code alone decides the HTTP status (before the upgrade) and the WebSocket close code and
 * reason (after it). Documented one anchor per code in docs/errors.md.
 */

export interface ErrorSpec {
  /** HTTP status when the error happens before the WebSocket upgrade. */
  readonly http: number;
  /** WebSocket close code when it happens after the upgrade. */
  readonly close: number;
  /** Short, secret-free text; used as the close reason (<= 123 bytes) and the HTTP `message`. */
  readonly message: string;
}

export const ERRORS = {
  BAD_PATH: { http: 400, close: 1008, message: 'path must be /ws/{host}/{port}' },
  BAD_PORT: { http: 400, close: 1008, message: 'target port must be 1-65535' },
  BAD_JUMP: { http: 400, close: 1008, message: 'jump hosts must be host[:port], at most 3, each with its login' },
  BAD_REQUEST: { http: 400, close: 1008, message: 'malformed HTTP request' },
  REQUEST_TIMEOUT: { http: 408, close: 1008, message: 'request head not received in time' },
  HEADERS_TOO_LARGE: { http: 431, close: 1008, message: 'request headers too large' },
  TLS_HANDSHAKE_FAILED: { http: 400, close: 1008, message: 'tls handshake failed' },
  NOT_FOUND: { http: 404, close: 1008, message: 'not found' },
  METHOD_NOT_ALLOWED: { http: 405, close: 1008, message: 'method not allowed' },
  UPGRADE_REQUIRED: { http: 426, close: 1008, message: 'this route needs a WebSocket upgrade' },
  RATE_LIMITED: { http: 429, close: 1013, message: 'too many connection attempts, try later' },
  AUTH_BANNED: { http: 429, close: 1013, message: 'too many failed logins from your address, try later' },
  ORIGIN_FORBIDDEN: { http: 403, close: 1008, message: 'origin not allowed' },
  CSRF_REJECTED: { http: 403, close: 1008, message: 'cross-site request refused' },
  UNSUPPORTED_MEDIA_TYPE: { http: 415, close: 1008, message: 'content type must be application/json' },
  BODY_TOO_LARGE: { http: 413, close: 1009, message: 'request body too large' },
  BRIDGE_AUTH_REQUIRED: { http: 401, close: 4006, message: 'gateway authentication required' },
  BRIDGE_AUTH_INVALID: { http: 401, close: 4006, message: 'gateway credential rejected' },
  BRIDGE_AUTH_UNAVAILABLE: { http: 503, close: 1013, message: 'gateway authentication unavailable, try later' },
  TICKET_INVALID: { http: 401, close: 4006, message: 'ticket invalid, expired or already used' },
  TICKETS_FULL: { http: 503, close: 1013, message: 'too many outstanding tickets, try later' },
  RECORDINGS_NEED_AUTH: { http: 403, close: 1008, message: 'recordings are only served with gateway authentication on' },
  ADMIN_REQUIRED: { http: 403, close: 1008, message: 'an operator (admin) identity is required' },
  BAD_RECORDING_NAME: { http: 400, close: 1008, message: 'not a recording file name' },
  RECORDING_NOT_FOUND: { http: 404, close: 1008, message: 'recording not found' },
  USER_DENIED: { http: 403, close: 1008, message: 'ssh user not permitted for this identity' },
  TARGET_DENIED: { http: 403, close: 1008, message: 'target denied by policy' },
  LIMIT_TOTAL: { http: 503, close: 1013, message: 'server full, try later' },
  LIMIT_PER_IP: { http: 503, close: 1013, message: 'too many sessions from your address' },
  LIMIT_PER_TARGET: { http: 503, close: 1013, message: 'too many sessions to this target' },
  CLUSTER_UNAVAILABLE: { http: 503, close: 1013, message: 'cluster state unavailable, try later' },
  DRAINING: { http: 503, close: 1001, message: 'server shutting down' },
  SHUTDOWN: { http: 503, close: 1001, message: 'server shutting down' },
  PROTOCOL_ERROR: { http: 400, close: 1008, message: 'protocol error' },
  FRAME_TOO_BIG: { http: 413, close: 1009, message: 'frame too big' },
  CREDENTIALS_TIMEOUT: { http: 408, close: 4004, message: 'timeout: no credentials' },
  CONNECT_TIMEOUT: { http: 504, close: 4004, message: 'timeout: tcp connect' },
  HANDSHAKE_TIMEOUT: { http: 504, close: 4004, message: 'timeout: ssh handshake' },
  SSH_AUTH_TIMEOUT: { http: 504, close: 4004, message: 'timeout: ssh authentication' },
  CLIENT_STALLED: { http: 408, close: 4004, message: 'timeout: client stopped reading' },
  PONG_TIMEOUT: { http: 408, close: 4004, message: 'timeout: no pong' },
  IDLE_TIMEOUT: { http: 408, close: 4005, message: 'idle timeout' },
  SSH_AUTH_FAILED: { http: 401, close: 4001, message: 'ssh authentication failed' },
  SSH_KEY_INVALID: { http: 401, close: 4001, message: 'private key could not be read' },
  SSH_KEY_PASSPHRASE: { http: 401, close: 4001, message: 'private key passphrase wrong or missing' },
  SSH_NO_AUTH_METHOD: { http: 401, close: 4001, message: 'server does not accept this authentication method' },
  HOST_KEY_REJECTED: { http: 502, close: 4002, message: 'host key rejected' },
  HOST_KEY_UNKNOWN: { http: 502, close: 4002, message: 'host key not known' },
  HOST_KEY_CHANGED: { http: 502, close: 4002, message: 'host key changed' },
  TARGET_UNREACHABLE: { http: 502, close: 4003, message: 'target unreachable' },
  DNS_FAILED: { http: 502, close: 4003, message: 'target name does not resolve' },
  SSH_CONNECTION_LOST: { http: 502, close: 4003, message: 'ssh connection lost' },
  SHELL_EXITED: { http: 200, close: 1000, message: 'shell exited' },
  CLIENT_CLOSED: { http: 200, close: 1000, message: 'client closed' },
  CHANNEL_FAILED: { http: 502, close: 1011, message: 'ssh shell could not be opened' },
  INTERNAL: { http: 500, close: 1011, message: 'internal error' },
  WORKER_LOST: { http: 502, close: 1011, message: 'worker process ended' },
  RESUME_INVALID: { http: 404, close: 4007, message: 'resume token invalid, expired or already used' },
  RESUME_EXPIRED: { http: 410, close: 4007, message: 'not resumed within the grace period' },
  SESSION_TAKEN_OVER: { http: 409, close: 4008, message: 'session resumed by another connection' },
  RESTARTING: { http: 503, close: 1012, message: 'server restarting, reconnect' },
  SHARE_INVALID: { http: 404, close: 4009, message: 'share link invalid, expired or revoked' },
  SHARE_REVOKED: { http: 410, close: 4009, message: 'share link ended' },
  SHARE_FULL: { http: 503, close: 1013, message: 'too many viewers for this session' },
  SHARE_DISABLED: { http: 403, close: 1008, message: 'sharing is off on this gateway' },
  SHARE_LINKS_FULL: { http: 429, close: 1008, message: 'too many live share links for this session' },
  VIEWER_TOO_SLOW: { http: 408, close: 4010, message: 'viewer fell too far behind' },
  FILES_DISABLED: { http: 403, close: 1008, message: 'file transfer is off on this gateway' },
  FILES_UNAVAILABLE: { http: 502, close: 1008, message: 'file transfer not available on this server' },
  FILES_TOKEN_INVALID: { http: 401, close: 1008, message: 'file token invalid, expired, used, or its session ended' },
  FILES_WRONG_WORKER: { http: 421, close: 1008, message: 'file request reached a worker that does not hold the session' },
  FILES_BAD_PATH: { http: 400, close: 1008, message: 'not a usable path' },
  FILES_NAME_TOO_LONG: { http: 414, close: 1008, message: 'name or path too long' },
  FILES_NOT_FOUND: { http: 404, close: 1008, message: 'no such file or directory' },
  FILES_PERMISSION_DENIED: { http: 403, close: 1008, message: 'permission denied' },
  FILES_READ_ONLY: { http: 403, close: 1008, message: 'this gateway identity may read files but not change them' },
  FILES_EXISTS: { http: 409, close: 1008, message: 'a file of that name exists' },
  FILES_NOT_EMPTY: { http: 409, close: 1008, message: 'directory not empty' },
  FILES_DISK_FULL: { http: 507, close: 1008, message: 'no space left or quota exceeded on the server' },
  FILES_TOO_LARGE: { http: 413, close: 1008, message: 'upload larger than the limit' },
  FILES_TOO_MANY: { http: 413, close: 1008, message: 'folder has too many entries or levels to download' },
  FILES_BUSY: { http: 429, close: 1008, message: 'too many transfers for this session' },
  FILES_INCOMPLETE: { http: 400, close: 1008, message: 'transfer ended early or its file changed while read' },
  FILES_FAILED: { http: 502, close: 1008, message: 'the server could not do this file operation' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error with a catalogue code. `detail` may refine the message; it must never hold secrets. */
export class BridgeError extends Error {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
  /**
   * A shorter detail for the close reason, when `detail` would not fit its 123 bytes (the v1
   * `error` message still carries the whole `detail`). Undefined: the reason uses `detail`.
   */
  readonly reasonDetail: string | undefined;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown; reasonDetail?: string }) {
    const { reasonDetail, ...errorOptions } = options ?? {};
    super(errorMessage(code, detail), options === undefined ? undefined : errorOptions);
    this.name = 'BridgeError';
    this.code = code;
    this.detail = detail;
    this.reasonDetail = reasonDetail;
  }

  get http(): number {
    return ERRORS[this.code].http;
  }

  get closeCode(): number {
    return ERRORS[this.code].close;
  }
}

const MAX_REASON_BYTES = 123;

/** Close reason text for a code: `CODE: message`, cut on a character boundary to fit a close frame. */
export function closeReason(code: ErrorCode, detail?: string): string {
  const base = `${code}: ${errorMessage(code, detail)}`;
  const bytes = Buffer.from(base);
  if (bytes.length <= MAX_REASON_BYTES) return base;
  let end = MAX_REASON_BYTES;
  // Back off over UTF-8 continuation bytes (10xxxxxx) so no character is split.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}

/** The JSON body of an HTTP rejection. */
/** The catalogue message, with the detail after it when there is one (`message: detail`). */
export function errorMessage(code: ErrorCode, detail?: string): string {
  return detail === undefined ? ERRORS[code].message : `${ERRORS[code].message}: ${detail}`;
}

export function httpBody(code: ErrorCode, detail?: string): string {
  return JSON.stringify({ code, message: errorMessage(code, detail) });
}

export function isBridgeError(err: unknown): err is BridgeError {
  return err instanceof BridgeError;
}

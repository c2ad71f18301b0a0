/**
 * The one place ssh2 and socket errors become catalogue codes. ssh2 tags its errors with
 * `level` (`client-socket`, `client-timeout`, `client-authentication`, `protocol`, ...).
 */
import { BridgeError } from '../errors.js';

const UNREACHABLE = new Set(['ETIMEDOUT', 'ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE', 'EADDRNOTAVAIL', 'ENETDOWN']);

export function mapSshError(err: Error & { level?: string; code?: string }, phase: 'connect' | 'handshake' | 'auth' | 'active'): BridgeError {
  if (err.level === 'client-authentication') return new BridgeError('SSH_AUTH_FAILED', undefined, { cause: err });
  if (err.level === 'client-timeout') {
    if (phase === 'active') return new BridgeError('SSH_CONNECTION_LOST', 'keepalive timeout', { cause: err });
    return new BridgeError(phase === 'auth' ? 'SSH_AUTH_TIMEOUT' : 'HANDSHAKE_TIMEOUT', undefined, { cause: err });
  }
  if (phase === 'active') return new BridgeError('SSH_CONNECTION_LOST', err.code, { cause: err });
  if (err.code === 'ETIMEDOUT' && phase === 'connect') return new BridgeError('CONNECT_TIMEOUT', undefined, { cause: err });
  if (err.code !== undefined && UNREACHABLE.has(err.code)) {
    return new BridgeError('TARGET_UNREACHABLE', err.code === 'ECONNREFUSED' ? 'connection refused' : err.code, { cause: err });
  }
  if (err.level === 'protocol' || err.level === 'handshake') {
    return new BridgeError('TARGET_UNREACHABLE', 'ssh protocol error', { cause: err });
  }
  return new BridgeError('TARGET_UNREACHABLE', undefined, { cause: err });
}

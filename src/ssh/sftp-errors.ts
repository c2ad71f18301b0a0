/**
 * SFTP status codes to catalogue codes: the one boundary where a file operation's failure gets
 * its code (docs/errors.md). ssh2 gives a status response as an Error with a numeric `code`
 * (draft-ietf-secsh-filexfer: 2 no such file, 3 permission denied, 4 failure, ...). Protocol
 * version 3, the one OpenSSH speaks, has no "disk full" status: OpenSSH's sftp-server answers
 * ENOSPC and EDQUOT with 4 (failure), which maps here to FILES_FAILED; an upload that fails that
 * way then asks the server's free space (./sftp-space.ts) and becomes FILES_DISK_FULL when the
 * disk is full. The later statuses 14 (no space) and 15 (quota) map to FILES_DISK_FULL here, for
 * servers that send them. Pure.
 */
import { BridgeError, isBridgeError, type ErrorCode } from '../errors.js';

const STATUS: Readonly<Record<number, ErrorCode>> = {
  2: 'FILES_NOT_FOUND', // NO_SUCH_FILE
  3: 'FILES_PERMISSION_DENIED', // PERMISSION_DENIED
  10: 'FILES_NOT_FOUND', // NO_SUCH_PATH
  11: 'FILES_EXISTS', // FILE_ALREADY_EXISTS
  12: 'FILES_PERMISSION_DENIED', // WRITE_PROTECT
  14: 'FILES_DISK_FULL', // NO_SPACE_ON_FILESYSTEM
  15: 'FILES_DISK_FULL', // QUOTA_EXCEEDED
  18: 'FILES_NOT_EMPTY', // DIR_NOT_EMPTY
};

/** The catalogue error for a failed SFTP operation `what` (a BridgeError passes through). */
export function mapSftpError(err: unknown, what: string): BridgeError {
  if (isBridgeError(err)) return err;
  if (err instanceof Error && err.name === 'AbortError') return new BridgeError('FILES_FAILED', `${what}: the session ended`, { cause: err });
  // `code` is a string (an errno) from the HTTP side, a number (an SFTP status) from the server.
  const code = (err as { code?: unknown } | null)?.code;
  // The HTTP side of a stream: the client went away, or its body stopped short of its length.
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE') return new BridgeError('FILES_INCOMPLETE', `${what}: the client went away`, { cause: err });
  const catalogue = typeof code === 'number' ? STATUS[code] ?? 'FILES_FAILED' : 'FILES_FAILED';
  const text = err instanceof Error ? err.message : String(err);
  return new BridgeError(catalogue, catalogue === 'FILES_FAILED' ? `${what}: ${text}`.slice(0, 200) : what, { cause: err });
}

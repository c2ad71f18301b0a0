/**
 * A full disk behind OpenSSH's plain failure. SFTP version 3 has no "no space" status: OpenSSH's
 * sftp-server answers ENOSPC and EDQUOT with status 4 (failure), which alone maps to FILES_FAILED
 * (./sftp-errors.ts). When an upload fails that way, the bridge asks the server for the free space
 * of the target directory (statvfs@openssh.com) while the temporary file still holds what was
 * written, and answers FILES_DISK_FULL when the bytes free to the user (f_bavail x f_frsize) are
 * below what the upload still needed, and never below one write chunk. No extension, a failed
 * statvfs, or room enough: the failure stays what it was. A quota is not a filesystem's free
 * space, so a quota exceeded on a disk with room stays FILES_FAILED.
 *
 * `diskFullDetail` is the decision (pure); `diskFull` asks the server and never throws.
 */
import { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { SFTPWrapper } from 'ssh2';
import { BridgeError, isBridgeError } from '../errors.js';

/** SFTP status 4 (SSH_FX_FAILURE). */
const FAILURE = 4;

/** The statvfs@openssh.com figures the decision reads (numbers from ssh2, bigints with its `biOpt`). */
export interface Space {
  readonly f_bavail: number | bigint;
  readonly f_frsize: number | bigint;
}

/** Where the upload stood when it failed. */
export interface UploadState {
  /** The body's declared length (`Content-Length`), null when chunked. */
  readonly declared: number | null;
  /** Body bytes read so far. */
  readonly passed: number;
  /** One write's size: a disk with less room than this is full whatever the upload. */
  readonly chunk: number;
}

/** Whether `err` is the server's plain failure (status 4), as ssh2 gave it or as the FILES_FAILED it was mapped to. */
export function isPlainFailure(err: unknown): boolean {
  const raw = isBridgeError(err) ? (err.code === 'FILES_FAILED' ? err.cause : undefined) : err;
  return (raw as { code?: unknown } | null | undefined)?.code === FAILURE;
}

/** The length a request body announced, or null (chunked, or not an HTTP request). */
export function declaredLength(body: Readable): number | null {
  if (!(body instanceof IncomingMessage)) return null;
  const n = Number(body.headers['content-length'] ?? Number.NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** The FILES_DISK_FULL detail when `space` cannot hold what the upload still needed, else null. Pure. */
export function diskFullDetail(space: Space, state: UploadState): string | null {
  const free = Number(space.f_bavail) * Number(space.f_frsize);
  if (!Number.isFinite(free) || free < 0) return null;
  const still = state.declared === null ? 0 : state.declared - state.passed;
  if (free >= Math.max(still, state.chunk)) return null;
  return `write: ${free} bytes free on the server's filesystem`;
}

/** After a plain failure of an upload into `dir`: FILES_DISK_FULL when the server's disk is full, else null. Never throws. */
export async function diskFull(sftp: SFTPWrapper, dir: string, err: unknown, state: UploadState): Promise<BridgeError | null> {
  if (!isPlainFailure(err)) return null;
  const space = await new Promise<Space | null>((resolve) => {
    try {
      sftp.ext_openssh_statvfs(dir, (e, st: Space | undefined) => resolve(e === undefined || e === null ? st ?? null : null));
    } catch {
      resolve(null); // no statvfs@openssh.com on this server, or the channel is closed
    }
  });
  const detail = space === null ? null : diskFullDetail(space, state);
  return detail === null ? null : new BridgeError('FILES_DISK_FULL', detail, { cause: err });
}

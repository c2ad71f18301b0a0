/**
 * Paths of the file API (docs/protocol.md#files): what the bridge refuses before the SFTP server
 * sees a path. Paths are the SSH user's (absolute, or relative to the login directory, as SFTP
 * takes them); the user's own permissions on the server are the real bound, so `..` is not
 * refused. Only what is malformed is: no path, a NUL byte, a name over 255 bytes, a path over
 * 4096 bytes (the Linux limits, NAME_MAX and PATH_MAX). Pure.
 */
import { BridgeError } from '../errors.js';

export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

/** A path as given, checked; throws FILES_BAD_PATH or FILES_NAME_TOO_LONG. */
export function checkPath(path: string | null): string {
  if (path === null || path === '') throw new BridgeError('FILES_BAD_PATH', 'empty path');
  if (path.includes('\0')) throw new BridgeError('FILES_BAD_PATH', 'NUL in path');
  if (Buffer.byteLength(path) > MAX_PATH_BYTES) throw new BridgeError('FILES_NAME_TOO_LONG', `path over ${MAX_PATH_BYTES} bytes`);
  for (const name of path.split('/')) {
    if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new BridgeError('FILES_NAME_TOO_LONG', `name over ${MAX_NAME_BYTES} bytes`);
  }
  return path;
}

/**
 * A path that names an entry to make or replace (upload, mkdir, the target of a rename): checked,
 * and split into its directory and its last name, which must be a real name (not `.` or `..`).
 */
export function splitTarget(path: string | null): { readonly dir: string; readonly name: string; readonly path: string } {
  const p = checkPath(path).replace(/\/+$/, '');
  const slash = p.lastIndexOf('/');
  const name = p.slice(slash + 1);
  if (name === '' || name === '.' || name === '..') throw new BridgeError('FILES_BAD_PATH', 'the path must end in a name');
  const dir = slash < 0 ? '.' : slash === 0 ? '/' : p.slice(0, slash);
  return { dir, name, path: p };
}

/** `dir` joined with `name` the way SFTP paths join. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

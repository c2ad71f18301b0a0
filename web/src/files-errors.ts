/**
 * The Files panel's error sentences (pure): a refusal of the file API (docs/protocol.md#files,
 * the FILES_* codes of docs/errors.md) as a plain sentence that ends with its code, e.g.
 * "Permission denied (FILES_PERMISSION_DENIED)".
 */

const SENTENCES: Readonly<Record<string, string>> = {
  FILES_DISABLED: 'File transfer is off on this gateway',
  FILES_UNAVAILABLE: 'This server does not offer file transfer (no SFTP)',
  FILES_TOKEN_INVALID: 'The file session expired; try again',
  FILES_WRONG_WORKER: 'The gateway could not reach this session; try again',
  FILES_BAD_PATH: 'That is not a usable path',
  FILES_NAME_TOO_LONG: 'The name or path is too long',
  FILES_NOT_FOUND: 'No such file or folder',
  FILES_PERMISSION_DENIED: 'Permission denied',
  FILES_EXISTS: 'A file or folder of that name exists already',
  FILES_NOT_EMPTY: 'The folder is not empty',
  FILES_DISK_FULL: 'The server has no space left (or the quota is used up)',
  FILES_TOO_LARGE: 'The file is larger than this gateway accepts',
  FILES_BUSY: 'Too many transfers at once; wait for one to finish',
  FILES_INCOMPLETE: 'The upload ended early',
  FILES_FAILED: 'The server could not do this',
  RATE_LIMITED: 'Too many requests; wait a moment',
  CSRF_REJECTED: 'The gateway refused a request from another site',
};

/** The sentence for `code` (a refusal's `message` for a code not listed; a generic one without either). */
export function filesErrorText(code: string | null, message?: string | null): string {
  if (code === null || code === '') return message === undefined || message === null || message === '' ? 'The request failed' : capital(message);
  const sentence = SENTENCES[code] ?? (message === undefined || message === null || message === '' ? 'The request failed' : capital(message));
  return `${sentence} (${code})`;
}

/** A network failure (no answer at all). */
export const NETWORK_ERROR = 'The gateway could not be reached';

function capital(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

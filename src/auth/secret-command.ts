/**
 * `webssh-bridge new-secret [ID]`: print a new line for the keyring file (`--cluster-secret-file`,
 * ./keyring-file.ts): `ID SECRET`, the secret 32 random bytes in base64url. ID defaults to the
 * UTC date and 4 random hex digits. Reads no configuration and no file.
 */
import type { CommandResult } from './token-command.js';
import { defaultKeyId, KEY_ID, newSecretLine } from './keyring-file.js';

export const SECRET_COMMAND = 'new-secret';

export function isSecretCommand(argv: readonly string[]): boolean {
  return argv[0] === SECRET_COMMAND;
}

export function runSecretCommand(argv: readonly string[]): CommandResult {
  const rest = argv.slice(1);
  const [id, ...extra] = rest;
  if (extra.length > 0 || (id !== undefined && !KEY_ID.test(id))) {
    return { stdout: '', stderr: `usage: webssh-bridge ${SECRET_COMMAND} [ID]   (ID: 1-32 characters of A-Z a-z 0-9 _ -; default: today's date and 4 random hex digits)\n`, code: 2 };
  }
  return { stdout: `${newSecretLine(id ?? defaultKeyId())}\n`, stderr: '', code: 0 };
}

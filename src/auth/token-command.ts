/**
 * `webssh-bridge new-token [--admin] [NAME]` and `webssh-bridge hash-token [--admin] [NAME]`:
 * make lines for the auth-tokens file. new-token prints a fresh token (give it to the client) and
 * then its file line; hash-token reads a token from standard input and prints only its file line.
 * `--admin` adds the operator flag (recordings); it needs a NAME, which the flag follows.
 */
import { hashToken, newToken, tokenLine } from './tokens.js';

export const TOKEN_COMMANDS = ['new-token', 'hash-token'] as const;

const NAME = /^[\x21-\x7e]{1,64}$/;

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export function isTokenCommand(argv: readonly string[]): boolean {
  return (TOKEN_COMMANDS as readonly string[]).includes(argv[0] ?? '');
}

/** Run a token command; `stdin` is read only by hash-token. */
export function runTokenCommand(argv: readonly string[], stdin: () => string): CommandResult {
  const [command, ...rest] = argv;
  const admin = rest.includes('--admin');
  const [name, ...extra] = rest.filter((a) => a !== '--admin');
  if (extra.length > 0 || (name !== undefined && !NAME.test(name)) || (admin && name === undefined) || rest.filter((a) => a === '--admin').length > 1) {
    return { stdout: '', stderr: `usage: webssh-bridge ${command ?? 'new-token'} [--admin] [NAME]   (NAME: 1-64 printable characters, no spaces; --admin needs a NAME)\n`, code: 2 };
  }
  if (command === 'new-token') {
    const { token, line } = newToken(name, admin);
    return { stdout: `${token}\n${line}\n`, stderr: '', code: 0 };
  }
  const token = stdin().replace(/\r?\n$/, '');
  // What a client can send after "Bearer ": printable ASCII, no spaces.
  if (!/^[\x21-\x7e]{16,}$/.test(token)) {
    return { stdout: '', stderr: 'hash-token: read a token of at least 16 printable characters without spaces from standard input\n', code: 2 };
  }
  return { stdout: `${tokenLine(hashToken(token), name, admin)}\n`, stderr: '', code: 0 };
}

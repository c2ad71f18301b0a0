/**
 * `webssh-bridge new-token [--admin] [--files-read] [NAME]` and
 * `webssh-bridge hash-token [--admin] [--files-read] [NAME]`: make lines for the auth-tokens
 * file. new-token prints a fresh token (give it to the client) and then its file line;
 * hash-token reads a token from standard input and prints only its file line. `--admin` adds the
 * operator flag (recordings), `--files-read` the `files=read` flag (list and download files, never
 * change them); each needs a NAME, which the flags follow on the line.
 */
import { hashToken, newToken, tokenLine } from './tokens.js';

export const TOKEN_COMMANDS = ['new-token', 'hash-token'] as const;

const NAME = /^[\x21-\x7e]{1,64}$/;
const FLAGS = ['--admin', '--files-read'] as const;

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
  const files = rest.includes('--files-read') ? 'read' : 'write';
  const [name, ...extra] = rest.filter((a) => !(FLAGS as readonly string[]).includes(a));
  const repeated = FLAGS.some((f) => rest.filter((a) => a === f).length > 1);
  if (extra.length > 0 || (name !== undefined && !NAME.test(name)) || ((admin || files === 'read') && name === undefined) || repeated) {
    return { stdout: '', stderr: `usage: webssh-bridge ${command ?? 'new-token'} [--admin] [--files-read] [NAME]   (NAME: 1-64 printable characters, no spaces; --admin and --files-read need a NAME)\n`, code: 2 };
  }
  if (command === 'new-token') {
    const { token, line } = newToken(name, admin, files);
    return { stdout: `${token}\n${line}\n`, stderr: '', code: 0 };
  }
  const token = stdin().replace(/\r?\n$/, '');
  // What a client can send after "Bearer ": printable ASCII, no spaces.
  if (!/^[\x21-\x7e]{16,}$/.test(token)) {
    return { stdout: '', stderr: 'hash-token: read a token of at least 16 printable characters without spaces from standard input\n', code: 2 };
  }
  return { stdout: `${tokenLine(hashToken(token), name, admin, files)}\n`, stderr: '', code: 0 };
}

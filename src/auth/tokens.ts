/**
 * Static bearer tokens. The file holds only SHA-256 hashes, one per line, so a leaked file does
 * not give access: `sha256:<64 hex> [name [admin]]`, `#` comments and blank lines ignored. The
 * `admin` flag (third field, after a name) makes the token an operator's (recordings). Tokens are
 * random 256-bit values (`webssh-bridge new-token` makes one), so a plain hash is enough: there
 * is no dictionary to attack, and a lookup by hash leaks nothing about the token.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface TokenEntry {
  /** The name shown in logs for this token (line number when the file gives none). */
  readonly name: string;
  /** The line carries the `admin` flag. */
  readonly admin: boolean;
}

/** A gateway-auth file or key the bridge cannot use: a configuration error (exit 2). */
export class AuthSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthSetupError';
  }
}

const LINE = /^sha256:([0-9a-fA-F]{64})(?:\s+([\x21-\x7e]{1,64})(?:\s+(admin))?)?$/;

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The file line for a token hash: `sha256:HEX [name [admin]]` (the flag needs a name before it). */
export function tokenLine(hash: string, name?: string, admin = false): string {
  if (admin && name === undefined) throw new Error('an admin token line needs a name');
  return `sha256:${hash}${name === undefined ? '' : ` ${name}`}${admin ? ' admin' : ''}`;
}

/** A new token (43 base64url characters, 256 bits) and the line that admits it. */
export function newToken(name?: string, admin = false): { token: string; line: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, line: tokenLine(hashToken(token), name, admin) };
}

/** Parse a token file; throws AuthSetupError naming the first bad line (never echoing its content). */
export function parseTokenFile(text: string, source = 'token file'): ReadonlyMap<string, TokenEntry> {
  const out = new Map<string, TokenEntry>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    if (m?.[1] === undefined) throw new AuthSetupError(`${source} line ${i + 1}: expected "sha256:<64 hex digits> [name [admin]]"`);
    out.set(m[1].toLowerCase(), { name: m[2] ?? `line-${i + 1}`, admin: m[3] !== undefined });
  });
  return out;
}

/** The entry a presented token matches, or undefined. */
export function matchToken(tokens: ReadonlyMap<string, TokenEntry>, presented: string): TokenEntry | undefined {
  return tokens.get(hashToken(presented));
}

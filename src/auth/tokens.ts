/**
 * Static bearer tokens. The file holds only SHA-256 hashes, one per line, so a leaked file does
 * not give access: `sha256:<64 hex> [name [admin] [files=read]]`, `#` comments and blank lines
 * ignored. After a name come flags, each at most once, in any order: `admin` makes the token an
 * operator's (recordings), `files=read` lets it list and download files but not change them
 * (Identity.files, FILES_READ_ONLY). Tokens are
 * random 256-bit values (`webssh-bridge new-token` makes one), so a plain hash is enough: there
 * is no dictionary to attack, and a lookup by hash leaks nothing about the token.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FilesAccess } from './identity.js';

export interface TokenEntry {
  /** The name shown in logs for this token (line number when the file gives none). */
  readonly name: string;
  /** The line carries the `admin` flag. */
  readonly admin: boolean;
  /** `read` when the line carries the `files=read` flag, else `write`. */
  readonly files: FilesAccess;
}

/** A gateway-auth file or key the bridge cannot use: a configuration error (exit 2). */
export class AuthSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthSetupError';
  }
}

const LINE = /^sha256:([0-9a-fA-F]{64})(?:\s+([\x21-\x7e]{1,64})((?:\s+(?:admin|files=read))*))?$/;
const EXPECTED = 'expected "sha256:<64 hex digits> [name [admin] [files=read]]"';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The file line for a token hash: `sha256:HEX [name [admin] [files=read]]` (flags need a name before them). */
export function tokenLine(hash: string, name?: string, admin = false, files: FilesAccess = 'write'): string {
  if (admin && name === undefined) throw new Error('an admin token line needs a name');
  if (files === 'read' && name === undefined) throw new Error('a files=read token line needs a name');
  return `sha256:${hash}${name === undefined ? '' : ` ${name}`}${admin ? ' admin' : ''}${files === 'read' ? ' files=read' : ''}`;
}

/** A new token (43 base64url characters, 256 bits) and the line that admits it. */
export function newToken(name?: string, admin = false, files: FilesAccess = 'write'): { token: string; line: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, line: tokenLine(hashToken(token), name, admin, files) };
}

/** Parse a token file; throws AuthSetupError naming the first bad line (never echoing its content). */
export function parseTokenFile(text: string, source = 'token file'): ReadonlyMap<string, TokenEntry> {
  const out = new Map<string, TokenEntry>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = LINE.exec(line);
    const flags = (m?.[3] ?? '').split(/\s+/).filter((f) => f !== '');
    if (m?.[1] === undefined || new Set(flags).size !== flags.length) throw new AuthSetupError(`${source} line ${i + 1}: ${EXPECTED}`);
    out.set(m[1].toLowerCase(), { name: m[2] ?? `line-${i + 1}`, admin: flags.includes('admin'), files: flags.includes('files=read') ? 'read' : 'write' });
  });
  return out;
}

/** The entry a presented token matches, or undefined. */
export function matchToken(tokens: ReadonlyMap<string, TokenEntry>, presented: string): TokenEntry | undefined {
  return tokens.get(hashToken(presented));
}

/**
 * OpenSSH `known_hosts` as pure functions: parse the text, look a presented host key up, format a
 * line to append, and print a fingerprint the way `ssh-keygen -lf` does. No file access here;
 * the store with its policy and atomic writes is src/ssh/host-keys.ts.
 *
 * What is understood (sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT"):
 * - `hostpatterns keytype base64key [comment]`; blank lines and `#` comments are skipped.
 * - Host patterns: a comma-separated list with `*` and `?` globs and `!negation` (a line whose
 *   negated pattern matches never matches, whatever else does). Names are compared in lower case,
 *   as OpenSSH does.
 * - Ports: a host on port 22 is written bare (`host`); any other port as `[host]:port`. The
 *   pattern is matched against exactly that string, so `[host]:2222` never matches port 22.
 * - Hashed hosts `|1|salt|hash`: HMAC-SHA1 of that same string (`host` or `[host]:port`), keyed
 *   by the base64-decoded salt (`ssh-keygen -H`).
 * - `@revoked`: the key is refused for the hosts it names (`*` for all), even where another line
 *   lists it as valid.
 * - `@cert-authority` lines are skipped: the bridge does not verify host certificates, so a CA
 *   line trusts nothing here (such hosts must also be listed with their plain key).
 *
 * Lines that cannot be read (wrong field count, bad base64, a key blob whose own type disagrees
 * with the key type field, an unknown marker) are skipped and reported through `onProblem`, as
 * OpenSSH skips them; one bad line never hides the rest of the file.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** One usable line of a known_hosts file. */
export interface KnownHostEntry {
  /** Where it came from, for logs: the file path (or `memory`). */
  readonly source: string;
  /** 1-based line number in `source` (0 for entries that never were in a file). */
  readonly line: number;
  /** `revoked` for `@revoked` lines. */
  readonly marker: 'revoked' | null;
  readonly hosts: HostMatcher;
  /** The key type field, e.g. `ssh-ed25519`, `ssh-rsa`, `ecdsa-sha2-nistp256`. */
  readonly keyType: string;
  /** The decoded key blob (what the server sends in the key exchange). */
  readonly key: Buffer;
  /** `SHA256:...` of `key`. */
  readonly fingerprint: string;
}

export type HostMatcher =
  | { readonly kind: 'hashed'; readonly salt: Buffer; readonly hash: Buffer }
  | { readonly kind: 'patterns'; readonly patterns: readonly HostPattern[] };

export interface HostPattern {
  readonly negated: boolean;
  /** Lower-cased glob (`*`, `?`). */
  readonly glob: string;
}

/** A stored key, as reported when the presented one differs. */
export interface StoredKey {
  readonly keyType: string;
  readonly fingerprint: string;
  readonly source: string;
  readonly line: number;
}

export type LookupResult =
  /** A non-revoked line for this host holds exactly the presented key. */
  | { readonly status: 'match'; readonly entry: KnownHostEntry }
  /** A `@revoked` line for this host (or `*`) holds the presented key. */
  | { readonly status: 'revoked'; readonly entry: KnownHostEntry }
  /** The host has keys of the presented key's type, and none of them is the presented key. */
  | { readonly status: 'mismatch'; readonly stored: readonly StoredKey[] }
  /**
   * No key of this type for this host. `otherTypes` lists keys of other types stored for it
   * (OpenSSH would prompt with a warning; src/ssh/host-keys.ts decides what that means).
   */
  | { readonly status: 'unknown'; readonly otherTypes: readonly StoredKey[] };

/** `SHA256:<base64 without padding>` of a key blob, exactly as `ssh-keygen -lf` prints it. */
export function sha256Fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/**
 * The key type stored at the start of an SSH public key blob (an SSH `string`: uint32 length +
 * bytes), or null when the blob is too short or the name is not printable ASCII.
 */
export function keyTypeOfBlob(blob: Buffer): string | null {
  if (blob.length < 4) return null;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) return null;
  const name = blob.subarray(4, 4 + len).toString('latin1');
  return /^[\x21-\x7e]+$/.test(name) ? name : null;
}

/** The string OpenSSH matches patterns and hashes against: `host` on port 22, else `[host]:port`. */
export function hostPortString(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function decodeBase64(text: string): Buffer | null {
  if (!BASE64.test(text) || text.length % 4 !== 0) return null;
  return Buffer.from(text, 'base64');
}

function parseHosts(field: string): HostMatcher | string {
  if (field.startsWith('|')) {
    // |1|salt|hash: the only hash format OpenSSH has ever written.
    const parts = field.split('|');
    if (parts.length !== 4 || parts[1] !== '1') return 'unsupported hashed host format';
    const salt = decodeBase64(parts[2] ?? '');
    const hash = decodeBase64(parts[3] ?? '');
    if (salt === null || hash === null || salt.length !== 20 || hash.length !== 20) return 'malformed hashed host';
    return { kind: 'hashed', salt, hash };
  }
  const patterns: HostPattern[] = [];
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const glob = (negated ? raw.slice(1) : raw).toLowerCase();
    if (glob === '') continue;
    patterns.push({ negated, glob });
  }
  if (patterns.length === 0) return 'empty host pattern list';
  return { kind: 'patterns', patterns };
}

/**
 * Parse known_hosts text. `source` names the file in entries (for logs). `onProblem` hears about
 * every line that was skipped as unreadable (not about comments, blank lines or `@cert-authority`).
 */
export function parseKnownHosts(text: string, source: string, onProblem?: (line: number, why: string) => void): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const trimmed = (lines[i] ?? '').replace(/\r$/, '').trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const fields = trimmed.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'] = null;
    if (fields[0]?.startsWith('@') === true) {
      const m = fields.shift();
      if (m === '@cert-authority') continue; // host certificates are not supported (see above)
      if (m !== '@revoked') {
        onProblem?.(lineNo, 'unknown marker');
        continue;
      }
      marker = 'revoked';
    }
    const [hostField, keyType, keyText] = fields;
    if (hostField === undefined || keyType === undefined || keyText === undefined) {
      onProblem?.(lineNo, 'expected: hostpatterns keytype base64key [comment]');
      continue;
    }
    const hosts = parseHosts(hostField);
    if (typeof hosts === 'string') {
      onProblem?.(lineNo, hosts);
      continue;
    }
    const key = decodeBase64(keyText);
    if (key === null) {
      onProblem?.(lineNo, 'key is not valid base64');
      continue;
    }
    if (keyTypeOfBlob(key) !== keyType) {
      onProblem?.(lineNo, 'key blob does not match its key type');
      continue;
    }
    entries.push({ source, line: lineNo, marker, hosts, keyType, key, fingerprint: sha256Fingerprint(key) });
  }
  return entries;
}

/** OpenSSH `match_pattern`: `*` any run (also empty), `?` exactly one character, the rest literal. */
export function globMatch(text: string, glob: string): boolean {
  // Iterative with one backtrack point: linear-ish, no regex built from file content.
  let t = 0;
  let g = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === '*') {
      star = g++;
      mark = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      g++;
      t++;
    } else if (star !== -1) {
      g = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (glob[g] === '*') g++;
  return g === glob.length;
}

/** Whether a line's host field names `host` on `port`. */
export function hostMatches(hosts: HostMatcher, host: string, port: number): boolean {
  const name = hostPortString(host, port);
  if (hosts.kind === 'hashed') {
    const mac = createHmac('sha1', hosts.salt).update(name).digest();
    return timingSafeEqual(mac, hosts.hash);
  }
  let matched = false;
  for (const p of hosts.patterns) {
    if (!globMatch(name, p.glob)) continue;
    if (p.negated) return false; // a matching negation vetoes the whole line
    matched = true;
  }
  return matched;
}

function stored(e: KnownHostEntry): StoredKey {
  return { keyType: e.keyType, fingerprint: e.fingerprint, source: e.source, line: e.line };
}

/**
 * Look the presented key up for `host` on `port`. Revocation wins over everything, then a
 * matching key, then a differing key of the same type; `keyType` is the type of the presented
 * blob (`ssh-rsa` for all RSA signature algorithms).
 */
export function lookup(entries: readonly KnownHostEntry[], host: string, port: number, keyType: string, keyBlob: Buffer): LookupResult {
  let match: KnownHostEntry | undefined;
  const sameType: StoredKey[] = [];
  const otherTypes: StoredKey[] = [];
  for (const e of entries) {
    if (!hostMatches(e.hosts, host, port)) continue;
    const same = e.key.equals(keyBlob);
    if (e.marker === 'revoked') {
      if (same) return { status: 'revoked', entry: e };
      continue;
    }
    if (same) match ??= e;
    else if (e.keyType === keyType) sameType.push(stored(e));
    else otherTypes.push(stored(e));
  }
  if (match !== undefined) return { status: 'match', entry: match };
  if (sameType.length > 0) return { status: 'mismatch', stored: sameType };
  return { status: 'unknown', otherTypes };
}

/** Host names the bridge will write: what the route accepts (DNS names, IPv4, IPv6 literals). */
const WRITABLE_HOST = /^[A-Za-z0-9._:-]+$/;

/**
 * A known_hosts line (without newline) OpenSSH accepts: `host keytype base64` on port 22,
 * `[host]:port keytype base64` otherwise. Written plain, not hashed: the file is the operator's
 * record of what users accepted and is easier to audit that way (`ssh-keygen -H -f FILE` hashes
 * it later if wanted; hashed lines are read back fine).
 * @throws {Error} for a host containing characters that would change the line's meaning.
 */
export function formatEntry(host: string, port: number, keyType: string, keyBase64: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (!WRITABLE_HOST.test(bare)) throw new Error('host name not writable to known_hosts');
  if (!/^[\x21-\x7e]+$/.test(keyType)) throw new Error('invalid key type');
  if (!BASE64.test(keyBase64)) throw new Error('key is not base64');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error('invalid port');
  return `${hostPortString(bare, port)} ${keyType} ${keyBase64}`;
}

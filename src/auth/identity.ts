/**
 * Who is using the gateway, once bridge authentication said yes, and what that identity may do.
 * A JWT can narrow both the targets (`webssh_targets`: HOST[:PORTS] rules, the allow-targets
 * syntax) and the SSH user names (`webssh_users`: exact names or globs with `*` and `?`).
 * Restrictions only narrow: the operator's target policy still applies to everyone.
 */
import { parseTargetRule, ruleMatchesAddress, ruleMatchesName, canonicalIp } from '../grammar/target-rule.js';
import { globToRegExp } from '../util/glob.js';

export type AuthMethodName = 'none' | 'token' | 'jwt' | 'proxy' | 'mtls' | 'ticket';

export interface Identity {
  /** How the identity was established (a ticket carries the method that got it). */
  readonly method: Exclude<AuthMethodName, 'ticket'>;
  /** Token name, JWT `sub`, proxy user or certificate subject; for logs. Never a secret. */
  readonly subject: string;
  /**
   * HOST[:PORTS] rules as given (validated when the identity was made); null: any target the
   * policy allows. Kept as text so an identity is plain data (it crosses process boundaries).
   */
  readonly targets: readonly string[] | null;
  /** null: any SSH user name. */
  readonly users: readonly string[] | null;
  /**
   * An operator: may list and fetch session recordings. From a JWT's `webssh_admin: true`, a
   * token line's `admin` flag, or (proxy and client-certificate identities) `--admin-subjects`.
   */
  readonly admin: boolean;
  /**
   * What the identity may do with files on its own word: `read` (list, stat, download) or
   * `write` (also upload, mkdir, rename, delete). From a JWT's `webssh_files` claim or a token
   * line's `files=read` flag; `write` for every other identity. The operator's
   * `--files-upload-subjects` narrows it further (`mayWriteFiles`).
   */
  readonly files: FilesAccess;
}

export type FilesAccess = 'read' | 'write';

export const ANONYMOUS: Identity = Object.freeze({ method: 'none', subject: 'anonymous', targets: null, users: null, admin: false, files: 'write' });


export function userAllowed(identity: Identity, username: string): boolean {
  return identity.users === null || identity.users.some((u) => globToRegExp(u).test(username));
}

/**
 * Whether the identity may reach `host:port`, given every address the name resolved to. Same
 * meaning as an allow list: a name rule matching the name, or an IP rule covering the address
 * that will be dialed.
 */
export function targetAllowed(identity: Identity, host: string, port: number, address: string): boolean {
  if (identity.targets === null) return true;
  const literal = canonicalIp(host) !== null;
  return identity.targets.some((text) => {
    const rule = parseTargetRule(text);
    return (!literal && ruleMatchesName(rule, host, port)) || ruleMatchesAddress(rule, address, port);
  });
}

/** The `webssh_admin` claim: absent is false; anything but a boolean throws an Error naming the claim. */
export function adminFromClaims(claims: Record<string, unknown>): boolean {
  const v = claims['webssh_admin'];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new Error('claim webssh_admin must be true or false');
  return v;
}

/**
 * Whether `subject` matches one of the `--admin-subjects` entries: exact names or globs with `*`
 * and `?` (src/util/glob.ts), case-sensitive.
 */
export function subjectIsAdmin(patterns: readonly string[], subject: string): boolean {
  return patterns.some((p) => globToRegExp(p).test(subject));
}

/** The `webssh_files` claim: absent is `write`; anything but "read" or "write" throws an Error naming the claim. */
export function filesFromClaims(claims: Record<string, unknown>): FilesAccess {
  const v = claims['webssh_files'];
  if (v === undefined) return 'write';
  if (v !== 'read' && v !== 'write') throw new Error('claim webssh_files must be "read" or "write"');
  return v;
}

/**
 * Whether the identity may change files (upload, mkdir, rename, delete): its own word
 * (`files`), and, when `--files-upload-subjects` lists any, a subject matching one of them
 * (exact or a glob, case-sensitive). Listing and downloading need neither.
 */
export function mayWriteFiles(identity: Pick<Identity, 'subject' | 'files'>, uploadSubjects: readonly string[]): boolean {
  return identity.files === 'write' && (uploadSubjects.length === 0 || subjectIsAdmin(uploadSubjects, identity.subject));
}

/** Why `mayWriteFiles` said no (FILES_READ_ONLY's detail): the identity's own word, or the operator's list. */
export function readOnlyWhy(identity: Pick<Identity, 'method' | 'files'>): string {
  if (identity.files === 'write') return 'not in files-upload-subjects';
  return identity.method === 'jwt' ? 'webssh_files is "read"' : 'the token is files=read';
}

/** Claim values -> restrictions; throws an Error naming the claim when a value has the wrong shape. */
export function restrictionsFromClaims(claims: Record<string, unknown>): { targets: string[] | null; users: string[] | null } {
  const strings = (name: string): string[] | null => {
    const v = claims[name];
    if (v === undefined) return null;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || !list.every((x): x is string => typeof x === 'string' && x.length > 0 && x.length <= 256) || list.length > 256) {
      throw new Error(`claim ${name} must be a string or an array of strings`);
    }
    return list;
  };
  const targets = strings('webssh_targets');
  const users = strings('webssh_users');
  if (targets !== null) {
    try {
      for (const t of targets) parseTargetRule(t);
    } catch {
      throw new Error('claim webssh_targets holds a rule that is not HOST[:PORTS]');
    }
  }
  return { targets, users };
}

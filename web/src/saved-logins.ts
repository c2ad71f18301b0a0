/**
 * Recent hosts and saved connection profiles (pure): their record shapes, reading them back from
 * stored JSON (a malformed store, or entry, is ignored, never thrown) and the list operations.
 * What they hold: host, port, username and the authentication method. Never a password, a
 * passphrase or a key's text: a profile may carry a private key only sealed (key-vault.ts), and
 * only when its user asked for it.
 *
 * Recent hosts are remembered after a login succeeds, newest first, one per user@host:port, at
 * most MAX_RECENT. Profiles have a name of their own (unique, case aside), at most MAX_PROFILES.
 */
import { parseSealedKey, type SealedKey } from './key-vault.js';
import { stripBrackets, targetLabel, validPort, type Credentials, type Target } from './target.js';

export type AuthMethod = Credentials['method'];

export const MAX_RECENT = 10;
export const MAX_PROFILES = 50;
export const MAX_PROFILE_NAME = 64;
/** A stored text longer than this is not read at all. */
const MAX_STORED_CHARS = 4 * 1024 * 1024;
const MAX_HOST = 255;
const MAX_USERNAME = 256;
const METHODS: readonly AuthMethod[] = ['password', 'publickey', 'keyboard-interactive'];

/** Where and as whom: what a recent host and a profile both fill in. */
export interface LoginTarget {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly method: AuthMethod;
}

export interface Profile extends LoginTarget {
  readonly name: string;
  /** The private key, sealed under the storage passphrase (only when the user asked). */
  readonly key?: SealedKey;
}

/** What a form shows for a recent host: `alice@host:22`. */
export function loginLabel(t: LoginTarget): string {
  return `${t.username}@${targetLabel(t)}`;
}

/** The identity of a recent host (user@host:port, the host's case aside). */
export function loginKey(t: LoginTarget): string {
  return `${t.username}@${targetLabel({ host: stripBrackets(t.host).toLowerCase(), port: t.port })}`;
}

/** The same target as `fixed` (fixed-target mode offers only its own entries). */
export function sameTarget(t: Target, fixed: Target): boolean {
  return stripBrackets(t.host).toLowerCase() === stripBrackets(fixed.host).toLowerCase() && t.port === fixed.port;
}

const hasControl = (s: string): boolean => Array.from(s).some((c) => c < ' ' || c === '\u007f');

/** A stored value as a LoginTarget, or null. */
function targetOf(value: unknown): LoginTarget | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const { host, port, username, method } = r;
  if (typeof host !== 'string' || host === '' || host.length > MAX_HOST || hasControl(host) || /\s/.test(host)) return null;
  if (typeof port !== 'number' || !validPort(port)) return null;
  if (typeof username !== 'string' || username === '' || username.length > MAX_USERNAME || hasControl(username)) return null;
  const m = METHODS.find((x) => x === method);
  if (m === undefined) return null;
  return { host: stripBrackets(host), port, username, method: m };
}

/** A profile name as typed, trimmed; '' when it cannot be one. */
export function profileName(text: string): string {
  const name = text.trim().replace(/\s+/g, ' ');
  return name.length > MAX_PROFILE_NAME || hasControl(name) ? '' : name;
}

const sameName = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

function profileOf(value: unknown): Profile | null {
  const t = targetOf(value);
  if (t === null) return null;
  const r = value as Record<string, unknown>;
  const name = typeof r['name'] === 'string' ? profileName(r['name']) : '';
  if (name === '' || name !== r['name']) return null;
  // A key that cannot be read is dropped; the profile stays.
  const key = r['key'] === undefined ? null : parseSealedKey(r['key']);
  return key === null ? { ...t, name } : { ...t, name, key };
}

function parseList(text: string | null): unknown[] {
  if (text === null || text.length > MAX_STORED_CHARS) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/** Stored recent hosts; anything unreadable counts as none. Newest first, one per user@host:port. */
export function parseRecent(text: string | null): LoginTarget[] {
  const out: LoginTarget[] = [];
  for (const v of parseList(text)) {
    const t = targetOf(v);
    if (t !== null && !out.some((o) => loginKey(o) === loginKey(t))) out.push(t);
    if (out.length === MAX_RECENT) break;
  }
  return out;
}

/** Stored profiles; anything unreadable counts as none. One per name. */
export function parseProfiles(text: string | null): Profile[] {
  const out: Profile[] = [];
  for (const v of parseList(text)) {
    const p = profileOf(v);
    if (p !== null && !out.some((o) => sameName(o.name, p.name))) out.push(p);
    if (out.length === MAX_PROFILES) break;
  }
  return out;
}

/** Only the fields of a LoginTarget (whatever else the value carries stays out of storage). */
function plain(t: LoginTarget): LoginTarget {
  return { host: stripBrackets(t.host), port: t.port, username: t.username, method: t.method };
}

/** After a login succeeded: `t` first, its older entry gone, at most MAX_RECENT. */
export function addRecent(list: readonly LoginTarget[], t: LoginTarget): LoginTarget[] {
  const key = loginKey(t);
  return [plain(t), ...list.filter((o) => loginKey(o) !== key)].slice(0, MAX_RECENT);
}

export function removeRecent(list: readonly LoginTarget[], key: string): LoginTarget[] {
  return list.filter((o) => loginKey(o) !== key);
}

export function findProfile(list: readonly Profile[], name: string): Profile | undefined {
  return list.find((p) => sameName(p.name, name));
}

export type ProfileChange =
  | { readonly ok: true; readonly list: Profile[] }
  | { readonly ok: false; readonly reason: 'name' | 'full' | 'taken' | 'missing' };

/** Save `t` as profile `name`: a new one at the end, or the one of that name replaced (in place). */
export function saveProfile(list: readonly Profile[], name: string, t: LoginTarget, key: SealedKey | null): ProfileChange {
  const n = profileName(name);
  if (n === '') return { ok: false, reason: 'name' };
  const p: Profile = key === null ? { ...plain(t), name: n } : { ...plain(t), name: n, key };
  const i = list.findIndex((o) => sameName(o.name, n));
  if (i >= 0) return { ok: true, list: list.map((o, j) => (j === i ? p : o)) };
  if (list.length >= MAX_PROFILES) return { ok: false, reason: 'full' };
  return { ok: true, list: [...list, p] };
}

/** Rename profile `from` to `to` (its key goes with it); another profile's name is refused. */
export function renameProfile(list: readonly Profile[], from: string, to: string): ProfileChange {
  const n = profileName(to);
  if (n === '') return { ok: false, reason: 'name' };
  const i = list.findIndex((o) => sameName(o.name, from));
  if (i < 0) return { ok: false, reason: 'missing' };
  if (list.some((o, j) => j !== i && sameName(o.name, n))) return { ok: false, reason: 'taken' };
  return { ok: true, list: list.map((o, j) => (j === i ? { ...o, name: n } : o)) };
}

/** Without profile `name` (and so without its stored key). */
export function removeProfile(list: readonly Profile[], name: string): Profile[] {
  return list.filter((o) => !sameName(o.name, name));
}

/** The sentence for a refused change. */
export function profileProblem(reason: Exclude<ProfileChange, { ok: true }>['reason'], name: string): string {
  switch (reason) {
    case 'name': return `Give the profile a name (at most ${MAX_PROFILE_NAME} characters).`;
    case 'full': return `There are already ${MAX_PROFILES} profiles; delete one first.`;
    case 'taken': return `There is already a profile named "${profileName(name)}".`;
    case 'missing': return 'That profile is gone (deleted in another tab?).';
  }
}

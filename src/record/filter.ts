/**
 * Which sessions are recorded (`--record-filter`): a list of `user:GLOB` and `target:GLOB`
 * entries. A session is recorded when the list is empty or any entry matches. `user:` globs are
 * matched against the SSH user name (case-sensitive, as SSH user names are), `target:` globs
 * against `host:port` as the client asked for it (after the route's normalization: lowercase,
 * no trailing dot, an IPv6 literal in brackets: `[fd00::1]:22`), case-insensitively.
 *
 * Globs know two special characters: `*` (any run of characters, none included) and `?` (one
 * character); everything else is literal. Validated by the option table (src/config/schema.ts)
 * with `parseRecordRule`, so a bad entry stops the start with exit 2.
 */
import { globToRegExp } from '../util/glob.js';

export interface RecordRule {
  readonly kind: 'user' | 'target';
  readonly glob: string;
}

const MAX_GLOB = 256;
/** What a target glob may contain: host name and IP characters, brackets, the port colon and the globs. */
const TARGET_GLOB = /^[A-Za-z0-9*?_.:[\]-]+$/;
/** C0 controls, DEL and C1 controls: never part of a user name (the protocol refuses them too). */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** `kind:glob` normalized (prefix lowercase, a target glob lowercase), or an error text. */
export function parseRecordRule(entry: string): RecordRule | { readonly error: string } {
  const m = /^(user|target):(.*)$/is.exec(entry);
  const bad = (why: string): { error: string } => ({ error: `"${entry}" is not a record rule (${why})` });
  if (m?.[1] === undefined || m[2] === undefined) return bad('expected user:GLOB or target:GLOB');
  const kind = m[1].toLowerCase() as RecordRule['kind'];
  const glob = m[2].trim();
  if (glob === '') return bad('the glob is empty');
  if (glob.length > MAX_GLOB) return bad(`the glob is longer than ${MAX_GLOB} characters`);
  if (kind === 'user' && CONTROL.test(glob)) return bad('control characters in the user glob');
  if (kind === 'target' && !TARGET_GLOB.test(glob)) return bad('a target glob is host:port with letters, digits, . - _ : [ ] and the globs * ?');
  return { kind, glob: kind === 'target' ? glob.toLowerCase() : glob };
}

/** The text form the configuration stores. */
export function formatRecordRule(rule: RecordRule): string {
  return `${rule.kind}:${rule.glob}`;
}


export class RecordFilter {
  readonly #users: readonly RegExp[];
  readonly #targets: readonly RegExp[];

  /** `entries` are validated rule texts (the configuration's `recordFilter`); throws on a bad one. */
  constructor(entries: readonly string[]) {
    const users: RegExp[] = [];
    const targets: RegExp[] = [];
    for (const entry of entries) {
      const rule = parseRecordRule(entry);
      if ('error' in rule) throw new Error(rule.error);
      if (rule.kind === 'user') users.push(globToRegExp(rule.glob, ''));
      else targets.push(globToRegExp(rule.glob, 'i'));
    }
    this.#users = users;
    this.#targets = targets;
  }

  /** True when no entry is configured or any entry matches. `target` is `host:port` as the client asked. */
  matches(username: string, target: string): boolean {
    if (this.#users.length === 0 && this.#targets.length === 0) return true;
    return this.#users.some((re) => re.test(username)) || this.#targets.some((re) => re.test(target));
  }
}

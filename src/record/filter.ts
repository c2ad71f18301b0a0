/**
 * Which sessions are recorded (`--record-filter`): a list of `user:GLOB` and `target:GLOB`
 * entries. A session is recorded when the list is empty or any entry matches. `user:` globs are
 * matched against the SSH user name (case-sensitive, as SSH user names are), `target:` globs
 * against `host:port` as the client asked for it (after the route's normalization: lowercase,
 * no trailing dot, an IPv6 literal in brackets: `[fd00::1]:22`), case-insensitively.
 *
 * Globs know two special characters: `*` (any run of characters, none included) and `?` (one
 * character); everything else is literal. The entry syntax is src/grammar/record-rule.ts; the
 * option table (src/config/schema.ts) validates with it, so a bad entry stops the start with exit 2.
 */
import { parseRecordRule } from '../grammar/record-rule.js';
import { globToRegExp } from '../util/glob.js';

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

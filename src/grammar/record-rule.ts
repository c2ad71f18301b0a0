/**
 * The `--record-filter` entry grammar: `user:GLOB` or `target:GLOB` (src/record/filter.ts says
 * what they match). Shared by the option table and the filter. Pure.
 */

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

/**
 * The human-readable log line (`--log-format pretty`): one pino record, already serialized and
 * redacted by pino, as `TIME LEVEL message key=value ...`. Pure: the logger (log.ts) parses each
 * JSON line it would have written and writes this instead, so redaction has happened before any
 * field gets here and the pretty form cannot show what the JSON form would not.
 *
 * Nested objects are flattened to dotted keys (`err.message=...`), so a line holds no JSON
 * braces; an error's stack follows on indented lines.
 */

const LEVELS: Readonly<Record<number, string>> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Fields every line has (or the line's head shows), left out of the key=value tail. */
const HEAD = new Set(['time', 'level', 'msg', 'service', 'pid', 'hostname']);

/** A plain word stays bare; anything with spaces, quotes, `=` or control characters is quoted. */
function value(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"'=\\]+$/.test(v) && !/\p{Cc}/u.test(v) ? v : JSON.stringify(v);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return String(v);
  return '-'; // a parsed JSON line holds nothing else
}

function flatten(prefix: string, v: unknown, out: string[], stacks: string[]): void {
  if (typeof v === 'object' && v !== null) {
    const entries = Array.isArray(v) ? v.map((e, i) => [String(i), e] as const) : Object.entries(v);
    if (entries.length === 0) out.push(`${prefix}=${Array.isArray(v) ? '[]' : '-'}`);
    for (const [k, inner] of entries) {
      if (k === 'stack' && typeof inner === 'string') stacks.push(inner);
      else flatten(prefix === '' ? k : `${prefix}.${k}`, inner, out, stacks);
    }
    return;
  }
  if (v !== undefined) out.push(`${prefix}=${value(v)}`);
}

/** `2026-12-07T13:03:58.236Z` -> `2026-12-07 13:03:58.236Z`; anything else as it is. */
function time(t: unknown): string {
  return typeof t === 'string' ? t.replace('T', ' ') : typeof t === 'number' ? new Date(t).toISOString().replace('T', ' ') : '-';
}

/** One record as text ending in a newline (more than one line when it carries a stack). */
export function prettyLine(record: Readonly<Record<string, unknown>>): string {
  const raw = record['level'];
  const level = typeof raw === 'number' ? (LEVELS[raw] ?? `L${raw}`) : typeof raw === 'string' ? raw.toUpperCase() : '-';
  const msg = typeof record['msg'] === 'string' ? record['msg'] : '';
  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (!HEAD.has(k)) flatten(k, v, fields, stacks);
  }
  // No control character reaches a person's terminal: not in the message, and quoted fields are JSON-escaped.
  const head = `${time(record['time'])} ${level.padEnd(5)} ${msg.replace(/\p{Cc}+/gu, ' ')}`;
  const tail = fields.length === 0 ? '' : `  ${fields.join(' ')}`;
  const stackLines = stacks.flatMap((s) => s.split('\n').slice(1).map((l) => `    ${l.trim()}\n`));
  return `${head}${tail}\n${stackLines.join('')}`;
}

/** `auto` is pretty for a person at a terminal and JSON for everything else (a pipe, a file, a log shipper). */
export function resolveLogFormat(setting: 'auto' | 'json' | 'pretty', stdoutIsTty: boolean): 'json' | 'pretty' {
  return setting === 'auto' ? (stdoutIsTty ? 'pretty' : 'json') : setting;
}

/**
 * The bridge's own account of the soak, tallied line by line from its JSON log as it comes (the
 * log is never kept whole: a storm writes one line per refusal): how its sessions ended
 * (`session_end` codes), how it refused upgrades, and its warnings and errors, the first few
 * kept verbatim for the report.
 */

/** Warning and error lines kept verbatim. */
const KEEP = 10;
/** pino's warn level. */
const WARN = 40;

export interface LogSummary {
  /** `session_end` lines by `code` (SHELL_EXITED, CLIENT_CLOSED, ...). */
  readonly sessionEnds: Record<string, number>;
  /** `upgrade refused` lines (HTTP or v1 close) by `code`. */
  readonly refusals: Record<string, number>;
  /** Lines at warn level or above, by `msg`. */
  readonly warnings: Record<string, number>;
  /** The first of those lines whose event the run did not cause on purpose, verbatim (cut at 500 characters). */
  readonly firstWarnings: readonly string[];
  /** Lines that were not JSON (stack traces, node warnings). */
  readonly otherLines: number;
}

export class LogTally {
  /** Warning events the run causes on purpose (counted, not kept verbatim). */
  readonly #expected: ReadonlySet<string>;
  readonly #sessionEnds = new Map<string, number>();
  readonly #refusals = new Map<string, number>();
  readonly #warnings = new Map<string, number>();
  readonly #first: string[] = [];
  #other = 0;

  constructor(expectedWarnings: readonly string[] = []) {
    this.#expected = new Set(expectedWarnings);
  }

  /** Feed one stdout line of the bridge (bound, so it can be handed to spawnBridge as is). */
  readonly line = (text: string): void => {
    let rec: { level?: unknown; event?: unknown; code?: unknown; msg?: unknown } | null;
    try {
      rec = JSON.parse(text) as typeof rec;
    } catch {
      if (text.trim() !== '') this.#other++;
      return;
    }
    if (rec === null || typeof rec !== 'object') return;
    const code = typeof rec.code === 'string' ? rec.code : '?';
    if (rec.event === 'session_end') bump(this.#sessionEnds, code);
    if (typeof rec.msg === 'string' && rec.msg.startsWith('upgrade refused')) bump(this.#refusals, code);
    if (typeof rec.level === 'number' && rec.level >= WARN) {
      bump(this.#warnings, typeof rec.msg === 'string' ? rec.msg : '?');
      const expected = typeof rec.event === 'string' && this.#expected.has(rec.event);
      if (!expected && this.#first.length < KEEP) this.#first.push(text.slice(0, 500));
    }
  };

  summary(): LogSummary {
    return {
      sessionEnds: Object.fromEntries(this.#sessionEnds),
      refusals: Object.fromEntries(this.#refusals),
      warnings: Object.fromEntries(this.#warnings),
      firstWarnings: [...this.#first],
      otherLines: this.#other,
    };
  }
}

function bump(m: Map<string, number>, key: string): void {
  m.set(key, (m.get(key) ?? 0) + 1);
}

/**
 * The tab's resume record, so a reload (or a restored or duplicated tab) picks the session up
 * again: sessionStorage (this tab only; a duplicated tab gets a copy, which it uses only when the
 * tab it was copied from no longer holds the session: session-claims.ts), never localStorage,
 * never a password. Two entries per pane (a frame pane's keys end in `.N`, workspace.ts):
 *
 * - `webssh-bridge.resume`: token, sessionId, target, username, graceMs, the output position,
 *   the terminal size and `aliveAt` (the last moment the session was known connected, or when it
 *   dropped: the bridge keeps it for graceMs from about then);
 * - `webssh-bridge.resumeScreen`: the serialized screen (at most 1000 lines of history and
 *   1,000,000 characters, fewer lines when that is too much) and the position it matches.
 *
 * The position stored is always the one of bytes xterm.js has parsed (the write callback ran),
 * which is exactly what the serialized screen shows; the resume starts from there.
 * Storage errors (quota, disabled storage) never escape: the record is then smaller or absent.
 */
import type { Connection } from './connection.js';
import type { Target } from './target.js';
import { validResumeToken } from './messages.js';
import type { TermView } from './terminal.js';

const META_KEY = 'webssh-bridge.resume';
const SCREEN_KEY = 'webssh-bridge.resumeScreen';
/** A frame pane's keys end in `.N` (all panes of a tab share its sessionStorage); pane 0 has none. */
const paneKey = (key: string, pane: number): string => (pane === 0 ? key : `${key}.${pane}`);
/** History lines to keep with the screen, tried in order until the result fits. */
const SCROLLBACK_STEPS: readonly number[] = [1000, 200, 0];
/** Characters of serialized screen at most (sessionStorage holds about 5 M characters per origin). */
export const MAX_SCREEN_CHARS = 1_000_000;
/** How often a connected session's record is refreshed (screen when output changed, else only `aliveAt`). */
export const KEEP_INTERVAL_MS = 10_000;
/** After output, the record is saved again this much later (at most once per this interval). */
export const SAVE_AFTER_OUTPUT_MS = 2_000;

export interface ResumeRecord {
  readonly token: string;
  readonly sessionId: string;
  readonly target: Target;
  readonly username: string;
  readonly graceMs: number;
  /** Output bytes the stored screen contains. */
  readonly position: number;
  readonly cols: number;
  readonly rows: number;
  /** `Date.now()` of the last moment the session was known connected (or of the drop). */
  readonly aliveAt: number;
}

export interface StoredSession {
  readonly record: ResumeRecord;
  /** Terminal data that rebuilds the screen at `record.cols` x `record.rows` ('' when none was kept). */
  readonly screen: string;
}

function storage(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // disabled (privacy settings, sandboxed frame)
  }
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 10000;

function recordOf(value: unknown): ResumeRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Record<string, unknown>;
  const target = r['target'];
  if (typeof target !== 'object' || target === null) return null;
  const host = (target as Record<string, unknown>)['host'];
  const port = (target as Record<string, unknown>)['port'];
  const { token, sessionId, username, graceMs, position, cols, rows, aliveAt } = r;
  if (typeof token !== 'string' || !validResumeToken(token) || typeof sessionId !== 'string' || typeof username !== 'string') return null;
  if (typeof host !== 'string' || host === '' || typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  if (!isCount(graceMs) || !isCount(position) || !isSize(cols) || !isSize(rows) || !isCount(aliveAt)) return null;
  return { token, sessionId, target: { host, port }, username, graceMs, position, cols, rows, aliveAt };
}

export class ResumeStore {
  #last: ResumeRecord | null = null;
  readonly #meta: string;
  readonly #screen: string;

  /** `pane`: 0 for the page's own session, N for the frame pane `?pane=N` (workspace.ts). */
  constructor(pane = 0) {
    this.#meta = paneKey(META_KEY, pane);
    this.#screen = paneKey(SCREEN_KEY, pane);
  }

  /** The stored session, if there is one whose grace period has not passed (else it is removed). */
  load(now: number = Date.now()): StoredSession | null {
    const store = storage();
    if (store === null) return null;
    let record: ResumeRecord | null = null;
    let screen = '';
    try {
      const meta = store.getItem(this.#meta);
      record = meta === null ? null : recordOf(JSON.parse(meta));
      const raw = store.getItem(this.#screen);
      if (record !== null && raw !== null) {
        const s = JSON.parse(raw) as unknown;
        if (typeof s === 'object' && s !== null) {
          const { sessionId, position, data } = s as Record<string, unknown>;
          if (sessionId === record.sessionId && position === record.position && typeof data === 'string') screen = data;
        }
      }
    } catch {
      record = null; // unreadable: start over
    }
    if (record === null || now - record.aliveAt >= record.graceMs) {
      this.clear();
      return null;
    }
    this.#last = record;
    return { record, screen };
  }

  /** Store the record and the screen that matches its position (`serialize(scrollbackLines)`). */
  save(record: ResumeRecord, serialize: (scrollback: number) => string): void {
    const store = storage();
    if (store === null) return;
    let screenStored = false;
    for (const lines of SCROLLBACK_STEPS) {
      const data = serialize(lines);
      if (data.length > MAX_SCREEN_CHARS) continue;
      try {
        store.setItem(this.#screen, JSON.stringify({ sessionId: record.sessionId, position: record.position, data }));
        screenStored = true;
        break;
      } catch {
        // quota: try with less history
      }
    }
    try {
      if (!screenStored) store.removeItem(this.#screen);
      store.setItem(this.#meta, JSON.stringify(record));
      this.#last = record;
    } catch {
      this.clear();
    }
  }

  /** The session is still connected: move `aliveAt` on (the screen and position stay as they are). */
  touch(aliveAt: number): void {
    const last = this.#last;
    const store = storage();
    if (last === null || store === null) return;
    const record = { ...last, aliveAt };
    try {
      store.setItem(this.#meta, JSON.stringify(record));
      this.#last = record;
    } catch { /* keep the older record */ }
  }

  clear(): void {
    this.#last = null;
    const store = storage();
    if (store === null) return;
    try {
      store.removeItem(this.#meta);
      store.removeItem(this.#screen);
    } catch { /* nothing stored */ }
  }
}

/**
 * Keeps the record in step with the connection: saved when the session starts or its token
 * rotates, when the page is hidden or unloaded, and SAVE_AFTER_OUTPUT_MS after output (so a
 * duplicated tab, which gets a copy without any pagehide, starts from a recent screen: the bridge
 * may already have dropped output the page acknowledged); `aliveAt` is refreshed every
 * KEEP_INTERVAL_MS while connected. Removed when the session is over.
 */
export class ResumeKeeper {
  readonly #store: ResumeStore;
  readonly #conn: Connection;
  readonly #view: TermView;
  #savedPosition = -1;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(store: ResumeStore, conn: Connection, view: TermView) {
    this.#store = store;
    this.#conn = conn;
    this.#view = view;
  }

  /** Save now: the screen as parsed so far, with the position of exactly those bytes. */
  save(): void {
    const state = this.#conn.resumeState();
    // No session: nothing to keep (an ended one was forgotten when it ended; a record this page
    // has not used yet, e.g. just copied into a duplicated tab, is not ours to remove).
    if (state === null) return;
    const position = this.#conn.parsedPosition;
    if (position === null) return; // a reset or restore is still queued: its mark saves again
    const { term } = this.#view;
    this.#store.save({
      token: state.token, sessionId: state.sessionId, target: state.target, username: state.username,
      graceMs: state.graceMs, position, cols: term.cols, rows: term.rows, aliveAt: state.droppedAt ?? Date.now(),
    }, (lines) => this.#view.serialize(lines));
    this.#savedPosition = position;
  }

  /** The session changed (started, token rotated, dropped, ended): save once the terminal caught up. */
  changed(): void {
    if (this.#conn.resumeState() === null) {
      this.forget();
      return;
    }
    this.#view.term.write('', () => this.save());
  }

  /** Output arrived: save a little later (one pending save at a time). */
  soon(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#conn.state === 'connected') this.save();
    }, SAVE_AFTER_OUTPUT_MS);
  }

  /** Periodic refresh while connected. */
  tick(): void {
    if (this.#conn.state !== 'connected' || this.#conn.resumeState() === null) return;
    const position = this.#conn.parsedPosition;
    if (position !== null && position !== this.#savedPosition) this.save();
    else this.#store.touch(Date.now());
  }

  forget(): void {
    this.#savedPosition = -1;
    this.#store.clear();
  }
}

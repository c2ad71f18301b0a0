/**
 * The terminal's resumable session as the page holds it (docs/protocol.md#resume): the grant of
 * the bridge (a single-use token, rotated by every `ready` and `resumed`, and the grace period),
 * the session id, and the outage being bridged by resume attempts, from the drop (or a stored
 * record's last sign of life) to the end of the grace period. Plain data and its steps: the
 * connection decides when (reconnect-rules.ts) and tells the page what changed.
 */
import type { ResumeGrant } from './messages.js';
import type { Target } from './target.js';

/** What the page keeps to resume the current session after a reload (never a password). */
export interface ResumeState {
  readonly token: string;
  readonly sessionId: string;
  readonly graceMs: number;
  readonly target: Target;
  readonly username: string;
  /** `Date.now()` when the socket dropped (the grace period runs from there); null while connected. */
  readonly droppedAt: number | null;
}

/** A stored session to resume from (a reload): the screen is already restored up to `position`. */
export interface ResumeStart {
  readonly token: string;
  readonly sessionId: string;
  readonly graceMs: number;
  readonly target: Target;
  readonly username: string;
  readonly position: number;
  /** `Date.now()` from which the grace period counts. */
  readonly since: number;
}

/** One outage of a resumable session: resume attempts go on until `deadline`. */
export interface Outage {
  readonly droppedAt: number;
  readonly deadline: number;
  /** Resume attempts that failed on the way (the backoff's count). */
  attempts: number;
}

export class ResumableSession {
  #grant: ResumeGrant | null = null;
  /** The current (or last) session; the grant, when there is one, is for this session. */
  #sessionId: string | null = null;
  #outage: Outage | null = null;
  #resumes = 0;

  /** The token of the next resume; null: nothing to resume (none, or resume is off on the bridge). */
  get token(): string | null { return this.#grant?.token ?? null; }
  get graceMs(): number | null { return this.#grant?.graceMs ?? null; }
  /** The current (or last) session's id. */
  get sessionId(): string | null { return this.#sessionId; }
  /** The outage being bridged, if any. */
  get outage(): Outage | null { return this.#outage; }
  /** Successful resumes on this page. */
  get resumes(): number { return this.#resumes; }

  /** For a reload: null when there is nothing to resume. */
  state(target: Target, username: string): ResumeState | null {
    const g = this.#grant;
    if (g === null || this.#sessionId === null) return null;
    return { token: g.token, sessionId: this.#sessionId, graceMs: g.graceMs, target, username, droppedAt: this.#outage?.droppedAt ?? null };
  }

  /** `ready`: a new session (`grant` null when resume is off on the bridge). */
  began(sessionId: string, grant: ResumeGrant | null): void {
    this.#outage = null;
    this.#sessionId = sessionId;
    this.#grant = grant;
  }

  /** `resumed` with its next grant; an empty `sessionId` means the same session. */
  resumed(sessionId: string, grant: ResumeGrant | null): void {
    if (sessionId !== '') this.#sessionId = sessionId;
    this.#grant = grant;
    this.#outage = null;
    this.#resumes++;
  }

  /** The socket dropped: the outage runs until `deadline`. */
  dropped(droppedAt: number, deadline: number): void {
    this.#outage = { droppedAt, deadline, attempts: 0 };
  }

  /** A stored record after a reload: its grant, and an outage counted from its last sign of life. */
  restore(from: ResumeStart): void {
    this.#grant = { token: from.token, graceMs: from.graceMs };
    this.#sessionId = from.sessionId;
    this.#outage = { droppedAt: from.since, deadline: from.since + from.graceMs, attempts: 0 };
  }

  /** Forget the session (it ended, or a new login replaces it); true when a grant was held. */
  end(): boolean {
    this.#outage = null;
    if (this.#grant === null) return false;
    this.#grant = null;
    return true;
  }
}

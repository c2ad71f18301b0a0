/**
 * What a closed socket of the terminal's connection leads to: pure, so the reconnect and resume
 * rules (docs/protocol.md#resume) read in one place and are tested by feeding them values.
 *
 * - The shell ended (`exit`, or 1000 without an `error`), the session was taken over by another
 *   tab or window (4008), or the gateway restarts (1012): over for good.
 * - A resumable session's socket dropped without a close from us (1006, 1005, 1001, 4004, a pong
 *   timeout, a stalled socket): resume at once, then with backoff (1 s, 2 s, 4 s ... 30 s, or the
 *   Retry-After up to 60 s) until the bridge's grace period since the drop is over. A failed
 *   attempt is repeated while it is the network or passing gateway trouble (an upgrade that fails
 *   is 1006 before the socket opened); a gateway credential problem brings the form back; a
 *   refusal (4007 RESUME_INVALID) or a grace period that ran out falls back to a new login with the
 *   same credentials, the terminal then says so (NEW_SESSION_NOTE).
 * - Otherwise ending.ts decides: an automatic new login (5 attempts) after a lost session that
 *   had worked, or the end with a sentence.
 */
import { retryDelay } from './backoff.js';
import { decideEnding } from './ending.js';
import { catalogueCode, describeClose, type CloseInfo } from './errors.js';
import { isCredentialProblem } from './gateway-auth.js';
import type { ExitInfo } from './gateway-socket.js';

/** A Retry-After longer than this is not waited for by an automatic retry. */
export const MAX_RETRY_AFTER_S = 60;

/** Note written into the fresh terminal when a resume was refused and a new login took its place. */
export const NEW_SESSION_NOTE = 'The previous session could not be resumed; this is a new session.';

export interface SessionEnd {
  /** exit: the shell ended; user: Disconnect; error: a failure; retrying: a retry is scheduled. */
  readonly kind: 'exit' | 'user' | 'error' | 'retrying';
  readonly message: string;
  /** Whether a session of this login ever reached `ready` (the terminal holds its output). */
  readonly hadSession: boolean;
  /** Whether the socket that just closed had reached `ready` (its output is on screen). */
  readonly wasReady: boolean;
  readonly retryInSeconds?: number;
  readonly attempt?: number;
  /** The catalogue code of the failure (`BRIDGE_AUTH_REQUIRED`, `SSH_AUTH_FAILED` ...), when there is one. */
  readonly code: string | null;
  /** Retrying means resuming the same session (nothing is written into the terminal meanwhile). */
  readonly resuming?: boolean;
}

/** Everything a close is decided on. */
export interface CloseFacts {
  /** The close; `wasReady` says whether this socket reached `ready` (or `resumed`). */
  readonly info: CloseInfo;
  readonly exit: ExitInfo | null;
  /** The socket was a resume attempt that had not got `resumed`. */
  readonly resuming: boolean;
  /** The grace period of the resumable session (null: none, or resume is off on the bridge). */
  readonly graceMs: number | null;
  /** The outage being bridged by resume attempts, if any. */
  readonly cycle: { readonly deadline: number; readonly attempts: number } | null;
  /** A session of this login reached `ready` at some point. */
  readonly hadSession: boolean;
  /** The credentials are in memory, so a new login can be made (not after a reload). */
  readonly canLogIn: boolean;
  /** Automatic new logins already made in this outage. */
  readonly attempts: number;
  /** `Date.now()`. */
  readonly now: number;
}

export type CloseStep =
  /** Over: the state text for the status line and the end to report. */
  | { readonly kind: 'end'; readonly status: string; readonly end: SessionEnd }
  /** A new login after `delay` seconds (retry number `attempt`); `note` goes into its terminal. */
  | { readonly kind: 'retry'; readonly delay: number; readonly attempt: number; readonly note: string | null; readonly end: SessionEnd }
  /** The socket of a resumable session dropped: resume now; the outage runs from `droppedAt` to `deadline`. */
  | { readonly kind: 'resume'; readonly droppedAt: number; readonly deadline: number; readonly end: SessionEnd }
  /** A resume attempt failed on the way: attempt number `attempt` after `delay` seconds. */
  | { readonly kind: 'resume-later'; readonly delay: number; readonly attempt: number };

/** Closes after which the bridge keeps a resumable session: a drop without a close from us. */
export function isDrop(info: CloseInfo): boolean {
  const code = catalogueCode(info);
  if (code !== null) return code === 'PONG_TIMEOUT' || code === 'CLIENT_STALLED';
  return info.code === 1006 || info.code === 1005 || info.code === 1001 || info.code === 4004;
}

/** A failed resume attempt worth repeating (the network, passing gateway trouble). */
export function resumeRetryable(info: CloseInfo): boolean {
  const code = catalogueCode(info);
  if (code !== null) {
    return ['TICKET_INVALID', 'TICKETS_FULL', 'BRIDGE_AUTH_UNAVAILABLE', 'CLUSTER_UNAVAILABLE', 'RATE_LIMITED', 'LIMIT_TOTAL',
      'LIMIT_PER_IP', 'LIMIT_PER_TARGET', 'PONG_TIMEOUT', 'CLIENT_STALLED'].includes(code);
  }
  return info.code === 1006 || info.code === 1005 || info.code === 1013;
}

/** Seconds before new login number `attempt`: the backoff, or a longer Retry-After up to 60 s. */
export function retryDelaySeconds(attempt: number, retryAfter: number): number {
  return Math.max(retryDelay(attempt), Math.min(retryAfter, MAX_RETRY_AFTER_S));
}

/** Seconds before resume attempt number `attempt`: as a new login's, but never much past the deadline. */
export function resumeDelaySeconds(attempt: number, retryAfter: number, msLeft: number): number {
  return Math.min(retryDelaySeconds(attempt, retryAfter), Math.max(1, Math.ceil(msLeft / 1000)));
}

export function decideClose(facts: CloseFacts): CloseStep {
  const { info } = facts;
  const code = catalogueCode(info);
  const normalEnd = facts.exit !== null || (info.code === 1000 && info.error === null);
  if (normalEnd || code === 'SESSION_TAKEN_OVER' || info.code === 4008 || code === 'RESTARTING' || info.code === 1012) {
    return ending(facts, code);
  }
  if (facts.resuming) return resumeFailed(facts, code);
  if (facts.graceMs !== null && info.wasReady && isDrop(info)) {
    // The bridge keeps the session for graceMs: pick it up again from where the terminal is.
    return {
      kind: 'resume', droppedAt: facts.now, deadline: facts.now + facts.graceMs,
      end: { kind: 'retrying', message: describeClose(info), hadSession: true, wasReady: true, code, resuming: true },
    };
  }
  return ending(facts, code);
}

/** The policy for a lost or ended session (ending.ts): an automatic new login, or the end. */
function ending(facts: CloseFacts, code: string | null): CloseStep {
  const { info } = facts;
  const end = decideEnding({ info, exit: facts.exit, hadSession: facts.hadSession && facts.canLogIn, attempts: facts.attempts });
  if (end.kind === 'retry') return retry(facts, end.message, code, info.retryAfter ?? 0, facts.attempts + 1, null);
  return {
    kind: 'end', status: end.kind === 'exit' ? end.status : 'closed',
    end: { kind: end.kind, message: end.message, hadSession: facts.hadSession, wasReady: info.wasReady, code },
  };
}

function resumeFailed(facts: CloseFacts, code: string | null): CloseStep {
  const { info, cycle } = facts;
  if (cycle === null) return ending(facts, code);
  if (isCredentialProblem(code)) {
    // The gateway wants a (new) credential: the form is the way on, nothing is retried.
    return { kind: 'end', status: 'closed', end: { kind: 'error', message: describeClose(info), hadSession: facts.hadSession, wasReady: false, code } };
  }
  if (!resumeRetryable(info)) {
    const why = describeClose(info);
    return resumeRefused(facts, /could not be resumed/.test(why) ? why : `The session could not be resumed. ${why}`, code);
  }
  if (facts.now >= cycle.deadline) {
    return resumeRefused(facts, 'The session could not be resumed in time (the gateway keeps it only for a while).', 'RESUME_EXPIRED');
  }
  const attempt = cycle.attempts + 1;
  return { kind: 'resume-later', attempt, delay: resumeDelaySeconds(attempt, info.retryAfter ?? 0, cycle.deadline - facts.now) };
}

/** The bridge will not give the session back: log in again if we can, else say so. */
function resumeRefused(facts: CloseFacts, message: string, code: string | null): CloseStep {
  if (facts.canLogIn) return retry(facts, `${message} Logging in again for a new session.`, code, 0, 1, NEW_SESSION_NOTE);
  return { kind: 'end', status: 'closed', end: { kind: 'error', message: `${message} Log in to start a new session.`, hadSession: false, wasReady: false, code } };
}

function retry(facts: CloseFacts, message: string, code: string | null, retryAfter: number, attempt: number, note: string | null): CloseStep {
  const delay = retryDelaySeconds(attempt, retryAfter);
  return {
    kind: 'retry', delay, attempt, note,
    end: { kind: 'retrying', message, hadSession: true, wasReady: facts.info.wasReady, retryInSeconds: delay, attempt, code },
  };
}

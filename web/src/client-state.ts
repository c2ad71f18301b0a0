/**
 * The page connection's state table (connection.ts), the only place its phase changes: like the
 * server's src/session/state.ts, a transition table and one check-and-set. The page runs one
 * callback at a time, so a check-and-set inside one synchronous call is atomic.
 *
 * A login (the form's Connect, or Reconnect) goes OPENING (ticket request, socket opening) ->
 * AUTHENTICATING (`auth` sent: the SSH login with its host-key and keyboard-interactive
 * questions; keystrokes already go out) -> READY (`ready`: a session on a live socket). A
 * resumable session whose socket dropped goes READY -> RESUMING (`?resume=`, waiting for
 * `resumed`) -> READY, or through RESUME_WAIT (backoff within the bridge's grace period) while
 * attempts fail. RETRY_WAIT is the backoff before a new login after a lost session. Every close
 * is decided by reconnect-rules.ts; the user's Disconnect goes to CLOSED from anywhere.
 *
 * The phase also says what the socket may carry: input and resize from AUTHENTICATING on, share
 * requests only when READY, output except while RESUMING (nothing comes before `resumed`).
 */
import type { ConnState } from './status.js';

export const Phase = {
  IDLE: 'idle',
  OPENING: 'opening',
  AUTHENTICATING: 'authenticating',
  READY: 'ready',
  RESUMING: 'resuming',
  RETRY_WAIT: 'retry-wait',
  RESUME_WAIT: 'resume-wait',
  CLOSED: 'closed',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** A new login (start, Reconnect) may replace any phase; Disconnect may end any. */
const TRANSITIONS: Readonly<Record<Phase, readonly Phase[]>> = {
  idle: ['opening', 'resuming', 'closed'],
  opening: ['opening', 'authenticating', 'ready', 'retry-wait', 'closed'],
  authenticating: ['opening', 'ready', 'retry-wait', 'closed'],
  ready: ['opening', 'resuming', 'retry-wait', 'closed'],
  resuming: ['opening', 'ready', 'resume-wait', 'retry-wait', 'closed'],
  'retry-wait': ['opening', 'closed'],
  'resume-wait': ['opening', 'resuming', 'closed'],
  closed: ['opening', 'closed'],
};

export function isValidTransition(from: Phase, to: Phase): boolean {
  return TRANSITIONS[from].includes(to);
}

/**
 * What the status line and the test hooks call the phase. A login attempt after a lost session
 * (`relogin`: an automatic retry is counting) is `reconnecting`, a first one `connecting`.
 */
export function connStateOf(phase: Phase, relogin: boolean): ConnState {
  switch (phase) {
    case Phase.IDLE:
      return 'idle';
    case Phase.OPENING:
    case Phase.AUTHENTICATING:
      return relogin ? 'reconnecting' : 'connecting';
    case Phase.READY:
      return 'connected';
    case Phase.RESUMING:
    case Phase.RETRY_WAIT:
    case Phase.RESUME_WAIT:
      return 'reconnecting';
    case Phase.CLOSED:
      return 'closed';
  }
}

/** Keystrokes, pastes and resizes go out (the login has sent `auth`, or the session is back). */
export function acceptsInput(phase: Phase): boolean {
  return phase === Phase.AUTHENTICATING || phase === Phase.READY;
}

export class ClientStateMachine {
  #phase: Phase = Phase.IDLE;
  #socketReady = false;

  get phase(): Phase {
    return this.#phase;
  }

  /**
   * Whether the current (or last) socket reached READY: its output is on screen. Reset by every
   * new attempt (OPENING, RESUMING).
   */
  get socketReady(): boolean {
    return this.#socketReady;
  }

  /** Move to `to` if the table allows it from the current phase; false: the caller's guard was wrong. */
  transitionTo(to: Phase): boolean {
    if (!isValidTransition(this.#phase, to)) return false;
    this.#phase = to;
    if (to === Phase.READY) this.#socketReady = true;
    else if (to === Phase.OPENING || to === Phase.RESUMING) this.#socketReady = false;
    return true;
  }
}

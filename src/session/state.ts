/**
 * The session state table, the only place a session's state changes. JavaScript runs one
 * callback at a time, so a check-and-set inside one synchronous call is atomic: of any number of
 * contenders (even ones that resumed from different `await`s) exactly one wins a transition,
 * because the loser sees the state the winner left behind.
 *
 * DETACHED (resume, docs/protocol.md#resume): ACTIVE -> DETACHED when a resumable session's socket
 * drops; DETACHED -> ACTIVE when a client resumes it; DETACHED -> CLOSING when the grace period
 * ends, on drain, or when the shell ends meanwhile.
 */

export const SessionState = {
  CREATED: 'CREATED',
  CONNECTING: 'CONNECTING',
  ACTIVE: 'ACTIVE',
  /** A resumable session whose socket dropped: the shell runs on, output goes to the resume log. */
  DETACHED: 'DETACHED',
  CLOSING: 'CLOSING',
  CLOSED: 'CLOSED',
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

const TRANSITIONS: Readonly<Record<SessionState, readonly SessionState[]>> = {
  CREATED: ['CONNECTING', 'CLOSING'],
  CONNECTING: ['ACTIVE', 'CLOSING'],
  ACTIVE: ['DETACHED', 'CLOSING'],
  DETACHED: ['ACTIVE', 'CLOSING'],
  CLOSING: ['CLOSED'],
  CLOSED: [],
};

export function isValidTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Called after each successful transition with the time spent in the state that was left. */
export type TransitionObserver = (from: SessionState, to: SessionState, msInFrom: number) => void;

export class SessionStateMachine {
  #state: SessionState = SessionState.CREATED;
  #enteredAt: number;
  readonly #now: () => number;
  readonly #observer: TransitionObserver | undefined;

  constructor(observer?: TransitionObserver, now: () => number = () => performance.now()) {
    this.#observer = observer;
    this.#now = now;
    this.#enteredAt = now();
  }

  get state(): SessionState {
    return this.#state;
  }

  /** Move to `to` if the table allows it from the current state; false means another caller won. */
  transitionTo(to: SessionState): boolean {
    const from = this.#state;
    if (!isValidTransition(from, to)) return false;
    this.#state = to;
    const now = this.#now();
    const spent = now - this.#enteredAt;
    this.#enteredAt = now;
    this.#observer?.(from, to, spent);
    return true;
  }

  /** Transition only from `expected`: for steps that must not fire from any other state. */
  compareAndTransition(expected: SessionState, to: SessionState): boolean {
    return this.#state === expected && this.transitionTo(to);
  }

  isActive(): boolean {
    return this.#state === SessionState.ACTIVE;
  }

  /** CLOSING or CLOSED: no new work may start. */
  isClosed(): boolean {
    return this.#state === SessionState.CLOSING || this.#state === SessionState.CLOSED;
  }

  canClose(): boolean {
    return isValidTransition(this.#state, SessionState.CLOSING);
  }
}

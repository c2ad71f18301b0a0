/**
 * What a failed SSH login tells the user about the login ban (docs/protocol.md, `error`), pure:
 * nothing while more than ATTEMPTS_WARNING attempts are left; then `attemptsLeft` and `banSeconds`
 * (how long the ban will last); when this failure started the ban (or met one), `attemptsLeft: 0`
 * and `retryAfter`, the seconds the ban has left, as an AUTH_BANNED refusal would say.
 */
import type { ErrorNotice } from '../protocol/types.js';

/** At or below this many attempts left, a failed login says how many. */
export const ATTEMPTS_WARNING = 2;

/** The ban's count after one failure, as the gate answers it (null: the login ban is off). */
export interface LoginTally {
  /** Failures the address may still make before it is banned; 0: it is banned now. */
  readonly attemptsLeft: number;
  /** How long the address is blocked: the ban's length, or while banned, the seconds it has left. */
  readonly banSeconds: number;
}

export function attemptsNotice(tally: LoginTally | null): ErrorNotice {
  if (tally === null || tally.attemptsLeft > ATTEMPTS_WARNING) return {};
  if (tally.attemptsLeft <= 0) return { attemptsLeft: 0, retryAfter: tally.banSeconds };
  return { attemptsLeft: tally.attemptsLeft, banSeconds: tally.banSeconds };
}
